import io
from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.tests import freeze_time, tagged
from odoo.tools.pdf import OdooPdfFileReader

from odoo.addons.base.models.ir_actions_report import _wkhtml
from odoo.addons.dunning_chain.models import dunning_send as send_module
from odoo.addons.dunning_chain.tools import letter_pdf

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningSend(DunningCommon):
    """The sender: at most once, batches, letters, notes, delivery news."""

    def test_run_twice_sends_nothing_twice(self):
        self._invoice(self.START)
        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            planned = self.env["dunning.plan"]._dunning_plan()
            self.assertEqual(len(planned), 1)
            self.assertFalse(self.env["dunning.plan"]._dunning_plan(), "planning is idempotent")
            self.env["dunning.send"]._dunning_send_due()
            self.env["dunning.send"]._dunning_send_due()
            self.env["dunning.send"]._dunning_send_batch(planned)  # even when asked explicitly
        self.assertEqual(len(planned.message_ids.filtered(lambda m: m.message_type == "comment")), 1)

    def test_interrupted_run_then_rerun_sends_each_once(self):
        """A run that dies mid-batch loses its uncommitted work only; the rerun sends what is
        left and nothing twice."""
        customers = self.customer | self.customer2 | self.partner_a | self.partner_b
        customers.write({"email": "someone@example.com"})
        for partner in customers:
            self._invoice(self.START, partner=partner)
        day = f"{self.START.isoformat()} 10:00:00"
        with freeze_time(day):
            self.env["dunning.plan"]._dunning_plan()
        comms = self.Comm.search([("partner_id", "in", customers.ids)])
        self.assertEqual(len(comms), 4)

        original = type(self.Comm)._dunning_send_email
        sent = []

        def crash_on_third(comm):
            if len(sent) == 2:
                raise KeyboardInterrupt("worker killed")  # not an Exception: the run dies
            sent.append(comm.id)
            return original(comm)

        with freeze_time(day), patch.object(send_module, "SEND_BATCH_SIZE", 2), \
                patch.object(type(self.Comm), "_dunning_send_email", crash_on_third):
            # batch 1 is committed (here: kept), batch 2 dies and is rolled back
            self.env["dunning.send"]._dunning_send_due(limit=2)
            with self.assertRaises(KeyboardInterrupt):
                with self.env.cr.savepoint():
                    self.env["dunning.send"]._dunning_send_due()
        self.env.invalidate_all()
        self.assertEqual(sorted(comms.mapped("state")), ["scheduled", "scheduled", "sent", "sent"])
        with freeze_time(day):
            self.env["dunning.send"]._dunning_send_due()
            self.env["dunning.send"]._dunning_send_due()
        self.assertEqual(set(comms.mapped("state")), {"sent"})
        for comm in comms:
            self.assertEqual(len(self.env["mail.mail"].search(
                [("model", "=", comm._name), ("res_id", "=", comm.id)])), 1)

    def test_payment_between_plan_and_send_cancels(self):
        invoice = self._invoice(self.START)
        self.policy.mode = "review"
        self._run(self.START)
        comm = self._comms()
        self.assertEqual(comm.state, "to_review")
        self._pay(invoice, day=self.START)
        comm.action_approve()
        self._run(self.START, hour=11)
        self.assertEqual(comm.state, "cancelled")
        self.assertIn("paid", comm.failure_reason)
        self.assertFalse(self.env["mail.mail"].search([("res_id", "=", comm.id),
                                                       ("model", "=", comm._name)]))

    def test_cron_runs_through_the_scheduler(self):
        """The scheduled action itself (with its progress commits) plans and sends."""
        self._invoice(self.START)
        cron = self.env.ref("dunning_chain.ir_cron_dunning_run")
        with freeze_time(f"{self.START.isoformat()} 10:00:00"), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertEqual(self._comms().state, "sent")

    def test_letters_rendered_in_batches_are_cut_per_letter(self):
        """Letters of a run are rendered together by wkhtmltopdf (a real PDF here) and cut back
        into one document per customer, each opening with its own letter."""
        partners = self.env["res.partner"].create([{
            "name": f"Letter customer {i}", "email": f"l{i}@example.com", "street": f"Street {i}",
        } for i in range(3)])
        for partner in partners:
            self._invoice(self.START - timedelta(days=30), partner=partner)
            self._invoice(self.START - timedelta(days=31), partner=partner)
        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            self.env["dunning.plan"]._dunning_plan()
            letters = self.Comm.search([("partner_id", "in", partners.ids)])
            self.assertEqual(set(letters.mapped("channel")), {"letter"})
            self.env["dunning.send"]._dunning_send_batch(
                letters.with_context(force_report_rendering=True))
        self.assertEqual(set(letters.mapped("state")), {"sent"})
        for comm in letters:
            pdf = comm.attachment_ids.raw
            self.assertTrue(pdf.startswith(b"%PDF"), "a real PDF")
            reader = OdooPdfFileReader(io.BytesIO(pdf), strict=False)
            starts = [n for n in range(len(reader.pages))
                      if letter_pdf.LETTER_MARK.search(reader.pages[n].get_contents().get_data())]
            self.assertEqual(starts, [0], "exactly one letter, from its first page")
            self.assertEqual(len(reader.pages), 1, "a short letter fits on one page")
            text = " ".join(reader.pages[0].extract_text().split())
            if not _wkhtml().is_patched_qt:
                # glyphs drawn as shapes would leave no text: the letter uses a server font
                self.assertIn("Payment reminder", text)
                self.assertIn(comm.partner_id.name, text, "each part is its own letter")
                self.assertIn(comm.company_id.name, text, "the sender, though no header is drawn")
                self.assertLess(len(pdf), 100_000, "text, not a megabyte of shapes")

    def test_email_and_letter_of_a_step_make_one_note_per_invoice(self):
        self.levels[7].channel_ids = [Command.create({"channel": "letter"})]
        inv1, inv2 = self._invoice(self.START), self._invoice(self.START, amount=250.0)
        self._run(self.START)
        before = {inv: len(inv.message_ids) for inv in (inv1, inv2)}
        partner_before = len(self.customer.message_ids)
        self._run(self.START + timedelta(days=7))
        step = self._comms(level_id=self.levels[7].id)
        self.assertEqual(sorted(step.mapped("channel")), ["email", "letter"])
        self.assertEqual(set(step.mapped("state")), {"sent"})
        for inv in (inv1, inv2):
            new = inv.message_ids[:len(inv.message_ids) - before[inv]]
            notes = new.filtered(lambda m: any(c.name in (m.body or "") for c in step))
            self.assertEqual(len(notes), 1, "one note naming both channels")
            for comm in step:
                self.assertIn(comm.name, notes.body)
        partner_notes = self.customer.message_ids[:len(self.customer.message_ids) - partner_before]
        note = partner_notes.filtered(lambda m: all(c.name in (m.body or "") for c in step))
        self.assertEqual(len(note), 1)
        self.assertEqual(note.attachment_ids, step.attachment_ids, "the letter goes with it")

    def test_email_queued_then_delivery_states_follow_odoo(self):
        self._invoice(self.START)
        self._run(self.START)
        comm = self._comms()
        self.assertEqual((comm.channel, comm.state, comm.delivery_state),
                         ("email", "sent", "pending"), "in Odoo's outgoing queue")
        mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", comm.mail_message_id.id)])
        self.assertEqual(mail.state, "outgoing")
        self.assertEqual(comm.mail_message_id.author_id, comm.company_id.partner_id,
                         "the company writes to its customer")
        # the queue manager hands it to the SMTP server (simulated: nothing leaves the machine)
        notification = self.env["mail.notification"].sudo().search(
            [("mail_message_id", "=", comm.mail_message_id.id)])
        self.assertEqual(notification.notification_status, "ready")
        notification.notification_status = "sent"
        self.env["dunning.send"]._dunning_sync_delivery(comm)
        self.assertEqual(comm.delivery_state, "sent")
        # a bounce reported later: the reason and a task for the collector
        notification.write({"notification_status": "bounce",
                            "failure_reason": "550 mailbox unavailable"})
        self.env["dunning.send"]._dunning_sync_delivery()
        self.assertEqual(comm.delivery_state, "bounced")
        self.assertIn("550 mailbox unavailable", comm.failure_reason)
        self.assertIn(self.customer.email, comm.failure_reason)
        self.assertTrue(comm.activity_ids.filtered(lambda a: "not delivered" in a.summary))
        self.assertFalse(self.env["dunning.send"]._dunning_sync_delivery(), "nothing new to copy")
