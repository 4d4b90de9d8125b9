"""What every reminder says, read as the customer reads it: the whole account with the company
(the step's invoices highlighted), the payments received since the last message, the late
payment charges (what the law allows, or what is charged), what happens after a final notice,
and the letter's "how to pay" (IBAN, reference, QR codes) in the PDF itself."""
import io
import re
from datetime import timedelta

import lxml.html

from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import format_amount, format_date
from odoo.tools.pdf import OdooPdfFileReader

from .common import DunningCommon

HIGHLIGHT = "background-color:#fff4ce"  # as the stored (sanitised) body writes it
IBAN = "ES91 2100 0418 4502 0005 1332"


def words(html):
    """The text of an HTML body as a reader sees it, on one line."""
    text = lxml.html.fromstring(f"<div>{html}</div>").text_content()
    return " ".join(text.replace("\xa0", " ").replace("\ufeff", "").split())


def statement_rows(html):
    """{row text: highlighted?} of the invoices listed in the statement table of a body."""
    root = lxml.html.fromstring(f"<div>{html}</div>")
    table = root.xpath("//table[.//th[normalize-space()='Days late']]")[0]
    return {" ".join(row.text_content().replace("\xa0", " ").split()):
            HIGHLIGHT in (row.get("style") or "").replace(" ", "")
            for row in table.xpath(".//tr[td]")
            if not row.text_content().split()[0].startswith(("Total", "of"))}


@tagged("post_install", "-at_install")
class TestDunningMessages(DunningCommon):

    def _amount(self, value, currency=None):
        return format_amount(self.env, value, currency or self.env.company.currency_id).replace(
            "\xa0", " ")

    def _date(self, day):
        return format_date(self.env, day)

    def _spanish_company(self):
        self.env.company.country_id = self.env.ref("base.es")
        self.customer.write({"vat": "ESB12345678", "country_id": self.env.ref("base.es").id})

    # ------------------------------------------------------------------ the statement
    def test_reminder_lists_the_whole_account_step_highlighted(self):
        """A customer owes three invoices; the message is about the one due today: all three
        are listed, that one highlighted, with the total of the account."""
        due_today = self._invoice(self.START, amount=1000.0)
        later = self._invoice(self.START + timedelta(days=10), amount=250.0)
        latest = self._invoice(self.START + timedelta(days=30), amount=400.0)
        self._run(self.START)
        comm = self._comms()
        self.assertEqual((comm.level_id, comm.channel), (self.levels[0], "email"))
        self.assertEqual(comm.line_ids.move_id, due_today, "the step is about one invoice")

        rows = statement_rows(comm.body)
        self.assertEqual(len(rows), 3, rows)
        by_invoice = {inv: next(text for text in rows if inv.name in text)
                      for inv in (due_today, later, latest)}
        self.assertTrue(rows[by_invoice[due_today]], "the step's invoice is highlighted")
        self.assertFalse(rows[by_invoice[later]])
        self.assertFalse(rows[by_invoice[latest]])
        self.assertIn(self._date(later.invoice_date_due), by_invoice[later])
        self.assertIn(self._amount(250.0), by_invoice[later])
        text = words(comm.body)
        self.assertIn(f"Total owed {self._amount(1650.0)}", text)
        self.assertNotIn("of which overdue", text, "nothing is late yet")
        self.assertIn("Highlighted: the invoices this message is about", text)
        self.assertIn("The invoices highlighted below fall due today", text)
        self.assertNotIn("Payments received", text, "no message before this one")
        self.assertNotIn("Charges", text, "no charge applied: no column")
        self.assertNotIn("Under ", text, "the due-date step charges nothing")

    def test_each_customer_of_a_batch_reads_their_own_account(self):
        """E-mails of one template are rendered together for the whole batch: each customer
        still reads their own statement."""
        mine = self._invoice(self.START, amount=1000.0)
        theirs = self._invoice(self.START, amount=333.0, partner=self.customer2)
        self._invoice(self.START + timedelta(days=5), amount=20.0, partner=self.customer2)
        self._run(self.START)
        first, second = self._comms(), self._comms(self.customer2)
        self.assertEqual((first.state, second.state), ("sent", "sent"))
        self.assertIn(mine.name, first.body)
        self.assertNotIn(theirs.name, first.body)
        self.assertIn(f"Total owed {self._amount(1000.0)}", words(first.body))
        self.assertNotIn(mine.name, second.body)
        self.assertIn(f"Total owed {self._amount(353.0)}", words(second.body))

    def test_partial_payment_since_the_last_message(self):
        invoice = self._invoice(self.START, amount=1000.0)
        other = self._invoice(self.START + timedelta(days=20), amount=500.0)
        self._run(self.START)
        paid_on = self.START + timedelta(days=3)
        self._pay(invoice, amount=300.0, day=paid_on)
        self._run(self.START + timedelta(days=7))
        comm = self._comms(level_id=self.levels[7].id)
        self.assertEqual(comm.state, "sent")
        text = words(comm.body)
        self.assertIn(f"Payments received since our last message of {self._date(self.START)}",
                      text)
        self.assertIn(f"{self._date(paid_on)}: {self._amount(300.0)} for {invoice.name}", text)
        rows = statement_rows(comm.body)
        row = next(t for t in rows if invoice.name in t)
        self.assertIn(self._amount(700.0), row, "what is left of it")
        self.assertIn(f"{self._date(self.START)} 7 {self._amount(700.0)}", row, "7 days late")
        self.assertTrue(any(other.name in t for t in rows))
        self.assertIn(f"Total owed {self._amount(1200.0)}", text)
        self.assertIn(f"of which overdue {self._amount(700.0)}", text)

    def test_same_step_letter_and_email_say_the_same_payments(self):
        """The e-mail and the letter of one step leave together: the letter still lists the
        payments since the previous step's message (not since its own e-mail)."""
        self.levels[7].channel_ids = [(0, 0, {"channel": "letter"})]
        invoice = self._invoice(self.START, amount=1000.0)
        self._run(self.START)
        self._pay(invoice, amount=100.0, day=self.START + timedelta(days=2))
        self._run(self.START + timedelta(days=7))
        step = self._comms(level_id=self.levels[7].id)
        self.assertEqual(sorted(step.mapped("state")), ["sent", "sent"])
        letter = step.filtered(lambda c: c.channel == "letter")
        statement = self.env["dunning.message"]._dunning_statement_of(letter)
        self.assertEqual(statement["since"], self.START)
        self.assertEqual([p["amount"] for p in statement["payments"]], [100.0])

    def test_a_dunning_user_sends_the_summary(self):
        """Sent by a dunning user (no template editor, no administrator): the shared parts of
        the template render all the same."""
        user = new_test_user(self.env, login="dun_msg_user",
                             groups="dunning_chain.group_dunning_user")
        self.policy.mode = "review"
        self._invoice(self.START, amount=1000.0)
        self._invoice(self.START + timedelta(days=9), amount=90.0)
        self._run(self.START)
        comm = self._comms()
        with freeze_time(f"{self.START.isoformat()} 10:30:00"):
            comm.with_user(user).action_approve()
            comm.with_user(user).action_send_now()
        self.assertEqual(comm.state, "sent", comm.failure_reason)
        self.assertIn(f"Total owed {self._amount(1090.0)}", words(comm.body))

    # ------------------------------------------------------------------ the charges
    def test_charges_announced_for_a_spanish_business_not_for_a_consumer(self):
        self._spanish_company()
        self.policy.charge_mode = "show"
        self.levels[7].write({"charge_interest": True, "charge_compensation": True})
        consumer = self.env["res.partner"].create({
            "name": "María López", "email": "maria@example.com", "lang": "en_US",
            "country_id": self.env.ref("base.es").id})
        self._invoice(self.START, amount=1000.0)
        self._invoice(self.START, amount=1000.0, partner=consumer)
        self._run(self.START + timedelta(days=7))
        business = words(self._comms(level_id=self.levels[7].id).body)
        # ECB 2026 H1 2.15 % + 8 points
        self.assertIn(
            "Under Ley 3/2004 on late payment, overdue amounts may bear interest at 10.15 % a "
            f"year and {self._amount(40.0, self.env.ref('base.EUR'))} compensation per invoice "
            "for recovery costs.", business)
        self.assertNotIn("invoice them separately", business, "announced, not charged")
        private = words(self._comms(consumer, level_id=self.levels[7].id).body)
        self.assertNotIn("Ley 3/2004", private)
        self.assertNotIn("interest", private)
        self.assertNotIn("compensation", private)

    def test_charges_booked_are_stated_per_invoice(self):
        self._spanish_company()
        self.policy.charge_mode = "book"
        self.levels[7].write({"charge_interest": True, "charge_compensation": True})
        invoice = self._invoice(self.START, amount=1000.0)
        self._run(self.START + timedelta(days=7))
        comm = self._comms(level_id=self.levels[7].id)
        interest = comm.charge_ids.filtered(lambda c: c.kind == "interest")
        compensation = comm.charge_ids.filtered(lambda c: c.kind == "compensation")
        self.assertTrue(interest and compensation)
        text = words(comm.body)
        self.assertIn("Under Ley 3/2004 on late payment, we charge the following for the "
                      "overdue invoices:", text)
        self.assertIn(f"{invoice.name} Late payment interest {interest.formula}", text)
        self.assertIn(self._amount(interest.amount), text)
        self.assertIn(f"{invoice.name} Recovery compensation", text)
        self.assertIn(f"Total charges {self._amount(interest.amount + compensation.amount)}",
                      text)
        self.assertIn("We invoice these charges separately", text)

    # ------------------------------------------------------------------ final notices
    def test_final_notice_says_the_date_and_what_happens_then(self):
        self._spanish_company()
        agency = self.env["res.partner"].create({"name": "Recobros Iberia S.L.",
                                                 "is_company": True})
        self.levels[60].channel_ids.filtered(lambda c: c.channel == "handoff").write(
            {"handoff_partner_id": agency.id})
        invoice = self._invoice(self.START, amount=1000.0)
        day = self.START + timedelta(days=45)  # Thursday 16 April
        self._run(day)
        final = self._comms(level_id=self.levels[45].id)
        final.action_approve()
        self._run(day, hour=11)
        email = final.filtered(lambda c: c.channel == "email")
        self.assertEqual(email.state, "sent")
        text = words(email.body)
        # the hand-off is planned 60 days after the due date: 15 days after this notice
        pay_by = self.START + timedelta(days=60)
        self.assertIn(f"Please pay {self._amount(1000.0)} by {self._date(pay_by)}.", text)
        self.assertIn(f"If by that date we have received neither the payment of {invoice.name} "
                      "nor news from you, we will hand the debt over to Recobros Iberia S.L. "
                      "for collection.", text)
        self.assertIn("agree a payment plan with us", text)
        self.assertIn("if something is wrong with an invoice, tell us before that date", text)
        self.assertIn("Ley 3/2004", text, "what the law allows to claim (+45 charges)")
        self.assertIn("certified post", text)
        for threat in ("legal action", "additional costs", "further action"):
            self.assertNotIn(threat, text.lower())

    # ------------------------------------------------------------------ the letter
    def test_letter_pdf_gives_iban_total_and_qr_codes(self):
        self._spanish_company()
        eur = self.setup_other_currency("EUR")
        self.env["res.partner.bank"].create({
            "partner_id": self.env.company.partner_id.id, "acc_number": IBAN})
        old = self._invoice(self.START, amount=1000.0, currency_id=eur.id)
        newer = self._invoice(self.START + timedelta(days=20), amount=500.0, currency_id=eur.id)
        self._invoice(self.START + timedelta(days=45), amount=300.0, currency_id=eur.id)
        day = self.START + timedelta(days=30)
        with freeze_time(f"{day.isoformat()} 10:00:00"):
            self.env["dunning.plan"]._dunning_plan()
            planned = self._comms(state="scheduled")
            self.env["dunning.send"]._dunning_send_batch(
                planned.with_context(force_report_rendering=True))
        letter = self._comms(level_id=self.levels[30].id)
        self.assertEqual((letter.channel, letter.state), ("letter", "sent"))
        pdf = letter.attachment_ids.filtered(lambda a: a.mimetype == "application/pdf")
        self.assertTrue(pdf.raw.startswith(b"%PDF"), "a real PDF")
        reader = OdooPdfFileReader(io.BytesIO(pdf.raw), strict=False)
        text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
        compact = re.sub(r"\s", "", text)
        self.assertIn(IBAN.replace(" ", ""), compact, "the IBAN to pay to")
        for invoice in (old, newer):
            self.assertIn(invoice.name, text)
        # the whole account: 1,800.00 owed, 1,500.00 overdue, asked now (and in the QR code)
        self.assertIn(self._amount(1800.0, eur).replace(" ", ""), compact)
        self.assertIn(("Amount due now:" + self._amount(1500.0, eur)).replace(" ", ""), compact)
        self.assertIn(f"{old.payment_reference}, {newer.payment_reference}".replace(" ", ""),
                      compact, "the reference to quote")
        images = [name for page in reader.pages
                  for name, obj in (page["/Resources"].get("/XObject") or {}).items()
                  if obj.get_object().get("/Subtype") == "/Image"]
        self.assertGreaterEqual(len(images), 2, "the SEPA transfer and customer page QR codes")
        with freeze_time(f"{day.isoformat()} 10:00:00"):
            pay = self.env["dunning.message"]._dunning_payment(
                letter, self.env["dunning.message"]._dunning_statement_of(letter))
        self.assertTrue(pay["qr"] and pay["link_qr"])
        self.assertEqual((pay["qr_amount"], pay["qr_currency"]), (1500.0, eur))
        self.assertTrue(re.search(r"Scan with your banking app to pay", text))
