import base64
import io
import random
from datetime import timedelta
from unittest.mock import patch

import qrcode

from odoo import Command
from odoo.tests import freeze_time, tagged
from odoo.tools.image import image_data_uri
from odoo.tools.pdf import OdooPdfFileReader

from odoo.addons.base.models.ir_actions_report import _wkhtml
from odoo.addons.dunning_chain.models import dunning_send as send_module
from odoo.addons.dunning_chain.models.dunning_channel_letter import LETTER_REPORT

from .common import DunningCommon

FACT_COLUMNS = (
    "communication_id", "line_id", "move_id", "company_id", "partner_id", "policy_id", "level_id",
    "channel", "sent_at", "sent_date", "sent_weekday", "sent_hour", "currency_id",
    "amount_asked", "paid_3", "paid_7", "paid_14", "paid_30", "paid_after", "recovery_3",
    "recovery_7", "recovery_14", "recovery_30", "customers_paid", "next_step_date", "paid_on",
    "days_to_pay", "disputed", "promised", "step_first", "payer_rating", "segment_id")


@tagged("post_install", "-at_install")
class TestDunningSendScale(DunningCommon):
    """What a send batch does for less (#16) is what it did one by one: the letters of a batch
    each carry their own customer's amounts, link and QR code; the QR images are the
    ``qrcode`` library's own; the facts of a batch are those written one message at a time."""

    def _letters(self, count=3):
        """``count`` customers, each with overdue invoices of their own amounts, and the
        letters planned for them (the default chain's step for 30 days late)."""
        partners = self.env["res.partner"].create([{
            "name": f"Letter customer {i}", "email": f"l{i}@example.com", "street": f"Street {i}",
        } for i in range(count)])
        for number, partner in enumerate(partners):
            self._invoice(self.START - timedelta(days=30), partner=partner,
                          amount=100.0 * (number + 1) + 0.25)
            self._invoice(self.START - timedelta(days=31), partner=partner,
                          amount=1000.0 * (number + 1))
        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            self.env["dunning.plan"]._dunning_plan()
        letters = self.Comm.search([("partner_id", "in", partners.ids)], order="id")
        self.assertEqual(set(letters.mapped("channel")), {"letter"})
        return letters

    # ------------------------------------------------------------------ letters
    def test_each_letter_of_a_batch_carries_its_own_customer_amounts_and_qr_code(self):
        letters = self._letters()
        self.env["dunning.send"]._dunning_issue_customer_urls(letters)
        report = self.env["ir.actions.report"]
        html = report._render_qweb_html(LETTER_REPORT, letters.ids,
                                        data={"report_type": "pdf"})[0]
        bodies, res_ids, *_rest = report._prepare_html(html, report_model="dunning.communication")
        self.assertEqual(res_ids, letters.ids, "one letter per communication, in order")
        for comm, body in zip(letters, bodies):
            number = int(comm.partner_id.name.split()[-1])
            url = comm.sudo().customer_url
            self.assertTrue(url)
            self.assertIn(comm.partner_id.name, body)
            due = 100.0 * (number + 1) + 0.25 + 1000.0 * (number + 1)
            self.assertIn(f"{due:,.2f}", body, "its own amount due")
            self.assertIn(url, body, "its own link, in words")
            image = self.env["dunning.statement"]._dunning_qr_image(url)
            self.assertIn(image, body, "its own link's QR code, as the statement draws it")
            for other in letters - comm:
                self.assertNotIn(other.sudo().customer_url, body)
                self.assertNotIn(other.partner_id.name, body)

    def test_letters_sent_in_a_batch_are_real_pdfs_with_their_own_amounts(self):
        letters = self._letters(2)
        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            self.env["dunning.send"]._dunning_send_batch(
                letters.with_context(force_report_rendering=True))
        self.assertEqual(set(letters.mapped("state")), {"sent"})
        for comm in letters:
            reader = OdooPdfFileReader(io.BytesIO(comm.attachment_ids.raw), strict=False)
            text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
            self.assertEqual(comm.amount_total, sum(comm.line_ids.mapped("amount_residual")))
            if not _wkhtml().is_patched_qt:  # text, not shapes (see report/dunning_letter.py)
                self.assertIn(comm.partner_id.name, text)
                self.assertIn(f"{comm.amount_total:,.2f}", text, "its own amount due")
                self.assertIn(comm.sudo().customer_url.split("//", 1)[1][:30],
                              text.replace(" ", ""), "its own link")
        self.assertFalse(self.env["dunning.communication"]._dunning_verify(
            keys=self.env["dunning.communication"]._dunning_chain_keys(letters)),
            "sealed as before")

    def test_qr_images_are_those_of_the_qrcode_library(self):
        """tools/qr.py (the letters' and statements' QR codes) draws the same PNG as the
        ``qrcode`` library (its own mask choice and image) for links, SEPA payloads and long
        texts (versions of 7 and more carry a version block)."""

        def library_image(value):
            code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                                 box_size=4, border=2)
            code.add_data(value)
            code.make(fit=True)
            buffer = io.BytesIO()
            code.make_image().save(buffer, format="PNG")
            return image_data_uri(base64.b64encode(buffer.getvalue()))

        rng = random.Random(16)
        values = [
            "https://example.com/dunning/6/1/1798193103/2-79b5c01b88df082008108710b9006c7f",
            "BCD\n002\n1\nSCT\nGEBABEBB\nAlcalá Construcciones\nBE71096123456769\nEUR1234.56\n\n\n"
            "INV/2026/00001",
            "x", "0123456789" * 3, "Ñandú " * 40,
        ] + ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789/:?=&-") for _i in
                     range(rng.randint(1, 400))) for _j in range(25)]
        statement = self.env["dunning.statement"]
        for value in values:
            self.assertEqual(statement._dunning_qr_image(value), library_image(value), value)

    # ------------------------------------------------------------------ facts
    def _fact_rows(self):
        self.env.cr.flush()  # pending refreshes run, as at commit
        self.env.cr.execute(f"""
            SELECT {', '.join(FACT_COLUMNS)},
                   rank() OVER (PARTITION BY move_id ORDER BY id)
              FROM dunning_fact ORDER BY communication_id, line_id""")
        return self.env.cr.fetchall()

    def test_facts_of_a_batch_are_those_written_one_message_at_a_time(self):
        """The facts of a batch are inserted together at its end: the same rows, in the order
        the messages left (the e-mail of a step is its first row), as one insert and one
        refresh per message gave; a message that failed has none."""
        self.levels[7].channel_ids = [Command.create({"channel": "letter"})]
        invoices = self._invoice(self.START) | self._invoice(self.START, amount=250.0)
        invoices |= self._invoice(self.START, amount=75.0, partner=self.customer2)
        self._run(self.START)
        Fact = self.env["dunning.fact"]
        inserts = []
        original = type(Fact)._dunning_fact_insert

        def counted(fact_model, comm_ids):
            inserts.append(list(comm_ids))
            return original(fact_model, comm_ids)

        original_letter = type(self.Comm)._dunning_send_letter

        def send_letter(comm):
            if comm.partner_id == self.customer2:
                raise ValueError("printer on fire")
            return original_letter(comm)

        with patch.object(type(Fact), "_dunning_fact_insert", counted), \
                patch.object(type(self.Comm), "_dunning_send_letter", send_letter):
            self._run(self.START + timedelta(days=7))
        step = self.Comm.search([("level_id", "=", self.levels[7].id)], order="id")
        failing = step.filtered(lambda c: c.state == "failed")
        self.assertEqual(failing.mapped("partner_id"), self.customer2)
        self.assertEqual(failing.channel, "letter")
        self.assertEqual(len(inserts), 1, "one insert for the batch")
        sent = step - failing
        self.assertEqual(len(sent), 3)
        self.assertEqual(set(inserts[0]), set(sent.ids), "every message sent, only those")
        batch_rows = self._fact_rows()
        self.assertFalse([row for row in batch_rows if row[0] == failing.id])
        self.assertTrue(all(row[FACT_COLUMNS.index("step_first")] ==
                            (row[FACT_COLUMNS.index("channel")] == "email")
                            for row in batch_rows
                            if row[FACT_COLUMNS.index("level_id")] == self.levels[7].id),
                        "the e-mail left first: its rows open the step")

        # one message at a time, in the order they left, as before
        self.env.cr.execute("DELETE FROM dunning_fact")
        self.env.invalidate_all()
        for comm_id in self.Comm.search([("state", "=", "sent")]).sorted(
                lambda c: (c.sent_at, c.channel == "letter", c.id)).ids:
            Fact._dunning_fact_refresh(Fact._dunning_fact_insert([comm_id]))
        self.assertEqual(self._fact_rows(), batch_rows)
        # the first step's e-mails (3 invoices), the second's e-mail and letter of the first
        # customer (2 invoices each) and e-mail of the second (1)
        self.assertEqual(len(batch_rows), 8)

    def test_previous_messages_of_a_batch_read_at_once_are_those_read_one_by_one(self):
        """A batch reads the previous message each of its messages states in one query: the
        same message as the search for each (messages of the same step do not count)."""
        self.levels[7].channel_ids = [Command.create({"channel": "letter"})]
        self._invoice(self.START)
        self._invoice(self.START, partner=self.customer2)
        self._run(self.START)
        first = self._comms()
        self.assertEqual(first.state, "sent")
        with freeze_time(f"{(self.START + timedelta(days=7)).isoformat()} 10:00:00"):
            self.env["dunning.plan"]._dunning_plan()
        planned = self.Comm.search([("state", "=", "scheduled")])
        self.assertEqual(len(planned), 4, "an e-mail and a letter for each customer")
        Message = self.env["dunning.message"]
        prefetched = Message._dunning_previous_of(planned | first)
        self.assertNotIn(first.id, prefetched, "a message already sent is searched as before")
        for comm in planned:
            self.assertEqual(prefetched[comm.id] or False, Message._dunning_previous(comm).id)
        self.assertEqual({prefetched[c.id] for c in planned if c.partner_id == self.customer},
                         {self._comms(partner=self.customer, level_id=self.levels[0].id).id})
        sent_seven = []
        original = type(Message)._dunning_previous

        def recorded(message_model, comm):
            previous = original(message_model, comm)
            sent_seven.append((comm.id, previous.id))
            return previous

        with patch.object(type(Message), "_dunning_previous", recorded):
            self._run(self.START + timedelta(days=7))
        self.assertEqual(set(planned.mapped("state")), {"sent"})
        self.assertTrue(sent_seven)
        for comm_id, previous_id in sent_seven:
            self.assertEqual(previous_id or None, prefetched[comm_id])

    def test_email_and_letter_of_a_step_share_their_statement_while_a_batch_renders(self):
        """While a batch renders, the e-mail and the letter of a step state one statement,
        computed once, the same as each computes alone; another time zone computes its own;
        outside the batch's rendering nothing is shared."""
        self.levels[7].channel_ids = [Command.create({"channel": "letter"})]
        self._invoice(self.START)
        self._invoice(self.START, amount=250.0)
        self._run(self.START)
        with freeze_time(f"{(self.START + timedelta(days=7)).isoformat()} 10:00:00"):
            self.env["dunning.plan"]._dunning_plan()
        step = self.Comm.search([("state", "=", "scheduled")], order="id")
        self.assertEqual(sorted(step.mapped("channel")), ["email", "letter"])
        Message = self.env["dunning.message"]
        alone = [Message._dunning_statement_of(comm) for comm in step]
        Statement = type(self.env["dunning.statement"])
        computed = []
        original = Statement._dunning_statement

        def counted(statement_model, *args, **kwargs):
            computed.append(args[0])
            return original(statement_model, *args, **kwargs)

        store = send_module.batch_store(self.env.cr)
        store[send_module.STATEMENTS_KEY] = {}
        try:
            with patch.object(Statement, "_dunning_statement", counted):
                shared = [Message._dunning_statement_of(comm) for comm in step]
                self.assertEqual(len(computed), 1, "one statement for the step's two messages")
                Message.with_context(tz="Asia/Tokyo")._dunning_statement_of(step[0])
                self.assertEqual(len(computed), 2, "another time zone (today), its own")
        finally:
            store.pop(send_module.STATEMENTS_KEY)
        for one, other in zip(alone, shared):
            self.assertEqual(one, other)
        self.assertIsNot(shared[0], shared[1], "each message gets its own copy")
        with patch.object(Statement, "_dunning_statement", counted):
            Message._dunning_statement_of(step[0])
        self.assertEqual(len(computed), 3, "outside a batch's rendering, computed each time")
        self._run(self.START + timedelta(days=7))
        self.assertEqual(set(step.mapped("state")), {"sent"})
