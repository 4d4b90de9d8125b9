import base64
import io
import re
from datetime import timedelta

from PIL import Image

from odoo.tests import tagged

from .common import DunningPortalCommon

IBAN = "ES91 2100 0418 4502 0005 1332"
BIC = "CAIXESBBXXX"  # a real BIC: "XXX" is the branch code of the head office
NO_METHOD = "No payment method available"


@tagged("post_install", "-at_install")
class TestDunningPortalPayTransfer(DunningPortalCommon):
    """Every pay button leads somewhere: without an online payment provider for the company
    and currency, the pay pages give the bank transfer details (account, exact amount,
    reference, SEPA QR code for euros) and the customer page says so up front; with a
    provider, both are offered."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.env["payment.provider"].sudo().search(
            [("company_id", "=", company.id), ("state", "!=", "disabled")]).state = "disabled"
        bank = cls.env["res.bank"].create({"name": "CaixaBank", "bic": BIC})
        cls.bank_account = cls.env["res.partner.bank"].create({
            "partner_id": company.partner_id.id, "acc_number": IBAN, "bank_id": bank.id,
        })

    def setUp(self):
        super().setUp()
        self._visit_anonymously()

    @staticmethod
    def _qr_modules(data_uri):
        """The black and white modules of a QR code image (the PNG bytes themselves differ
        from one rendering to the next)."""
        raw = base64.b64decode(data_uri.split(",", 1)[1])
        image = Image.open(io.BytesIO(raw)).convert("L")
        return image.point(lambda v: 255 if v > 128 else 0).tobytes()

    def _reference(self, move):
        return move.payment_reference or move.name

    def _assert_transfer(self, html, amount, references):
        self.assertIn("o_dunning_transfer", html)
        self.assertIn(IBAN, html)
        self.assertIn(BIC, html)
        self.assertIn(self.env.company.name, html, "the account holder")
        self.assertIn(amount, html)
        for reference in references:
            self.assertIn(reference, html)
        self.assertNotIn(NO_METHOD, html)

    def _enable_demo_provider(self):
        """Odoo's demo provider when payment_demo is installed (the demo database), else a
        published test provider of the kind Odoo's payment tests create."""
        company = self.env.company
        module = self.env["ir.module.module"].search([("name", "=", "payment_demo")])
        if module.state == "installed":
            Provider = self.env["payment.provider"].sudo()
            provider = Provider.search([("code", "=", "demo"), ("company_id", "=", company.id)],
                                       limit=1)
            provider = provider or self.env.ref("payment.payment_provider_demo").sudo().copy(
                {"company_id": company.id})
            provider.write({"state": "test", "is_published": True})
            return provider
        self._setup_dummy_provider(company.currency_id)
        return self.provider

    # ------------------------------------------------------------------ no provider
    def test_pay_one_invoice_by_transfer_without_provider(self):
        page = self.url_open(self.link).text
        url = f"{self.link}/invoice/{self.inv_old.id}/pay"
        self.assertIn(url, page, "the invoice's button leads to the transfer details")
        self.assertIn("Pay by bank transfer", page)
        res = self.url_open(url)
        self.assertEqual(res.status_code, 200)
        self._assert_transfer(res.text, "1,200.00", [self._reference(self.inv_old)])
        self.assertIn("Account (IBAN)", res.text)
        self.assertNotIn("o_payment_form", res.text, "no online form without a provider")
        self.assertNotIn(self._reference(self.inv_new), res.text, "this invoice only")
        self.assertNotIn("o_dunning_transfer_qr", res.text, "dollars: no SEPA QR code")

    def test_pay_all_by_transfer_and_the_page_says_so_up_front(self):
        page = self.url_open(self.link).text
        self.assertNotIn("Pay all overdue invoices", page, "no button that leads nowhere")
        self.assertIn("Pay by bank transfer", page)
        self.assertIn("o_dunning_transfer_hint", page)
        self.assertIn(IBAN, page)
        hint = page[page.index("o_dunning_transfer_hint"):page.index("o_dunning_statement")]
        self.assertIn("1,500.00", hint, "the exact amount of the overdue invoices")
        for move in (self.inv_old, self.inv_new):
            self.assertIn(self._reference(move), hint)
        self.assertIn(f"{self.link}/pay", page)
        res = self.url_open(f"{self.link}/pay")
        self.assertEqual(res.status_code, 200)
        self._assert_transfer(res.text, "1,500.00",
                              [self._reference(self.inv_old), self._reference(self.inv_new)])
        self.assertNotIn("o_payment_form", res.text)

    def test_sepa_qr_code_for_the_exact_amount_in_euros(self):
        eur = self.setup_other_currency("EUR")
        euro_inv = self._invoice(self.today - timedelta(days=3), 90.5, currency_id=eur.id)
        res = self.url_open(f"{self.link}/invoice/{euro_inv.id}/pay")
        self.assertEqual(res.status_code, 200)
        self._assert_transfer(res.text, "90.50", [self._reference(euro_inv)])
        self.assertIn("o_dunning_transfer_qr", res.text)
        # the code is the EPC payload of this account, exactly this amount and the invoice's
        # reference (drawn as the statement draws it)
        Statement = self.env["dunning.statement"]

        def epc_qr(amount):
            return Statement._dunning_epc_qr(self.bank_account, amount,
                                             self._reference(euro_inv), eur, self.customer)

        shown = re.search(r'o_dunning_transfer_qr.*?src="(data:image/png;base64,[^"]+)"',
                          res.text, re.DOTALL).group(1)
        self.assertEqual(self._qr_modules(shown), self._qr_modules(epc_qr(90.5)))
        self.assertNotEqual(self._qr_modules(shown), self._qr_modules(epc_qr(90.51)),
                            "a cent differs")
        payload = self.bank_account._get_qr_vals(
            "sct_qr", 90.5, eur, self.customer, self._reference(euro_inv), None)
        self.assertIn("EUR90.5", payload)
        self.assertIn(self._reference(euro_inv), payload)

    def test_no_bank_account_nor_provider_says_whom_to_contact(self):
        self.bank_account.unlink()
        self.env.company.email = "billing@company.example.com"
        page = self.url_open(self.link).text
        self.assertIn("To pay, please contact", page)
        self.assertIn("billing@company.example.com", page)
        res = self.url_open(f"{self.link}/invoice/{self.inv_old.id}/pay")
        self.assertEqual(res.status_code, 200)
        self.assertIn("please contact", res.text)
        self.assertIn("1,200.00", res.text)
        self.assertNotIn(NO_METHOD, res.text)

    # ------------------------------------------------------------------ with a provider
    def test_with_the_demo_provider_both_are_offered(self):
        self._enable_demo_provider()
        page = self.url_open(self.link).text
        self.assertIn("Pay all overdue invoices", page)
        self.assertIn("Or pay by bank transfer", page)
        self.assertIn(IBAN, page)
        for url in (f"{self.link}/pay", f"{self.link}/invoice/{self.inv_old.id}/pay"):
            res = self.url_open(url)
            self.assertEqual(res.status_code, 200)
            self.assertIn("o_payment_form", res.text, "Odoo's payment form")
            self.assertIn(f'data-landing-route="{self.link}?done=paid"', res.text,
                          "after paying, back to the customer's page")
            self.assertIn("Or pay by bank transfer", res.text)
            self.assertIn(IBAN, res.text)
            self.assertNotIn(NO_METHOD, res.text)
        self.assertIn("Thank you for your payment", self.url_open(f"{self.link}?done=paid").text)
        # the provider takes the company's currency only: euros are paid by transfer
        eur = self.setup_other_currency("EUR")
        euro_inv = self._invoice(self.today - timedelta(days=3), 90.5, currency_id=eur.id)
        provider = self.env["payment.provider"].sudo().search(
            [("company_id", "=", self.env.company.id), ("state", "!=", "disabled")])
        provider.available_currency_ids = self.env.company.currency_id
        res = self.url_open(f"{self.link}/invoice/{euro_inv.id}/pay")
        self.assertNotIn("o_payment_form", res.text)
        self._assert_transfer(res.text, "90.50", [self._reference(euro_inv)])

    # ------------------------------------------------------------------ another customer
    def test_another_customers_invoice_is_not_found(self):
        res = self.url_open(f"{self.link}/invoice/{self.inv_other.id}/pay")
        self.assertEqual(res.status_code, 404)
        self.assertNotIn(self.inv_other.name, res.text)
        self.assertNotIn("777.00", res.text)
        res = self.url_open(f"{self.link}/pay")
        self.assertNotIn(self._reference(self.inv_other), res.text)
        self.assertNotIn("777.00", res.text)
        # the other customer's own link shows theirs only
        other = self.url_open(f"{self._link(self.customer2)}/pay").text
        self.assertIn("777.00", other)
        self.assertNotIn(self._reference(self.inv_old), other)
