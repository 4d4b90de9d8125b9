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
