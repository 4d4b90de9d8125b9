from datetime import timedelta

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningSecurity(DunningCommon):

    def test_multi_company_isolation(self):
        self._invoice(self.START)
        self._run(self.START)
        comm = self._comms()
        self.assertTrue(comm)
        other = self.setup_other_company()["company"]
        user_b = new_test_user(
            self.env, login="acc_b", groups="account.group_account_user",
            company_id=other.id, company_ids=[(6, 0, other.ids)])
        Comm_b = self.Comm.with_user(user_b)
        self.assertFalse(Comm_b.search([("id", "=", comm.id)]))
        with self.assertRaises(AccessError):
            comm.with_user(user_b).read(["amount_total"])
        # a run in company B plans nothing from company A
        self.assertFalse(self.env["dunning.plan"]._dunning_plan(
            today=self.START + timedelta(days=7), companies=other))

    def test_groups(self):
        invoicing = new_test_user(self.env, login="billing", groups="account.group_account_invoice")
        user = new_test_user(self.env, login="dun_user", groups="dunning_chain.group_dunning_user")
        manager = new_test_user(self.env, login="dun_mgr", groups="dunning_chain.group_dunning_manager")
        # only managers configure the chain
        with self.assertRaises(AccessError):
            self.policy.with_user(user).write({"minimum_amount": 5})
        self.policy.with_user(manager).write({"minimum_amount": 5})
        self.assertTrue(self.policy.with_user(invoicing).name)
        # users review and send; invoicing users only read
        self._invoice(self.START)
        self.policy.mode = "review"
        self._run(self.START)
        comm = self._comms()
        with self.assertRaises(AccessError):
            comm.with_user(invoicing).action_approve()
        comm.with_user(user).action_approve()
        self.assertEqual(comm.state, "scheduled")
        # accountants are dunning users through their accounting group
        accountant = new_test_user(self.env, login="acc", groups="account.group_account_user")
        self.assertTrue(accountant.has_group("dunning_chain.group_dunning_user"))

    def test_public_actions_refuse_users_with_fewer_rights(self):
        """Every public method of the record is reachable over RPC: the rights decide."""
        from odoo.exceptions import UserError
        from odoo.service import model as rpc
        self.policy.level_ids.filtered(lambda lvl: lvl.offset_days == 30).channel_ids.write(
            {"mail_template_id": False})  # a letter to post
        self._invoice(self.START)
        for offset in (0, 7, 15, 30):
            self._run(self.START + timedelta(days=offset))
        letter = self._comms(channel="letter")
        self.assertEqual(letter.delivery_state, "to_post")
        billing = new_test_user(self.env, login="sec_billing",
                                groups="account.group_account_invoice")
        employee = new_test_user(self.env, login="sec_employee", groups="base.group_user")
        dunning_user = new_test_user(self.env, login="sec_dun_user",
                                     groups="dunning_chain.group_dunning_user")
        calls = [
            ("dunning.communication", "action_mark_posted", [letter.ids]),
            ("dunning.communication", "action_dunning_refresh_delivery", [letter.ids]),
            ("dunning.communication", "action_verify_hash_chain", [letter.ids]),
            ("dunning.communication", "action_send_now", [letter.ids]),
            ("dunning.communication", "action_dunning_refresh_delivery", [letter.ids]),
            ("dunning.evidence.anchor", "action_dunning_anchor_now", [[]]),
            ("dunning.evidence.anchor", "action_dunning_verify_all", [[]]),
        ]
        for user in (billing, employee):
            for model, method, args in calls:
                env = self.env(user=user.id, context={})
                with self.assertRaises(UserError, msg=f"{user.login} {method}"):  # or AccessError
                    rpc.call_kw(env[model], method, args, {})
                    env.flush_all()
        self.assertEqual(letter.delivery_state, "to_post", "nothing changed")
        self.assertFalse(self.env["dunning.evidence.anchor"].search([]))
        # a dunning user verifies, marks posted; anchoring is for managers
        env = self.env(user=dunning_user.id, context={})
        rpc.call_kw(env["dunning.communication"], "action_verify_hash_chain", [letter.ids], {})
        rpc.call_kw(env["dunning.communication"], "action_mark_posted", [letter.ids], {})
        self.assertEqual(letter.delivery_state, "posted")
        with self.assertRaises(UserError):
            rpc.call_kw(env["dunning.evidence.anchor"], "action_dunning_anchor_now", [[]], {})
