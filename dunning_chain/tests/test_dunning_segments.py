"""Segments choose the policy (unless the customer has its own), levels can be limited to
segments, and the channels a customer refused are left out of its chain with the reason."""
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.service import model as rpc
from odoo.tests import freeze_time, new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningSegments(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Segment = cls.env["dunning.segment"]
        cls.strict = cls.policy.copy({"name": "Strict"})
        cls.spain = cls.env.ref("base.es")
        cls.customer.phone = "+34 910 000 001"
        cls.email_template = cls.levels[7].channel_ids.mail_template_id

    def _rate_d(self, partner):
        """Two disputed invoices of two: rated D."""
        with freeze_time(f"{self.START.isoformat()} 12:00:00"):
            for _i in range(2):
                self._invoice(self.START, amount=10.0, partner=partner)._dunning_dispute("No")
        self.assertEqual(partner.dunning_rating, "D")

    # ---------------------------------------------------------------- policy
    def test_segment_chooses_the_policy_unless_the_customer_has_one(self):
        self.Segment.create({"name": "Rating D", "rating_d": True, "policy_id": self.strict.id})
        self._rate_d(self.customer)
        self.assertEqual(self.customer._dunning_policy_and_reason(),
                         (self.strict, "Strict (segment 'Rating D')"))
        self.assertEqual(self.customer._dunning_policy(), self.strict)
        self.assertEqual(self.customer.dunning_policy_applied, "Strict (segment 'Rating D')")
        # a customer the segment does not hold: the company's default, said so
        self.assertEqual(self.customer2.dunning_policy_applied,
                         f"{self.policy.display_name} (the company's default)")
        # the customer's own policy wins over any segment
        gentle = self.policy.copy({"name": "Gentle"})
        self.customer.dunning_policy_id = gentle
        self.customer.invalidate_recordset(["dunning_policy_applied"])
        self.assertEqual(self.customer._dunning_policy_and_reason(),
                         (gentle, "Gentle (set on the customer)"))
        # segments are tried in sequence: the first naming a policy gives it
        self.customer.dunning_policy_id = False
        self.Segment.create({"name": "Levels only", "sequence": 1, "rating_d": True})
        self.Segment.create({"name": "First", "sequence": 2, "rating_d": True,
                             "policy_id": gentle.id})
        self.assertEqual(self.customer._dunning_policy_and_reason()[1],
                         "Gentle (segment 'First')")

    def test_planner_follows_the_segments_policy_by_country_and_amount(self):
        self.Segment.create({"name": "Big Spanish debts", "country_ids": [Command.set(
            self.spain.ids)], "amount_min": 500.0, "policy_id": self.strict.id})
        (self.customer | self.customer2).country_id = self.spain
        self._invoice(self.START, amount=1000.0)
        self._invoice(self.START, amount=100.0, partner=self.customer2)
        planned = self._run(self.START + timedelta(days=7))
        big = planned.filtered(lambda c: c.partner_id == self.customer)
        small = planned.filtered(lambda c: c.partner_id == self.customer2)
        self.assertEqual((big.policy_id, big.level_id.policy_id), (self.strict, self.strict))
        self.assertEqual(big.level_id.offset_days, 7)
        self.assertEqual(small.policy_id, self.policy, "below the band: the default policy")

    # ---------------------------------------------------------------- levels for segments
    def test_level_limited_to_a_segment(self):
        vip = self.env["res.partner.category"].create({"name": "VIP"})
        segment = self.Segment.create({"name": "VIP", "category_ids": [Command.set(vip.ids)]})
        courtesy = self.env["dunning.level"].create({
            "policy_id": self.policy.id, "name": "VIP courtesy call-off", "offset_days": 3,
            "segment_ids": [Command.set(segment.ids)],
            "channel_ids": [Command.create({"channel": "email",
                                            "mail_template_id": self.email_template.id})]})
        self.assertEqual(segment.level_ids, courtesy)
        self.customer.category_id = vip
        self._invoice(self.START)
        self._invoice(self.START, partner=self.customer2)
        self._run(self.START)  # both: due today
        planned = self._run(self.START + timedelta(days=3))
        self.assertEqual(planned.partner_id, self.customer)
        self.assertEqual(planned.level_id, courtesy)
        # the customers it holds, among those owing
        with freeze_time(f"{(self.START + timedelta(days=3)).isoformat()} 12:00:00"):
            action = segment.action_view_customers()
        customers = self.env["res.partner"].search(action["domain"])
        self.assertIn(self.customer, customers)
        self.assertNotIn(self.customer2, customers)
        # a level limited to an archived segment goes to nobody (not to everybody)
        segment.active = False
        planner = self.env["dunning.plan"]
        key = (self.customer2.id, self.env.company.id)
        profile = planner._dunning_profiles(self.customer2, {key}, self.START)[key]
        self.assertNotIn(courtesy, planner._dunning_levels_for(
            self.policy._levels_by_offset(), profile)[0])
        # nor to everybody when the segment is another company's (out of the user's sight)
        segment.write({"active": True, "company_id": self.setup_other_company()["company"].id})
        planner = planner.with_context(allowed_company_ids=self.env.company.ids)
        courtesy.invalidate_recordset(["segment_ids"])
        self.assertFalse(courtesy.with_env(planner.env).segment_ids, "out of sight")
        profile = planner._dunning_profiles(self.customer2, {key}, self.START)[key]
        self.assertNotIn(courtesy, planner._dunning_levels_for(
            self.policy._levels_by_offset(), profile)[0])

    def test_pre_due_notice_for_a_rating_segment_instead_of_late_payers(self):
        """The late payers' pre-due notice, given to a segment of customers rated D instead."""
        notice = self.levels[-3]
        segment = self.Segment.create({"name": "Rated C or D", "rating_c": True,
                                       "rating_d": True})
        notice.write({"late_payers_only": False, "segment_ids": [Command.set(segment.ids)]})
        self._rate_d(self.customer)
        self._invoice(self.START + timedelta(days=3))
        self._invoice(self.START + timedelta(days=3), partner=self.customer2)
        planned = self._run(self.START)
        self.assertEqual(planned.partner_id, self.customer)
        self.assertEqual(planned.level_id, notice)

    # ---------------------------------------------------------------- channel preferences
    def test_no_call_skips_the_call_step_with_the_reason(self):
        self.customer.dunning_no_call = True
        invoice = self._invoice(self.START)
        for offset in (0, 7):
            self._run(self.START + timedelta(days=offset))
        with freeze_time(f"{(self.START + timedelta(days=15)).isoformat()} 10:00:00"):
            action = self.policy.action_preview()
            preview = self.env["dunning.preview.wizard"].browse(action["res_id"])
        self.assertFalse(preview.line_ids, "nothing to do on the call's day")
        self.assertFalse(self._run(self.START + timedelta(days=15)))
        self.assertEqual(invoice.dunning_level_id, self.levels[7], "the call step is not taken")
        letter = self._run(self.START + timedelta(days=30))
        self.assertEqual(letter.level_id, self.levels[30], "the chain goes on")
        self.assertIn("step Phone call (+15 days) left out: no call: the customer prefers "
                      "e-mail", letter.reason)
        self.assertFalse(self._comms(channel="call"))

    def test_no_call_keeps_the_other_channels_of_the_step(self):
        self.levels[15].channel_ids = [Command.create({
            "channel": "email", "mail_template_id": self.email_template.id})]
        self.customer.dunning_no_call = True
        self._invoice(self.START)
        self._run(self.START + timedelta(days=7))
        with freeze_time(f"{(self.START + timedelta(days=15)).isoformat()} 10:00:00"):
            preview = self.env["dunning.preview.wizard"].browse(
                self.policy.action_preview()["res_id"])
        self.assertEqual(preview.line_ids.channels, "E-mail")
        self.assertIn("Phone call left out: no call: the customer prefers e-mail",
                      preview.line_ids.reason)
        planned = self._run(self.START + timedelta(days=15))
        self.assertEqual(planned.mapped("channel"), ["email"])
        self.assertIn("Phone call left out: no call: the customer prefers e-mail", planned.reason)

    def test_call_refused_after_planning_is_cancelled_when_due(self):
        invoice = self._invoice(self.START)
        for offset in (0, 7):
            self._run(self.START + timedelta(days=offset))
        with freeze_time(f"{(self.START + timedelta(days=15)).isoformat()} 08:00:00"):
            call = self.env["dunning.plan"]._dunning_plan()
        self.assertEqual((call.channel, call.state), ("call", "scheduled"))
        collector = new_test_user(
            self.env, login="seg_collector",
            groups="dunning_chain.group_dunning_user,base.group_partner_manager")
        self.customer.with_user(collector).dunning_no_call = True
        self._run(self.START + timedelta(days=15), hour=11)
        self.assertEqual(call.state, "cancelled")
        self.assertEqual(call.failure_reason, "no call: the customer prefers e-mail")
        self.assertEqual(self._run(self.START + timedelta(days=30)).level_id, self.levels[30])
        self.assertEqual(invoice.dunning_level_id, self.levels[30])

    # ---------------------------------------------------------------- rights
    def test_rights_over_rpc(self):
        segment = self.Segment.create({"name": "Rating D", "rating_d": True,
                                       "policy_id": self.strict.id})
        billing = new_test_user(self.env, login="seg_billing",
                                groups="account.group_account_invoice,base.group_partner_manager")
        portal = new_test_user(self.env, login="seg_portal", groups="base.group_portal")
        user = new_test_user(self.env, login="seg_user",
                             groups="dunning_chain.group_dunning_user,base.group_partner_manager")
        manager = new_test_user(self.env, login="seg_mgr",
                                groups="dunning_chain.group_dunning_manager")
        for who in (billing, portal):
            env = self.env(user=who.id, context={})
            for method, args in (("create", [{"name": "Mine"}]),
                                 ("write", [segment.ids, {"name": "Renamed"}]),
                                 ("search_read", [[]]),
                                 ("action_view_customers", [segment.ids])):
                with self.assertRaises(AccessError, msg=f"{who.login} {method}"):
                    rpc.call_kw(env["dunning.segment"], method, args, {})
        # a salesperson editing contacts does not decide how a customer is chased
        with self.assertRaisesRegex(AccessError, "dunning_no_call"):
            self.customer.with_user(billing).write({"dunning_no_call": True})
        # dunning users read segments and set preferences; managers configure segments
        env = self.env(user=user.id, context={})
        self.assertTrue(rpc.call_kw(env["dunning.segment"], "search_read", [[]],
                                    {"fields": ["name"]}))
        with self.assertRaises(AccessError):
            rpc.call_kw(env["dunning.segment"], "write", [segment.ids, {"name": "X"}], {})
        self.customer.with_user(user).write({"dunning_no_call": True})
        env = self.env(user=manager.id, context={})
        rpc.call_kw(env["dunning.segment"], "write", [segment.ids, {"name": "Rated D"}], {})
        self.assertEqual(segment.name, "Rated D")
        # a segment of one company is invisible to the other and does not apply there
        other = self.setup_other_company()["company"]
        user_b = new_test_user(self.env, login="seg_b", groups="account.group_account_manager",
                               company_id=other.id, company_ids=[Command.set(other.ids)])
        self.assertFalse(self.Segment.with_user(user_b).search([]))
        self._rate_d(self.customer)
        self.assertNotEqual(self.customer._dunning_policy(other), self.strict)
