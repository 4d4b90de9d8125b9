"""A call's outcome may be a payment plan agreed on the phone: with the portal installed, the
Call Outcome form offers it, records it and opens the back-office plan form."""
import json
from datetime import timedelta

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, new_test_user, tagged

from odoo.addons.dunning_chain.tests.common import DunningCommon

PLAN_WIZARD = "dunning.instalment.plan.wizard"


@tagged("post_install", "-at_install")
class TestPortalCallPlan(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector = new_test_user(cls.env, login="dun_plan_collector",
                                      groups="dunning_chain.group_dunning_user")
        cls.billing = new_test_user(cls.env, login="dun_plan_billing",
                                    groups="account.group_account_invoice")
        cls.customer.user_id = cls.collector

    def _call(self):
        invoices = self._invoice(self.START, 900.0) | self._invoice(self.START, 300.0)
        for offset in (0, 7, 15):
            self._run(self.START + timedelta(days=offset))
        call = self._comms(channel="call")
        self.assertEqual((call.state, call.delivery_state), ("sent", "task"))
        return invoices, call

    def test_plan_outcome_recorded_then_the_plan_form_opens(self):
        invoices, call = self._call()
        task = call.activity_id
        outcomes = dict(self.env["dunning.call.outcome"]._fields["outcome"]._description_selection(
            self.env))
        self.assertEqual(outcomes["plan"], "Agreed a payment plan")
        self.assertEqual(list(outcomes)[-2:], ["plan", "other"], "before Other")
        with freeze_time("2026-03-17 11:00:00"):
            wizard = self.env["dunning.call.outcome"].with_user(self.collector).create({
                "communication_id": call.id, "outcome": "plan",
                "note": "Three monthly instalments from April"})
            self.assertEqual(wizard.move_ids, invoices)
            wizard.move_ids = invoices[0]
            action = wizard.action_confirm()
        self.assertEqual((action["type"], action["res_model"], action["target"]),
                         ("ir.actions.act_window", PLAN_WIZARD, "new"))
        self.assertEqual(action["context"]["default_partner_id"], self.customer.id)
        self.assertEqual(action["context"]["default_invoice_ids"], invoices[0].ids)
        [event] = call.event_ids.filtered(lambda e: e.kind == "call")
        self.assertEqual(event.description, "Agreed a payment plan")
        data = json.loads(event.data)
        self.assertEqual((data["outcome"], data["invoices"]), ("plan", invoices[0].mapped("name")))
        self.assertFalse(task.active, "the call's task is done")
        self.assertIn("Agreed a payment plan", task.with_context(active_test=False).feedback)
        if PLAN_WIZARD in self.env:  # the back-office plan form opens on the call's terms
            plan = self.env[PLAN_WIZARD].with_user(self.collector).with_context(
                action["context"]).create({})
            self.assertEqual(plan.partner_id, self.customer)
            self.assertEqual(plan.invoice_ids, invoices[0])

    def test_plan_outcome_refused_to_a_billing_user(self):
        _invoices, call = self._call()
        with self.assertRaises(AccessError):
            self.env["dunning.call.outcome"].with_user(self.billing).create(
                {"communication_id": call.id, "outcome": "plan"})
        wizard = self.env["dunning.call.outcome"].create(
            {"communication_id": call.id, "outcome": "plan"})
        with self.assertRaises(AccessError):
            wizard.with_user(self.billing).action_confirm()
        self.assertFalse(call.event_ids.filtered(lambda e: e.kind == "call"))
