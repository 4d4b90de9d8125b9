"""The case file for the agency and the evidence bundle for the company's lawyer: a real chain
walked to the hand-off, then the PDF read as text and the ZIP opened as the agency would."""
import csv
import email
import email.policy
import hashlib
import io
import re
import subprocess
import zipfile
from datetime import timedelta

from odoo.exceptions import AccessError, UserError
from odoo.service import model as rpc
from odoo.tests import freeze_time, new_test_user, tagged

from .common import DunningCommon

REFERENCE = re.compile(r"DUN/\d{4}/\d{6}")


def pdf_text(content):
    """The PDF's text as pdftotext (poppler, installed by setup/install.sh) reads it."""
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content,
                            capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


class CasefileCommon(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({
            "vat": "ESA12345674", "street": "Calle Mayor 12", "city": "Zaragoza",
            "zip": "50001", "phone": "+34 976 123 456", "company_registry": "B-50123456",
        })
        cls.accounts = cls.env["res.partner"].create({
            "name": "Marta Gil", "parent_id": cls.customer.id, "type": "invoice",
            "email": "marta.gil@alcala.example.com", "phone": "+34 600 111 222",
            "function": "Accounts payable", "street": "Polígono Cogullada 7", "city": "Zaragoza",
        })
        cls.agency = cls.env["res.partner"].create({
            "name": "Recobros Iberia S.L.", "is_company": True,
            "email": "casos@recobros.example.com"})
        cls.handoff_channel = cls.levels[60].channel_ids.filtered(
            lambda c: c.channel == "handoff")
        cls.handoff_channel.handoff_partner_id = cls.agency
        cls.env.company.email = "cobros@company.example.com"

    def _walk_to_handoff(self, due=None):
        """One invoice walks the default chain to the sent hand-off (as test_dunning_chain):
        e-mails, a call, a letter by e-mail, a certified letter with its e-mail, the hand-off."""
        due = due or self.START
        for offset in (0, 7, 15, 30, 45):
            self._run(due + timedelta(days=offset))
        final = self._comms(level_id=self.levels[45].id)
        with freeze_time(f"{(due + timedelta(days=46)).isoformat()} 10:00:00"):
            final.action_approve()
            self.env["dunning.send"]._dunning_send_due()
        self._run(due + timedelta(days=60))
        handoff = self._comms(level_id=self.levels[60].id)
        handoff.action_approve()
        self._run(due + timedelta(days=63))
        self.assertEqual(handoff.state, "sent")
        return handoff

    def _emails(self, comms):
        return comms.filtered(lambda c: c.mail_message_id and c.channel in ("email", "letter"))

    def _open_zip(self, content):
        archive = zipfile.ZipFile(io.BytesIO(content))
        self.assertIsNone(archive.testzip())
        return archive


@tagged("post_install", "-at_install")
class TestDunningCasefile(CasefileCommon):

    def test_case_file_of_a_real_handoff_pdf_and_zip(self):
        invoice = self._invoice(self.START, amount=1200.0)
        handoff = self._walk_to_handoff()
        sent = self._comms(state="sent")
        self.assertEqual(len(sent), 7, "due today, first, call, letter, certified, final e-mail, "
                                       "hand-off")
        case = handoff.agency_case_ids
        self.assertEqual((case.state, case.agency_id, case.move_ids),
                         ("handed_off", self.agency, invoice))
        self.assertEqual(case.amount_handed_off, 1200.0)

        with freeze_time(f"{(self.START + timedelta(days=64)).isoformat()} 09:30:00"):
            pdf, archive = case.with_context(force_report_rendering=True) \
                ._dunning_casefile_generate()
        self.assertTrue(pdf.raw.startswith(b"%PDF"), "a real PDF")
        text = pdf_text(pdf.raw)
        # every sent communication of the customer, and only those
        self.assertEqual(set(REFERENCE.findall(text)), set(sent.mapped("name")))
        # the timeline numbers them: 1 to 7
        for comm in sent:
            self.assertIn(comm.name, text)
        # who the customer is and where to find them
        for fact in ("Alcalá Construcciones", "ESA12345674", "B-50123456", "Calle Mayor 12",
                     "Zaragoza", "+34 976 123 456", "pagos@alcala.example.com", "Marta Gil",
                     "marta.gil@alcala.example.com", "+34 600 111 222", "Polígono Cogullada 7"):
            self.assertIn(fact, text)
        self.assertIn(invoice.name, text)
        self.assertIn("Recobros Iberia S.L.", text)
        self.assertIn("CET", text, "the customer's local time (Madrid)")
        self.assertIn("UTC", text)
        self.assertIn("Verification passed", text)
        self.assertIn(case.name, text)

        files = self._open_zip(archive.raw)
        names = files.namelist()
        manifest = list(csv.DictReader(io.StringIO(files.read("manifest.csv").decode())))
        self.assertEqual({row["file"] for row in manifest}, set(names) - {"manifest.csv"})
        for row in manifest:
            self.assertEqual(hashlib.sha256(files.read(row["file"])).hexdigest(), row["sha256"],
                             row["file"])
        # the case file itself
        self.assertEqual(files.read(pdf.name), pdf.raw)
        # the invoice, as Odoo prints it
        invoice_files = [name for name in names if name.startswith("invoices/")]
        self.assertEqual(len(invoice_files), 1)
        self.assertTrue(files.read(invoice_files[0]).startswith(b"%PDF"))
        # every document sent, byte for byte
        digests = {hashlib.sha256(files.read(name)).hexdigest() for name in names}
        for attachment in sent.attachment_ids:
            self.assertIn(hashlib.sha256(attachment.raw).hexdigest(), digests, attachment.name)
        # one .eml per e-mail sent, as a mail program reads it
        emails = self._emails(sent)
        self.assertEqual(len(emails), 4, "due today, first reminder, letter, final notice")
        eml_names = [name for name in names if name.endswith(".eml")]
        self.assertEqual(len(eml_names), len(emails))
        for comm in emails:
            name = f"communications/{comm.name.replace('/', '-')}/{comm.name.replace('/', '-')}.eml"
            message = email.message_from_bytes(files.read(name), policy=email.policy.default)
            self.assertEqual(message["Subject"], comm.subject)
            self.assertIn("cobros@company.example.com", message["From"])
            self.assertIn("pagos@alcala.example.com", message["To"])
            self.assertEqual(message["X-Dunning-Seal"], comm.hash)
            self.assertEqual(message["Date"].datetime.replace(tzinfo=None), comm.sent_at.replace(
                microsecond=0))
            self.assertIn(invoice.name, message.get_body(("html",)).get_content())
            sent_files = sorted(part.get_filename() for part in message.iter_attachments())
            self.assertEqual(sent_files, sorted(comm.attachment_ids.mapped("name")))
        # what was given to the agency is appended to the sealed record, which still holds
        events = handoff.event_ids.filtered(lambda e: e.kind == "case")
        self.assertIn("Handed off to Recobros Iberia S.L.", events[0].description)
        self.assertIn(hashlib.sha256(archive.raw).hexdigest(), events[-1].description)
        self.assertFalse(sent._dunning_broken_links())

    def test_case_file_sent_to_the_agency_from_the_handoff(self):
        self._invoice(self.START, amount=800.0)
        handoff = self._walk_to_handoff()
        action = handoff.action_dunning_casefile_send()
        self.assertEqual(action["res_model"], "mail.compose.message")
        composer = self.env["mail.compose.message"].with_context(action["context"]).create({})
        self.assertEqual(composer.partner_ids, self.agency)
        self.assertEqual(len(composer.attachment_ids), 2)
        composer._action_send_mail()
        case = handoff.agency_case_ids
        message = case.message_ids.filtered(lambda m: m.message_type == "comment")[:1]
        self.assertEqual(message.partner_ids, self.agency)
        self.assertIn("We hand over to you the collection of", message.body)
        self.assertIn(case.name, message.subject)
        self.assertEqual(sorted(message.attachment_ids.mapped("mimetype")),
                         ["application/zip", "text/html"], "the PDF (HTML in tests) and the ZIP")
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertIn("casos@recobros.example.com", mail.recipient_ids.mapped("email"))
        # without an e-mail address for the agency: download it
        self.agency.email = False
        with self.assertRaisesRegex(UserError, "no e-mail address"):
            handoff.action_dunning_casefile_send()
        download = handoff.action_dunning_casefile_download()
        self.assertEqual(download["type"], "ir.actions.act_url")
        self.assertIn(f"/web/content/{case.casefile_zip_id.id}", download["url"])

    def test_evidence_bundle_of_a_customer_and_of_an_invoice(self):
        early = self._invoice(self.START, amount=1000.0)
        later = self._invoice(self.START + timedelta(days=23), amount=500.0)
        for offset in (0, 7, 23, 30):
            self._run(self.START + timedelta(days=offset))
        sent = self._comms(state="sent")
        about_later = sent.filtered(lambda c: later in c.line_ids.move_id)
        self.assertTrue(about_later and sent - about_later, "some messages about one only")
        # the invoice's bundle: its communications only
        action = later.with_context(force_report_rendering=True).action_dunning_evidence_bundle()
        bundle = self.env["dunning.evidence.bundle"].browse(action["res_id"])
        self.assertEqual(bundle.communication_count, len(about_later))
        self.assertTrue(bundle.record_ok)
        text = pdf_text(bundle.pdf_id.raw)
        self.assertEqual(set(REFERENCE.findall(text)), set(about_later.mapped("name")))
        files = self._open_zip(bundle.zip_id.raw)
        self.assertEqual(len([n for n in files.namelist() if n.endswith(".eml")]),
                         len(self._emails(about_later)))
        # the customer's bundle: everything, both invoices
        action = self.customer.with_context(
            force_report_rendering=True).action_dunning_evidence_bundle()
        bundle = self.env["dunning.evidence.bundle"].browse(action["res_id"])
        self.assertEqual(bundle.communication_count, len(sent))
        text = pdf_text(bundle.pdf_id.raw)
        self.assertEqual(set(REFERENCE.findall(text)), set(sent.mapped("name")))
        self.assertIn(early.name, text)
        self.assertIn(later.name, text)
        files = self._open_zip(bundle.zip_id.raw)
        self.assertEqual(len([n for n in files.namelist() if n.startswith("invoices/")]), 2)
        self.assertEqual(hashlib.sha256(bundle.zip_id.raw).hexdigest(), bundle.zip_sha256)
        download = bundle.action_download_zip()
        self.assertIn(f"/web/content/{bundle.zip_id.id}", download["url"])

    def test_disputes_and_promises_are_in_the_file(self):
        invoice = self._invoice(self.START, amount=700.0)
        self._run(self.START)
        with freeze_time(f"{(self.START + timedelta(days=2)).isoformat()} 10:00:00"):
            invoice._dunning_promise(self.START + timedelta(days=9), "Paying after our audit")
        with freeze_time(f"{(self.START + timedelta(days=3)).isoformat()} 10:00:00"):
            invoice._dunning_dispute("Two pallets arrived damaged")
        action = invoice.with_context(force_report_rendering=True).action_dunning_evidence_bundle()
        bundle = self.env["dunning.evidence.bundle"].browse(action["res_id"])
        text = pdf_text(bundle.pdf_id.raw)
        self.assertIn("Disputes, promises and notes", text)
        self.assertIn("Two pallets arrived damaged", text)
        self.assertIn("Paying after our audit", text)
        self.assertIn("Disputed", text)


@tagged("post_install", "-at_install")
class TestDunningCasefileRights(CasefileCommon):

    def test_only_dunning_users_build_bundles_and_case_files(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        billing = new_test_user(self.env, login="cf_billing",
                                groups="account.group_account_invoice")
        employee = new_test_user(self.env, login="cf_employee", groups="base.group_user")
        portal = new_test_user(self.env, login="cf_portal", groups="base.group_portal")
        calls = [
            ("res.partner", "action_dunning_evidence_bundle", [self.customer.ids]),
            ("account.move", "action_dunning_evidence_bundle", [invoice.ids]),
            ("res.partner", "action_dunning_agency_case_new", [self.customer.ids]),
            ("res.partner", "action_dunning_agency_cases", [self.customer.ids]),
            ("account.move", "action_dunning_agency_cases", [invoice.ids]),
        ]
        for user in (billing, employee, portal):
            env = self.env(user=user.id, context={})
            for model, method, args in calls:
                with self.assertRaises(AccessError, msg=f"{user.login} {model}.{method}"):
                    rpc.call_kw(env[model], method, args, {})
        self.assertFalse(self.env["dunning.evidence.bundle"].search([]))
        # a dunning user does
        collector = new_test_user(self.env, login="cf_collector",
                                  groups="dunning_chain.group_dunning_user")
        env = self.env(user=collector.id, context={})
        action = rpc.call_kw(env["res.partner"], "action_dunning_evidence_bundle",
                             [self.customer.ids], {})
        bundle = env["dunning.evidence.bundle"].browse(action["res_id"])
        self.assertTrue(bundle.zip_id)
        # the bundle's files are the collector's: another user cannot read them
        other = new_test_user(self.env, login="cf_other", groups="dunning_chain.group_dunning_user")
        with self.assertRaises(AccessError):
            bundle.zip_id.with_user(other).read(["datas"])
        # nor download them through the bundle, nor can people outside the dunning groups
        for user in (other, billing, employee, portal):
            env = self.env(user=user.id, context={})
            for method in ("action_download_zip", "action_download_pdf"):
                with self.assertRaises(AccessError, msg=f"{user.login} {method}"):
                    rpc.call_kw(env["dunning.evidence.bundle"], method, [bundle.ids], {})
