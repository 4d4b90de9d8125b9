import json
import shutil
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestDunningCallsTour(HttpCase):
    """In a real browser: marking the chain's call done in the chatter opens the Call Outcome
    form (static/src/activity/), and the Collector's Day logs an outcome from its list
    (static/tests/tours/dunning_call_tour.js)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        admin = cls.env.ref("base.user_admin")
        admin.group_ids = [Command.link(cls.env.ref("dunning_chain.group_dunning_user").id)]
        cls.customer = cls.env["res.partner"].create({
            "name": "Tour Calls Customer", "email": "ap@tourcalls.example.com",
            "phone": "+34 910 000 002", "is_company": True, "tz": admin.tz or "Europe/Madrid",
            "user_id": admin.id,
        })
        today = fields.Date.context_today(cls.env["account.move"])
        cls.invoice = cls.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": cls.customer.id,
            "invoice_date": today - timedelta(days=46),
            "invoice_line_ids": [Command.create({"name": "Service", "quantity": 1,
                                                 "price_unit": 750.0, "tax_ids": []})],
        })
        cls.invoice.invoice_date_due = today - timedelta(days=16)
        cls.invoice.action_post()
        cls.call = cls.env["dunning.plan"]._dunning_plan(
            companies=cls.invoice.company_id).filtered(lambda c: c.partner_id == cls.customer)
        assert cls.call.channel == "call", cls.call.mapped("channel")
        cls.env["dunning.send"]._dunning_mark_sent(cls.call, cls.call._dunning_send_call())
        cls.task = cls.call.activity_id
        cls.task.date_deadline = today  # whatever the hour: due today

    def _outcomes(self):
        self.env.invalidate_all()
        return [json.loads(e.data)["outcome"] for e in self.call.event_ids if e.kind == "call"]

    def test_mark_done_opens_the_call_outcome_form(self):
        self.assertTrue(shutil.which("chromium") or shutil.which("chromium-browser")
                        or shutil.which("google-chrome"), "a browser is needed: no skip here")
        self.start_tour(f"/odoo/res.partner/{self.customer.id}", "dunning_call_outcome_tour",
                        login="admin")
        self.assertEqual(self._outcomes(), ["promise"])
        self.assertEqual(self.invoice.dunning_promise_state, "open")
        self.assertEqual(self.invoice.dunning_promise_date,
                         fields.Date.context_today(self.invoice) + timedelta(days=10))
        self.assertFalse(self.task.active)
        self.assertIn("600.00", self.task.feedback)
        self.assertFalse(self.env["dunning.evidence"]._dunning_verify(
            self.env["dunning.evidence"]._dunning_chain_keys(self.call)))

    def test_collectors_day_logs_an_outcome(self):
        self.start_tour("/odoo/action-dunning_chain.action_dunning_call_desk",
                        "dunning_collector_day_tour", login="admin")
        self.assertEqual(self._outcomes(), ["no_answer"])
        self.assertFalse(self.task.active)
        retry = self.call.activity_id
        self.assertTrue(retry.active)
        self.assertGreater(retry.date_deadline, self.task.date_deadline)

    def test_mark_done_in_the_activity_popover(self):
        self.start_tour("/odoo/action-account.res_partner_action_customer?view_type=list",
                        "dunning_call_popover_tour", login="admin")
        self.assertEqual(self._outcomes(), ["reached"])
        self.assertFalse(self.task.active)
        self.assertIn("Paying by transfer this week", self.task.feedback)
