from datetime import timedelta

from odoo import Command, fields
from odoo.tests import freeze_time, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningPlan(DunningCommon):
    """The planner: which level each invoice reaches, grouped how, reviewed when, previewed."""

    def test_grouping_one_message_lists_all_invoices(self):
        inv1 = self._invoice(self.START, amount=100.0)
        inv2 = self._invoice(self.START - timedelta(days=2), amount=250.0)
        self._run(self.START + timedelta(days=7))
        comm = self._comms()
        self.assertEqual(len(comm), 1)
        self.assertEqual(comm.invoice_ids, inv1 | inv2)
        self.assertEqual(comm.amount_total, 350.0)
        self.assertIn(inv1.name, comm.body)
        self.assertIn(inv2.name, comm.body)

    def test_grouping_per_invoice(self):
        self.policy.grouping = "invoice"
        self._invoice(self.START, amount=100.0)
        self._invoice(self.START, amount=250.0)
        self._run(self.START + timedelta(days=7))
        comms = self._comms()
        self.assertEqual(len(comms), 2)
        self.assertEqual(sorted(comms.mapped("amount_total")), [100.0, 250.0])

    def test_skipped_levels_no_burst(self):
        """An invoice 40 days late when the chain starts gets the +30 level only."""
        invoice = self._invoice(self.START - timedelta(days=40))
        self._run(self.START)
        comms = self._comms()
        self.assertEqual(comms.level_id, self.levels[30])
        self.assertEqual(len(comms), 1)
        self.assertIn("skipped", comms.reason)
        self.assertEqual(invoice.dunning_level_id, self.levels[30])

    def test_minimum_amount(self):
        self.policy.minimum_amount = 500.0
        self._invoice(self.START, amount=100.0)
        self._run(self.START + timedelta(days=7))
        self.assertFalse(self._comms())

    def test_instalments_are_dunned_by_their_own_due_date(self):
        term = self.env["account.payment.term"].create({
            "name": "Half now, half in 60 days",
            "line_ids": [
                Command.create({"value": "percent", "value_amount": 50, "nb_days": 0}),
                Command.create({"value": "percent", "value_amount": 50, "nb_days": 60}),
            ],
        })
        invoice = self._create_invoice_one_line(
            price_unit=1000.0, partner_id=self.customer.id, invoice_date=self.START,
            invoice_payment_term_id=term.id, tax_ids=[], post=True)
        self._run(self.START + timedelta(days=7))
        comm = self._comms()
        self.assertEqual(comm.level_id, self.levels[7])
        self.assertEqual(comm.line_ids.amount_overdue, 500.0, "only the first instalment is overdue")
        # the first instalment is paid: the chain starts again for the second one
        self._pay(invoice, amount=500.0, day=self.START + timedelta(days=8))
        self._run(self.START + timedelta(days=20))
        self.assertEqual(len(self._comms()), 1, "the second instalment is not due yet")
        self._run(self.START + timedelta(days=60))
        second = self._comms()[1:]
        self.assertEqual(second.level_id, self.levels[0])
        self.assertEqual(second.line_ids.due_date, self.START + timedelta(days=60))

    def test_late_payer_gets_friendly_notice_before_due(self):
        old = self._invoice(self.START - timedelta(days=60))
        self._pay(old, day=self.START - timedelta(days=40))  # paid 20 days late
        self.assertGreater(self.customer.dunning_avg_days_late, 5)
        self._invoice(self.START + timedelta(days=3))
        self._run(self.START)
        comm = self._comms()
        self.assertEqual(comm.level_id, self.levels[-3])
        self.assertIn("due soon", comm.body)

    def test_review_mode(self):
        self.policy.mode = "review"
        self._invoice(self.START)
        self._run(self.START)
        comm = self._comms()
        self.assertEqual(comm.state, "to_review")
        self._run(self.START, hour=11)
        self.assertEqual(comm.state, "to_review", "nothing leaves without approval")
        comm.action_approve()
        self._run(self.START, hour=12)
        self.assertEqual(comm.state, "sent")

    def test_cancel_restores_previous_level(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        self.policy.mode = "review"
        self._run(self.START + timedelta(days=7))
        planned = self._comms(state="to_review")
        self.assertEqual(invoice.dunning_level_id, self.levels[7])
        planned.action_cancel()
        self.assertEqual(invoice.dunning_level_id, self.levels[0])

    def test_preview_sends_nothing(self):
        self._invoice(self.START - timedelta(days=8))
        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            action = self.policy.action_preview()
            wizard = self.env["dunning.preview.wizard"].browse(action["res_id"])
        self.assertEqual(wizard.line_ids.partner_id, self.customer)
        self.assertEqual(wizard.line_ids.level_id, self.levels[7])
        self.assertFalse(self._comms())

    def test_planned_mid_minute_goes_out_in_the_same_run(self):
        """A run planning at 10:00:30 sends in that same run (not an hour later)."""
        self._invoice(self.START)
        with freeze_time(f"{self.START.isoformat()} 10:00:30"):
            self.env["dunning.plan"]._dunning_plan()
            self.env["dunning.send"]._dunning_send_due()
        self.assertEqual(self._comms().state, "sent")

    def test_overdue_by_customer_aging_buckets(self):
        today = fields.Date.today()  # the view ages against the database date (UTC)
        for days, amount in ((-5, 10.0), (3, 20.0), (45, 40.0), (75, 80.0), (120, 160.0)):
            self._invoice(today - timedelta(days=days), amount=amount)
        partial = self._invoice(today - timedelta(days=10), amount=100.0)
        self._pay(partial, amount=60.0)
        self._pay(self._invoice(today - timedelta(days=200), amount=999.0))  # paid: not owed
        self.env.flush_all()
        row = self.env["dunning.aging"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(
            (row.amount_not_due, row.amount_1_30, row.amount_31_60, row.amount_61_90,
             row.amount_over_90, row.amount_overdue, row.amount_total),
            (10.0, 60.0, 40.0, 80.0, 160.0, 340.0, 350.0))
        self.assertEqual(row.invoice_count, 6)
