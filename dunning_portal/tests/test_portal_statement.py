import io
import time
from datetime import timedelta

from odoo.tests import tagged
from odoo.tools.pdf import OdooPdfFileReader

from .common import DunningPortalCommon


@tagged("post_install", "-at_install")
class TestDunningPortalStatement(DunningPortalCommon):
    """The statement of account on the customer's page and as a PDF under the signed link."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inv_not_due = cls._invoice(cls.today + timedelta(days=10), 450.0)
        cls.refund = cls._create_invoice_one_line(
            move_type="out_refund", price_unit=100.0, partner_id=cls.customer.id,
            invoice_date=cls.today - timedelta(days=1), tax_ids=[],
            invoice_payment_term_id=False)
        cls.refund.invoice_date_due = cls.today - timedelta(days=1)
        cls.refund.action_post()

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def _pdf_text(self, content):
        reader = OdooPdfFileReader(io.BytesIO(content), strict=False)
        return " ".join(" ".join(page.extract_text() for page in reader.pages).split())

    def _assert_refused(self, url):
        res = self.url_open(url, allow_redirects=False)
        self.assertIn(res.status_code, (403, 404), url)
        self.assertNotIn("application/pdf", res.headers.get("Content-Type", ""))
        self.assertFalse(res.content.startswith(b"%PDF"))
        for secret in (self.inv_old.name, self.inv_not_due.name, self.refund.name, "1,850.00"):
            self.assertNotIn(secret, res.text)

    def test_page_shows_the_whole_statement(self):
        link = self._link()
        res = self.url_open(link)
        self.assertEqual(res.status_code, 200)
        for move in (self.inv_old, self.inv_new, self.inv_not_due, self.refund):
            self.assertIn(f'data-name="{move.name}"', res.text, "a statement row per open item")
        self.assertIn("Credit note", res.text)
        self.assertIn("not due", res.text)
        self.assertIn("Total due", res.text)
        self.assertIn("1,850.00", res.text, "1,200 + 300 + 450 - 100")
        self.assertIn("1,500.00", res.text, "of which overdue")
        self.assertNotIn(self.inv_other.name, res.text, "another customer's invoice")
        self.assertNotIn("o_dunning_charges_col", res.text, "no charge, no charges column")
        self.assertIn(f'href="{link}/statement.pdf"', res.text)

    def test_charges_column_when_a_charge_exists(self):
        self.env["dunning.charge"].sudo().create({
            "partner_id": self.customer.id, "company_id": self.env.company.id,
            "move_id": self.inv_old.id, "kind": "interest", "state": "to_book",
            "currency_id": self.inv_old.currency_id.id, "amount": 12.34,
        })
        res = self.url_open(self._link())
        self.assertIn("o_dunning_charges_col", res.text)
        self.assertIn("12.34", res.text)

    def test_payments_since_the_last_message(self):
        self._pay(self.inv_new, amount=120.0, day=self.today - timedelta(days=2))
        res = self.url_open(self._link())
        self.assertNotIn("o_dunning_payments", res.text, "no message sent yet: no 'since'")
        # a reminder sent (for an invoice of its own, paid since)
        earlier = self._invoice(self.START - timedelta(days=10), 250.0)
        self._run(self.START)
        self.assertTrue(self._comms(state="sent"))
        self._pay(earlier, day=self.today - timedelta(days=1))
        res = self.url_open(self._link())
        self.assertIn("Payments received since our last message", res.text)
        self.assertEqual(res.text.count('class="d-flex justify-content-between gap-2 '
                                        'o_dunning_payment"'), 2)
        self.assertIn("120.00", res.text)
        self.assertIn("250.00", res.text)

    def test_download_under_a_valid_link(self):
        res = self.url_open(f"{self._link()}/statement.pdf")
        self.assertEqual(res.status_code, 200)
        self.assertEqual(res.headers["Content-Type"], "application/pdf")
        self.assertIn("attachment", res.headers["Content-Disposition"])
        self.assertIn("Statement", res.headers["Content-Disposition"])
        self.assertTrue(res.content.startswith(b"%PDF"))
        text = self._pdf_text(res.content)
        for move in (self.inv_old, self.inv_new, self.inv_not_due, self.refund):
            self.assertIn(move.name, text)
        self.assertNotIn(self.inv_other.name, text, "another customer's invoice")

    def test_download_refused_for_wrong_expired_revoked_links(self):
        link = self._link()
        _, _, pid, cid, exp, sig = link.split("/")
        bad_sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        self._assert_refused(f"/dunning/{pid}/{cid}/{exp}/{bad_sig}/statement.pdf")
        # another customer, a longer validity or another company with the same signature
        other_company = self.env["res.company"].create({"name": "Other Company"})
        for forged in (f"/dunning/{self.customer2.id}/{cid}/{exp}/{sig}",
                       f"/dunning/{pid}/{cid}/{int(exp) + 86400}/{sig}",
                       f"/dunning/{pid}/{other_company.id}/{exp}/{sig}"):
            self._assert_refused(f"{forged}/statement.pdf")
        self._assert_refused(f"{self._link(expires=int(time.time()) - 60)}/statement.pdf")
        self.customer.sudo().dunning_link_version += 1  # what "Revoke customer links" does
        self._assert_refused(f"{link}/statement.pdf")

    def test_another_customers_link_shows_only_theirs(self):
        res = self.url_open(f"{self._link(partner=self.customer2)}/statement.pdf")
        self.assertEqual(res.status_code, 200)
        text = self._pdf_text(res.content)
        self.assertIn(self.inv_other.name, text)
        for move in (self.inv_old, self.inv_new, self.inv_not_due, self.refund):
            self.assertNotIn(move.name, text)

    def test_logged_in_portal_user(self):
        res = self.url_open("/my/dunning/statement.pdf", allow_redirects=False)
        self.assertIn(res.status_code, (302, 303), "anonymous: to the login page")
        self.assertIn("/web/login", res.headers["Location"])
        self.authenticate("lucia_portal", "lucia_portal_pw")
        page = self.url_open("/my/dunning")
        self.assertIn('href="/my/dunning/statement.pdf"', page.text)
        self.assertIn(self.inv_not_due.name, page.text)
        res = self.url_open("/my/dunning/statement.pdf")
        self.assertEqual(res.status_code, 200)
        self.assertEqual(res.headers["Content-Type"], "application/pdf")
        text = self._pdf_text(res.content)
        self.assertIn(self.inv_old.name, text)
        self.assertNotIn(self.inv_other.name, text)
        res = self.url_open(f"/my/dunning/statement.pdf?company={self.env.company.id}")
        self.assertEqual(res.status_code, 200)
        # a company the customer has nothing with, or a crafted id: nothing
        other_company = self.env["res.company"].create({"name": "Other Company"})
        for company in (other_company.id, "abc", "99999999999"):
            res = self.url_open(f"/my/dunning/statement.pdf?company={company}")
            self.assertEqual(res.status_code, 404)
            self.assertFalse(res.content.startswith(b"%PDF"))
