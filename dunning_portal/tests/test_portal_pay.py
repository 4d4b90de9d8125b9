from datetime import timedelta

from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import DunningPortalPayCommon


@tagged("post_install", "-at_install")
class TestDunningPortalPay(DunningPortalPayCommon):
    """Pay one invoice (Odoo's invoice page) or every overdue one (Odoo's overdue payment page
    and transaction, reachable from the signed link)."""

    def test_pay_one_invoice_from_signed_link(self):
        page = self.url_open(self.link).text
        url = f"{self.link}/invoice/{self.inv_old.id}/pay"
        self.assertIn(url, page)
        res = self.url_open(url)
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.inv_old.name, res.text, "the payment reference is the invoice")
        self.assertIn("o_payment_form", res.text, "Odoo's payment form")
        self.assertIn("1,200.00", res.text)
        result = self.make_jsonrpc_request(f"{self.link}/invoice/{self.inv_old.id}/transaction",
                                           self._tx_params(self.inv_old.name))
        tx = self.env["payment.transaction"].sudo().search([("reference", "=", result["reference"])])
        self.assertEqual(tx.invoice_ids, self.inv_old)
        self.assertAlmostEqual(tx.amount, 1200.0)
        self.assertEqual(tx.partner_id, self.customer)

    def test_pay_all_overdue_from_signed_link(self):
        page = self.url_open(self.link).text
        self.assertIn(f"{self.link}/pay", page)
        res = self.url_open(f"{self.link}/pay")
        self.assertEqual(res.status_code, 200)
        self.assertIn("o_payment_form", res.text)
        self.assertIn("1,500.00", res.text)
        self.assertIn(f"{self.link}/transaction", res.text)
        # the transaction covers every overdue invoice, for the server's amount
        result = self.make_jsonrpc_request(f"{self.link}/transaction", self._tx_params("BATCH"))
        tx = self.env["payment.transaction"].sudo().search([("reference", "=", result["reference"])])
        self.assertEqual(tx.invoice_ids, self.inv_old | self.inv_new)
        self.assertAlmostEqual(tx.amount, 1500.0)
        self.assertEqual(tx.partner_id, self.customer)
        # once paid (here registered by hand: the dummy provider has no journal), the
        # invoice leaves the page and the total
        self._pay(self.inv_old)
        page = self.url_open(self.link).text
        self.assertNotIn(self.inv_old.name, page)
        self.assertIn("300.00", page)
        self.assertNotIn("1,500.00", page)

    def test_pay_all_with_bad_token_refused(self):
        link = self._link(self.customer2)
        bad = link[:-1] + ("0" if link[-1] != "0" else "1")
        res = self.url_open(f"{bad}/pay")
        self.assertEqual(res.status_code, 403)
        with self.assertRaises(JsonRpcException) as caught, mute_logger("odoo.http"):
            self.make_jsonrpc_request(f"{bad}/transaction", self._tx_params("X", bad))
        self.assertIn("ValidationError", str(caught.exception))
        self.assertFalse(self.env["payment.transaction"].sudo().search(
            [("invoice_ids", "in", self.inv_other.ids)]))

    def test_pay_all_leaves_out_disputed_invoice(self):
        third = self._invoice(self.today - timedelta(days=2), 100.0)
        self.inv_old._dunning_dispute("Not received")
        page = self.url_open(self.link).text
        self.assertIn("Pay all overdue invoices", page)
        self.assertIn("400.00", page)
        res = self.url_open(f"{self.link}/pay")
        self.assertIn("400.00", res.text)
        result = self.make_jsonrpc_request(f"{self.link}/transaction", self._tx_params("B2"))
        tx = self.env["payment.transaction"].sudo().search([("reference", "=", result["reference"])])
        self.assertEqual(tx.invoice_ids, self.inv_new | third)
