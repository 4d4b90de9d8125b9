"""The payment journey on real invoices and payments: the thank-you after a real payment
only."""
from datetime import timedelta

from odoo import Command
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningPaymentJourney(DunningCommon):

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

    def test_no_thank_you_for_a_written_off_invoice_alone(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        self._write_off(invoice)
        self._run(self.START + timedelta(days=1))
        self.assertFalse(self._comms(kind="thanks"))
        self.assertFalse(invoice.dunning_level_id)
