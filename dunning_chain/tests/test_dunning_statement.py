import io
from datetime import timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools.pdf import OdooPdfFileReader

from .common import DunningCommon

STATEMENT_REPORT = "dunning_chain.action_report_dunning_statement"


@tagged("post_install", "-at_install")
class TestDunningStatement(DunningCommon):
    """The statement of account: every open item of a customer with a company, as data, as a
    PDF (in the customer's Print menu) and attached to a level's e-mail."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Statement = cls.env["dunning.statement"]
        start = cls.START
        cls.inv_65 = cls._invoice(start - timedelta(days=65), 1210.0)
        cls.inv_20 = cls._invoice(start - timedelta(days=20), 800.0)
        cls.inv_not_due = cls._invoice(start + timedelta(days=10), 500.0)
        cls.refund = cls._refund(cls.customer, 150.0, start - timedelta(days=2))
        cls.inv_paid = cls._invoice(start - timedelta(days=40), 300.0)
        cls.inv_other = cls._invoice(start - timedelta(days=20), 777.0, partner=cls.customer2)
        cls._pay(cls, cls.inv_20, amount=300.0, day=start - timedelta(days=10))
        cls._pay(cls, cls.inv_paid, day=start - timedelta(days=30))

    @classmethod
    def _refund(cls, partner, amount, day):
        """A posted credit note of ``day``, not used yet."""
        refund = cls._create_invoice_one_line(
            move_type="out_refund", price_unit=amount, partner_id=partner.id,
            invoice_date=day, tax_ids=[], invoice_payment_term_id=False)
        refund.invoice_date_due = day
        refund.action_post()
        return refund

    def _rows(self, statement):
        return {row["move"]: row for row in statement["rows"]}

    def test_statement_lists_every_open_item(self):
        statement = self.Statement._dunning_statement(
            self.customer, self.env.company, since=self.START - timedelta(days=35),
            today=self.START)
        rows = self._rows(statement)
        self.assertEqual(set(rows), {self.inv_65, self.inv_20, self.inv_not_due, self.refund},
                         "open invoices, the one not yet due and the credit note; not the paid "
                         "one nor another customer's")
        self.assertEqual([row["move"] for row in statement["rows"]],
                         [self.inv_65, self.inv_20, self.refund, self.inv_not_due],
                         "oldest due first")
        late, partial = rows[self.inv_65], rows[self.inv_20]
        self.assertEqual((late["days_late"], late["bucket"], late["residual"], late["overdue"]),
                         (65, "61_90", 1210.0, 1210.0))
        self.assertEqual((partial["days_late"], partial["bucket"], partial["residual"],
                          partial["amount_total"]), (20, "1_30", 500.0, 800.0))
        not_due = rows[self.inv_not_due]
        self.assertEqual((not_due["days_late"], not_due["bucket"], not_due["overdue"]),
                         (0, "not_due", 0.0))
        refund = rows[self.refund]
        self.assertEqual((refund["residual"], refund["amount_total"], refund["days_late"],
                          refund["overdue"]), (-150.0, -150.0, 0, 0.0), "a credit note is negative")

        [total] = statement["totals"]
        self.assertEqual(total["currency"], self.env.company.currency_id)
        self.assertEqual(total["count"], 4)
        self.assertAlmostEqual(total["residual"], 1210.0 + 500.0 + 500.0 - 150.0)
        self.assertAlmostEqual(total["overdue"], 1710.0)
        self.assertEqual(total["aging"], {"not_due": 350.0, "1_30": 500.0, "31_60": 0.0,
                                          "61_90": 1210.0, "over_90": 0.0})

        payments = statement["payments"]
        self.assertEqual([(p["date"], p["amount"], p["invoice"]) for p in payments],
                         [(self.START - timedelta(days=30), 300.0, self.inv_paid),
                          (self.START - timedelta(days=10), 300.0, self.inv_20)])
        recent = self.Statement._dunning_statement(
            self.customer, self.env.company, since=self.START - timedelta(days=15),
            today=self.START)["payments"]
        self.assertEqual([p["invoice"] for p in recent], [self.inv_20], "only since the date")

    def test_statement_of_another_company_is_empty(self):
        other = self.env["res.company"].create({"name": "Another Company"})
        statement = self.Statement._dunning_statement(self.customer, other, today=self.START)
        self.assertEqual((statement["rows"], statement["totals"], statement["payments"]),
                         ([], [], []))

    def _bank_and_euro_invoice(self):
        eur = self.setup_other_currency("EUR")
        self.env["res.partner.bank"].create({
            "partner_id": self.env.company.partner_id.id,
            "acc_number": "ES91 2100 0418 4502 0005 1332",
        })
        return self._invoice(self.START - timedelta(days=5), 99.5, currency_id=eur.id), eur

    def test_payment_reference_and_sepa_qr_code_for_euros(self):
        statement = self.Statement._dunning_statement(self.customer, self.env.company,
                                                      today=self.START)
        payment = self.Statement._dunning_statement_payment(statement)
        self.assertFalse(payment["qr"], "no bank account, no euros: no QR code")
        self.assertEqual(payment["reference"], ", ".join(
            m.payment_reference or m.name for m in (self.inv_65, self.inv_20, self.inv_not_due)),
            "the invoices to pay, not the credit note")

        inv_eur, eur = self._bank_and_euro_invoice()
        statement = self.Statement._dunning_statement(self.customer, self.env.company,
                                                      today=self.START)
        self.assertEqual(len(statement["totals"]), 2, "totals per currency")
        payment = self.Statement._dunning_statement_payment(statement)
        self.assertTrue(payment["qr"].startswith("data:image/png;base64,"))
        self.assertEqual((payment["qr_amount"], payment["qr_currency"]), (99.5, eur))
        self.assertEqual(payment["qr_reference"], inv_eur.payment_reference or inv_eur.name,
                         "the transfer pays the invoices in euros")

        # a bank account outside SEPA gives no code
        self.env.company.partner_id.bank_ids.unlink()
        self.env["res.partner.bank"].create({"partner_id": self.env.company.partner_id.id,
                                             "acc_number": "123456789"})
        self.assertFalse(self.Statement._dunning_statement_payment(statement)["qr"])

    def test_statement_pdf_renders_with_every_open_item(self):
        self._bank_and_euro_invoice()
        with self.allow_pdf_render():
            content, filename = self.Statement.with_context(
                force_report_rendering=True)._dunning_statement_pdf(self.customer,
                                                                    self.env.company)
        self.assertTrue(content.startswith(b"%PDF"), "a real PDF")
        self.assertTrue(filename.startswith("Statement of account Alcalá Construcciones"))
        self.assertTrue(filename.endswith(".pdf"))
        reader = OdooPdfFileReader(io.BytesIO(content), strict=False)
        text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
        self.assertIn("Statement of account", text)
        for move in (self.inv_65, self.inv_20, self.inv_not_due, self.refund):
            self.assertIn(move.name, text)
        self.assertNotIn(self.inv_other.name, text, "another customer's invoice")
        self.assertIn("Credit note", text)
        self.assertIn(self.env.company.name, text, "the sender, even where no header is drawn")
        self.assertIn("Aging", text)
        self.assertIn("Scan with your banking app", text, "the SEPA QR code for the euros")

    def test_statement_report_in_the_print_menu_for_invoicing_users_only(self):
        report = self.env.ref(STATEMENT_REPORT)
        self.assertEqual(report.binding_model_id.model, "res.partner")
        html = self.env["ir.actions.report"]._render_qweb_html(STATEMENT_REPORT,
                                                               self.customer.ids)[0]
        self.assertIn(self.inv_65.name, html.decode())
        employee = new_test_user(self.env, login="stmt_employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["ir.actions.report"].with_user(employee)._render_qweb_html(
                STATEMENT_REPORT, self.customer.ids)
        # an invoicing user prints for their companies only
        billing = new_test_user(self.env, login="stmt_billing",
                                groups="base.group_user,account.group_account_invoice",
                                company_id=self.env.company.id)
        other = self.env["res.company"].create({"name": "Not Theirs"})
        with self.assertRaises(AccessError):
            self.env["ir.actions.report"].with_user(billing).with_context(
                dunning_company_id=other.id)._render_qweb_html(STATEMENT_REPORT,
                                                               self.customer.ids)

    def test_several_customers_print_in_one_document(self):
        html = self.env["ir.actions.report"]._render_qweb_html(
            STATEMENT_REPORT, (self.customer | self.customer2).ids)[0].decode()
        self.assertIn(self.inv_65.name, html)
        self.assertIn(self.inv_other.name, html)

    def _fresh_customer(self, late_days):
        """A customer whose one invoice reaches the step of ``late_days`` at START, with an
        invoice not yet due and a credit note beside it."""
        partner = self.env["res.partner"].create({
            "name": f"Statement customer {late_days}", "email": f"s{late_days}@example.com",
            "is_company": True, "street": "Calle Mayor 2", "lang": "en_US"})
        late = self._invoice(self.START - timedelta(days=late_days), 640.0, partner=partner)
        not_due = self._invoice(self.START + timedelta(days=20), 210.0, partner=partner)
        refund = self._refund(partner, 40.0, self.START - timedelta(days=1))
        return partner, late, not_due, refund

    def test_statement_attached_to_an_email_level_is_kept_and_sealed(self):
        email = self.levels[7].channel_ids.filtered(lambda c: c.channel == "email")
        self.assertTrue(email.attach_invoices)
        email.attach_statement = True
        partner, late, not_due, refund = self._fresh_customer(7)
        self._run(self.START)
        comm = self._comms(partner=partner)
        self.assertEqual((comm.level_id, comm.channel, comm.state),
                         (self.levels[7], "email", "sent"))
        statement = comm.attachment_ids.filtered(
            lambda a: a.name.startswith("Statement of account"))
        self.assertEqual(len(statement), 1)
        self.assertEqual(statement.res_model, comm._name)
        # tests render reports as HTML unless asked for a PDF (test_statement_pdf_renders...)
        text = statement.raw.decode()
        for move in (late, not_due, refund):
            self.assertIn(move.name, text, "every open item of the customer")
        self.assertNotIn(self.inv_65.name, text, "another customer's invoice")
        invoice_pdf = comm.attachment_ids - statement
        self.assertEqual((invoice_pdf.res_model, invoice_pdf.res_id), ("account.move", late.id),
                         "and the invoice the level attaches")
        self.assertEqual(comm.mail_message_id.attachment_ids, comm.attachment_ids,
                         "both sent with the e-mail")
        self.assertIn(statement.checksum, comm._dunning_snapshot()["attachments"],
                      "sealed with the communication")
        self.assertFalse(self.env["dunning.evidence"]._dunning_verify(
            [(comm.company_id.id, partner.id)]), "the record verifies")
        with self.assertRaises(UserError):
            statement.unlink()
        with self.assertRaises(UserError):
            statement.write({"raw": b"something else"})

    def test_statement_attached_to_a_letter_covering_email(self):
        letter = self.levels[30].channel_ids.filtered(lambda c: c.channel == "letter")
        self.assertTrue(letter.mail_template_id, "the shipped letter has a covering e-mail")
        letter.attach_statement = True
        partner, late, _not_due, _refund = self._fresh_customer(30)
        self._run(self.START)
        comm = self._comms(partner=partner)
        self.assertEqual((comm.level_id, comm.channel, comm.state),
                         (self.levels[30], "letter", "sent"))
        names = comm.attachment_ids.mapped("name")
        self.assertEqual(len(names), 2, names)
        self.assertEqual(len([n for n in names if n.startswith("Statement of account")]), 1)
        self.assertEqual(comm.mail_message_id.attachment_ids, comm.attachment_ids)
        self.assertIn(late.name, comm.attachment_ids.filtered(
            lambda a: a.name.startswith("Statement of account")).raw.decode())

    def test_without_the_option_nothing_more_is_attached(self):
        partner, *_moves = self._fresh_customer(7)
        self._run(self.START)
        comm = self._comms(partner=partner)
        self.assertEqual(comm.state, "sent")
        self.assertFalse(comm.attachment_ids.filtered(
            lambda a: a.name.startswith("Statement of account")))
