"""The payment journey on real invoices and payments: the invoice issued step, the thank-you
after a real payment only, a payment that comes back. (Failed online payments need Odoo's
payment transactions: dunning_portal/tests/test_portal_payment_failed.py.)"""
from datetime import timedelta

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import format_date

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningPaymentJourney(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.issued = cls.env.ref("dunning_chain.level_invoice_issued")
        cls.failed_policy = cls.env.ref("dunning_chain.policy_failed_payment")

    def _issued_comms(self):
        return self._comms(level_id=self.issued.id)

    # ------------------------------------------------------------------ invoice issued
    def test_invoice_issued_is_an_optional_step_off_by_default(self):
        self.assertFalse(self.issued.active, "shipped off")
        self.assertIn(self.issued, self.policy.level_ids, "listed in the policy form")
        self.assertNotIn(self.issued, self.policy._levels_by_offset())
        self._invoice(self.START + timedelta(days=30))  # issued on START
        self._run(self.START)
        self.assertFalse(self._comms(), "nothing while the step is off")

    def test_invoice_issued_on_the_posting_day_in_the_window_once(self):
        self.issued.active = True
        invoice = self._invoice(self.START + timedelta(days=30))  # issued on START (Monday)
        old = self._invoice(self.START + timedelta(days=20))  # issued 10 days ago
        self.assertEqual(invoice.invoice_date, self.START)
        # 07:00 in Madrid: planned for the opening of the window, not sent
        planned = self._run(self.START, hour=6)
        self.assertEqual(planned.level_id, self.issued)
        self.assertEqual(planned.state, "scheduled")
        self.assertEqual(planned.line_ids.move_id, invoice, "an invoice of the past is not announced")
        self.assertEqual(planned.scheduled_at.hour, 8, "09:00 in Madrid (UTC+1)")
        self.assertIn("issued on", planned.reason)
        # sent once its moment has come, with the invoice PDF, its due date and the link
        self._run(self.START, hour=10)
        comm = self._issued_comms()
        self.assertEqual(len(comm), 1)
        self.assertEqual(comm.state, "sent")
        self.assertTrue(comm.attachment_ids, "the invoice is attached")
        self.assertIn(invoice.name, comm.subject)
        self.assertIn(invoice.name, comm.body)
        self.assertIn(format_date(self.env, invoice.invoice_date_due), comm.body)
        self.assertIn("1,000.00", comm.body)
        self.assertIn(comm.customer_url, comm.body)
        self.assertIn("How to pay", comm.body)
        self.assertFalse(invoice.dunning_level_id, "the chain's place of the invoice is untouched")
        self.assertNotIn(old, self._comms().line_ids.move_id)
        # never again, on the following days either
        for day in (1, 2, 3, 4):
            self._run(self.START + timedelta(days=day))
        self.assertEqual(len(self._issued_comms()), 1)
        # the due-date chain follows as usual
        self._run(self.START + timedelta(days=30))
        due = self._comms(level_id=self.levels[0].id)
        self.assertEqual(due.line_ids.move_id, invoice)
        self.assertEqual(invoice.dunning_level_id, self.levels[0])
        self.assertEqual(len(self._issued_comms()), 1)

    def test_invoice_issued_once_even_if_its_message_was_cancelled(self):
        self.issued.active = True
        self._invoice(self.START + timedelta(days=30))
        planned = self._run(self.START, hour=6)
        planned.action_cancel()
        self._run(self.START, hour=10)
        self._run(self.START + timedelta(days=1))
        self.assertEqual(self._issued_comms(), planned, "never planned twice")

    def test_levels_are_unique_per_date_they_count_from(self):
        self.assertEqual(self.issued.offset_days, self.levels[0].offset_days)
        with self.assertRaises(ValidationError):
            self.failed_policy.level_ids[:1].count_from = "invoice"
        self.failed_policy.retry_days = 5
        self.assertEqual(self.env.ref("dunning_chain.level_payment_retry").offset_days, 5)
        self.assertEqual(self.issued.display_name, "Invoice issued (on the invoice date)")
        self.assertEqual(self.env.ref("dunning_chain.level_payment_failed").display_name,
                         "Payment did not go through (at once)")

    # ------------------------------------------------------------------ thanks
    def _write_off(self, invoice):
        receivable = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        entry = self.env["account.move"].create({
            "move_type": "entry", "date": invoice.invoice_date, "line_ids": [
                Command.create({"account_id": receivable.account_id.id,
                                "partner_id": invoice.commercial_partner_id.id,
                                "credit": invoice.amount_residual}),
                Command.create({"account_id": self.company_data["default_account_expense"].id,
                                "debit": invoice.amount_residual}),
            ]})
        entry.action_post()
        (entry.line_ids.filtered(lambda line: line.account_id == receivable.account_id)
         | receivable).reconcile()

    def test_thank_you_only_when_a_real_payment_settled_the_invoice(self):
        paid = self._invoice(self.START, amount=100.0)
        credited = self._invoice(self.START, amount=200.0)
        written_off = self._invoice(self.START, amount=300.0)
        self._run(self.START)
        self.assertEqual(self._comms().line_ids.move_id, paid | credited | written_off)
        self._pay(paid, day=self.START + timedelta(days=1))
        refund = self._create_invoice_one_line(
            move_type="out_refund", price_unit=200.0, partner_id=self.customer.id,
            invoice_date=self.START, tax_ids=[], post=True)
        (refund.line_ids | credited.line_ids).filtered(
            lambda line: line.display_type == "payment_term").reconcile()
        self._write_off(written_off)
        self.assertEqual(written_off.payment_state, "paid", "Odoo calls a write-off paid")
        self.assertEqual(credited.payment_state, "reversed")
        self.assertTrue(paid._dunning_settled_by_payment())
        self.assertFalse(written_off._dunning_settled_by_payment())
        self._run(self.START + timedelta(days=2))
        thanks = self._comms(kind="thanks")
        self.assertEqual(thanks.state, "sent")
        self.assertEqual(thanks.line_ids.move_id, paid, "thanks for the payment only")
        for invoice in (paid, credited, written_off):
            self.assertFalse(invoice.dunning_level_id, "every settled invoice leaves the chain")
        self.assertTrue(paid.dunning_paid_at)
        self.assertFalse(written_off.dunning_paid_at, "nothing to come back")

    def test_no_thank_you_for_a_written_off_invoice_alone(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        self._write_off(invoice)
        self._run(self.START + timedelta(days=1))
        self.assertFalse(self._comms(kind="thanks"))
        self.assertFalse(invoice.dunning_level_id)

    # ------------------------------------------------------------------ returned payments
    def test_returned_payment_goes_back_to_its_level_and_says_so(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        self._run(self.START + timedelta(days=7))
        self.assertEqual(invoice.dunning_level_id, self.levels[7])
        payment = self._pay(invoice, day=self.START + timedelta(days=8))
        self._run(self.START + timedelta(days=8))
        thanks = self._comms(kind="thanks")
        self.assertEqual(thanks.state, "sent")
        self.assertFalse(invoice.dunning_level_id, "paid: out of the chain")
        self.assertEqual(invoice.dunning_thanked_on, self.START + timedelta(days=8))
        # the bank returns the direct debit: Odoo's reversal of the payment's entry
        with freeze_time(f"{(self.START + timedelta(days=9)).isoformat()} 08:00:00"):
            payment.move_id._reverse_moves(cancel=True)
        self.assertEqual(invoice.payment_state, "not_paid")
        self._run(self.START + timedelta(days=9))
        message = self._comms(kind="returned")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.line_ids.move_id, invoice)
        self.assertEqual(invoice.dunning_level_id, self.levels[7], "back where it stood")
        self.assertIn("returned", message.subject)
        self.assertIn("We thanked you on %s" % format_date(
            self.env, self.START + timedelta(days=8)), message.body)
        self.assertIn("your bank has since returned it", message.body)
        self.assertIn(message.customer_url, message.body)
        activity = invoice.activity_ids.filtered(lambda a: "Payment returned" in a.summary)
        self.assertEqual(activity.user_id, invoice._dunning_responsible())
        self.assertTrue(invoice.message_ids.filtered(lambda m: "came back" in (m.body or "")))
        # the chain goes on from there: the next step when its day comes, nothing twice
        self._run(self.START + timedelta(days=10))
        self.assertEqual(len(self._comms(kind="returned")), 1)
        self.assertFalse(self._comms(level_id=self.levels[15].id))
        self._run(self.START + timedelta(days=15))
        self.assertEqual(self._comms(level_id=self.levels[15].id).line_ids.move_id, invoice)
        self.assertEqual(invoice.dunning_level_id, self.levels[15])

    def test_unreconciled_payment_without_thank_you(self):
        self.policy.thank_you_template_id = False
        invoice = self._invoice(self.START)
        self._run(self.START)
        self._pay(invoice, day=self.START + timedelta(days=1))
        self._run(self.START + timedelta(days=1))
        self.assertFalse(self._comms(kind="thanks"))
        invoice.line_ids.filtered(
            lambda line: line.display_type == "payment_term").remove_move_reconcile()
        self.assertEqual(invoice.payment_state, "not_paid")
        self._run(self.START + timedelta(days=2))
        message = self._comms(kind="returned")
        self.assertEqual(message.state, "sent")
        self.assertNotIn("We thanked you", message.body, "no thank-you to refer to")
        self.assertEqual(invoice.dunning_level_id, self.levels[0])

    def test_thank_you_still_planned_is_withdrawn_when_the_payment_comes_back(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        payment = self._pay(invoice, day=self.START + timedelta(days=5))
        # Saturday: the thank-you waits for Monday
        self._run(self.START + timedelta(days=5))
        thanks = self._comms(kind="thanks")
        self.assertEqual(thanks.state, "scheduled")
        payment.move_id._reverse_moves(cancel=True)
        self._run(self.START + timedelta(days=6))
        self.assertEqual(thanks.state, "cancelled")
        self.assertFalse(thanks.line_ids)
        self.assertEqual(self._comms(kind="returned").line_ids.move_id, invoice)
        self.assertEqual(invoice.dunning_level_id, self.levels[0])
