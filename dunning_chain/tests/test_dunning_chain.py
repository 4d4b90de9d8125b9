import io
import re
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged
from odoo.tools.pdf import OdooPdfFileReader

from odoo.addons.base.models.ir_actions_report import _wkhtml
from odoo.addons.dunning_chain.models import dunning_send as send_module
from odoo.addons.dunning_chain.tools import letter_pdf

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningChain(DunningCommon):

    def test_whole_chain_from_due_date_to_handoff_and_thanks(self):
        """One invoice walks the default chain over simulated time, then is paid."""
        due = self.START
        invoice = self._invoice(due, amount=1200.0)

        # before the due date, a customer who pays on time gets no friendly notice
        self._run(due - timedelta(days=3))
        self.assertFalse(self._comms(), "the friendly notice is for late payers only")

        self._run(due)
        due_today = self._comms()
        self.assertEqual(due_today.level_id, self.levels[0])
        self.assertEqual(due_today.state, "sent")
        self.assertEqual(due_today.channel, "email")
        self.assertIn("due today", due_today.subject)
        self.assertIn(invoice.name, due_today.body)
        # the customer can see and pay online from the message (the invoice's portal page, or
        # the customer's signed dunning page when dunning_portal is installed)
        link = re.search(r'href="([^"]+)"[^>]*>\s*See and pay online', due_today.body)
        self.assertTrue(link and link.group(1).startswith("http"), due_today.body)
        self.assertIn("pagos@alcala.example.com", due_today.recipients)
        self.assertEqual(due_today.amount_total, 1200.0)
        self.assertEqual(invoice.dunning_level_id, self.levels[0])
        # the mail really leaves to the customer, from the communication's thread
        mail = self.env["mail.mail"].search([("mail_message_id", "=", due_today.mail_message_id.id)])
        self.assertEqual(mail.recipient_ids, self.customer)
        # the chatter of the invoice and of the customer say so, with a link
        for record in (invoice, self.customer):
            note = record.message_ids.filtered(lambda m: due_today.name in (m.body or ""))
            self.assertTrue(note, f"no chatter entry on {record}")
            self.assertIn("Due today", note[0].body)

        # the same day again: nothing new
        self._run(due, hour=15)
        self.assertEqual(len(self._comms()), 1)

        self._run(due + timedelta(days=7))
        first = self._comms(level_id=self.levels[7].id)
        self.assertEqual(first.state, "sent")
        self.assertTrue(first.attachment_ids, "the first reminder attaches the invoice")

        self._run(due + timedelta(days=15))
        call = self._comms(level_id=self.levels[15].id)
        self.assertEqual(call.channel, "call")
        self.assertEqual(call.delivery_state, "task")
        activity = self.env["mail.activity"].browse(call.activity_id.id)
        self.assertEqual(activity.res_id, self.customer.id)
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        self.assertIn(invoice.name, str(activity.note))

        self._run(due + timedelta(days=30))
        letter = self._comms(level_id=self.levels[30].id)
        self.assertEqual(letter.state, "sent")
        self.assertEqual(len(letter.attachment_ids), 1, "the letter itself goes with the e-mail")
        self.assertIn("Reminder letter", letter.attachment_ids.name)

        # +45: final notice needs review: planned, not sent
        self._run(due + timedelta(days=45))
        final = self._comms(level_id=self.levels[45].id)
        self.assertEqual(set(final.mapped("channel")), {"certified", "email"})
        self.assertEqual(set(final.mapped("state")), {"to_review"})
        with freeze_time(f"{(due + timedelta(days=46)).isoformat()} 10:00:00"):
            final.action_approve()
            self.env["dunning.send"]._dunning_send_due()
        self.assertEqual(set(final.mapped("state")), {"sent"})
        certified = final.filtered(lambda c: c.channel == "certified")
        self.assertEqual(certified.delivery_state, "task")
        certified.tracking_reference = "RR123456789ES"  # recorded after posting: allowed

        self._run(due + timedelta(days=60))
        handoff = self._comms(level_id=self.levels[60].id)
        self.assertEqual(handoff.state, "to_review")
        handoff.action_approve()
        self._run(due + timedelta(days=63))  # +61 is a Saturday: it waits for Monday
        self.assertEqual(handoff.state, "sent")
        self.assertIn("Debt summary", handoff.attachment_ids.name)

        # final level: nothing more is planned
        self._run(due + timedelta(days=90))
        self.assertEqual(len(self._comms()), 7)

        # payment stops the chain and thanks the customer
        self._pay(invoice, day=due + timedelta(days=91))
        self._run(due + timedelta(days=91))
        thanks = self._comms().filtered(lambda c: "Payment received" in (c.reason or ""))
        self.assertEqual(thanks.state, "sent")
        self.assertIn("thank you", thanks.subject.lower())
        self.assertFalse(invoice.dunning_level_id)
        # the whole history is intact and chained
        self.assertFalse(self._comms()._dunning_broken_links())

    def test_grouping_one_message_lists_all_invoices(self):
        inv1 = self._invoice(self.START, amount=100.0)
        inv2 = self._invoice(self.START - timedelta(days=2), amount=250.0)
        self._run(self.START + timedelta(days=7))
        comm = self._comms()
        self.assertEqual(len(comm), 1)
        self.assertEqual(comm.invoice_ids, inv1 | inv2)
        self.assertEqual(comm.amount_total, 350.0)
        self.assertIn(inv1.name, comm.body)
        self.assertIn(inv2.name, comm.body)

    def test_grouping_per_invoice(self):
        self.policy.grouping = "invoice"
        self._invoice(self.START, amount=100.0)
        self._invoice(self.START, amount=250.0)
        self._run(self.START + timedelta(days=7))
        comms = self._comms()
        self.assertEqual(len(comms), 2)
        self.assertEqual(sorted(comms.mapped("amount_total")), [100.0, 250.0])

    def test_skipped_levels_no_burst(self):
        """An invoice 40 days late when the chain starts gets the +30 level only."""
        invoice = self._invoice(self.START - timedelta(days=40))
        self._run(self.START)
        comms = self._comms()
        self.assertEqual(comms.level_id, self.levels[30])
        self.assertEqual(len(comms), 1)
        self.assertIn("skipped", comms.reason)
        self.assertEqual(invoice.dunning_level_id, self.levels[30])

    def test_minimum_amount(self):
        self.policy.minimum_amount = 500.0
        self._invoice(self.START, amount=100.0)
        self._run(self.START + timedelta(days=7))
        self.assertFalse(self._comms())

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

    def test_partial_payment_updates_amount(self):
        invoice = self._invoice(self.START, amount=1000.0)
        self._run(self.START)
        self._pay(invoice, amount=400.0, day=self.START + timedelta(days=2))
        self._run(self.START + timedelta(days=7))
        comm = self._comms(level_id=self.levels[7].id)
        self.assertEqual(comm.amount_total, 600.0)
        self.assertEqual(comm.line_ids.amount_residual, 600.0)

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

    def test_credit_note_leaves_the_chain(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        self._reverse_invoice(invoice, post=True)
        self.assertEqual(invoice.payment_state, "reversed")
        self._run(self.START + timedelta(days=7))
        self.assertEqual(len(self._comms()), 1, "no reminder after the credit note")
        self.assertFalse(invoice.dunning_level_id)

    def test_instalments_are_dunned_by_their_own_due_date(self):
        term = self.env["account.payment.term"].create({
            "name": "Half now, half in 60 days",
            "line_ids": [
                Command.create({"value": "percent", "value_amount": 50, "nb_days": 0}),
                Command.create({"value": "percent", "value_amount": 50, "nb_days": 60}),
            ],
        })
        invoice = self._create_invoice_one_line(
            price_unit=1000.0, partner_id=self.customer.id, invoice_date=self.START,
            invoice_payment_term_id=term.id, tax_ids=[], post=True)
        self._run(self.START + timedelta(days=7))
        comm = self._comms()
        self.assertEqual(comm.level_id, self.levels[7])
        self.assertEqual(comm.line_ids.amount_overdue, 500.0, "only the first instalment is overdue")
        # the first instalment is paid: the chain starts again for the second one
        self._pay(invoice, amount=500.0, day=self.START + timedelta(days=8))
        self._run(self.START + timedelta(days=20))
        self.assertEqual(len(self._comms()), 1, "the second instalment is not due yet")
        self._run(self.START + timedelta(days=60))
        second = self._comms()[1:]
        self.assertEqual(second.level_id, self.levels[0])
        self.assertEqual(second.line_ids.due_date, self.START + timedelta(days=60))

    def test_dispute_pauses_until_resolved(self):
        invoice = self._invoice(self.START)
        with freeze_time(f"{self.START.isoformat()} 09:00:00"):
            invoice._dunning_dispute("The goods arrived damaged")
        self.assertTrue(invoice.activity_ids.filtered(lambda a: "Dispute" in a.summary))
        self._run(self.START + timedelta(days=10))
        self.assertFalse(self._comms(), "a disputed invoice is not reminded")
        invoice._dunning_resolve_dispute(False, "The delivery note is signed.")
        self.assertEqual(invoice.dunning_dispute_state, "rejected")
        self._run(self.START + timedelta(days=11))
        self.assertEqual(self._comms().level_id, self.levels[7])

    def _customer_mails(self, invoice):
        return invoice.message_ids.filtered(
            lambda m: self.customer in m.partner_ids and m.message_type == "comment")

    def test_dispute_answer_reaches_the_customer(self):
        invoice = self._invoice(self.START)
        invoice._dunning_dispute("We never received the goods")
        wizard = self.env["dunning.dispute.wizard"].with_context(
            **invoice.action_dunning_answer_dispute()["context"]).create({
                "answer": "The carrier has the delivery note signed on 2 March."})
        self.assertEqual(wizard.decision, "reject")
        self.assertIn("never received", wizard.dispute_reason)
        wizard.action_confirm()
        self.assertEqual(invoice.dunning_dispute_state, "rejected")
        self.assertEqual(invoice.dunning_dispute_answer,
                         "The carrier has the delivery note signed on 2 March.")
        mail = self._customer_mails(invoice)
        self.assertEqual(len(mail), 1, "the answer is e-mailed to the customer")
        self.assertIn("cannot accept", mail.body)
        self.assertIn("delivery note signed", mail.body)
        self.assertRegex(mail.body, r'<a href="[^"]+">See your invoices, pay or contact us</a>',
                         "with the link to their invoices")
        self.assertEqual(mail.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertFalse(invoice.activity_ids.filtered(lambda a: a.summary == "Dispute to resolve"),
                         "the collector's task is done")
        with self.assertRaisesRegex(UserError, "None of these invoices has an open dispute"):
            invoice._dunning_resolve_dispute(True, "Twice")

    def test_dispute_accepted_offers_the_credit_note(self):
        invoice = self._invoice(self.START)
        invoice._dunning_dispute("Wrong price")
        wizard = self.env["dunning.dispute.wizard"].create({
            "move_ids": invoice.ids, "decision": "accept", "credit_note": True,
            "answer": "You are right: a credit note for the difference follows."})
        action = wizard.action_confirm()
        self.assertEqual(action["res_model"], "account.move.reversal")
        self.assertEqual(action["context"]["active_ids"], invoice.ids)
        self.assertEqual(invoice.dunning_dispute_state, "accepted")
        self.assertTrue(invoice.dunning_excluded, "an accepted dispute leaves the chain")
        self.assertIn("agree with you", self._customer_mails(invoice).body)
        self._run(self.START + timedelta(days=20))
        self.assertFalse(self._comms())

    def test_dispute_answer_needs_words_and_an_address(self):
        invoice = self._invoice(self.START)
        invoice._dunning_dispute("Quality")
        with self.assertRaisesRegex(UserError, "Write the answer"):
            invoice._dunning_resolve_dispute(False, "  ")
        self.assertEqual(invoice.dunning_dispute_state, "open", "nothing changed")
        self.customer.email = False
        invoice._dunning_resolve_dispute(False, "Checked: the goods were fine.")
        self.assertFalse(self._customer_mails(invoice))
        self.assertTrue(invoice.message_ids.filtered(lambda m: "no e-mail address" in m.body))
        self.assertTrue(invoice.activity_ids.filtered(
            lambda a: a.summary == "Tell the customer the answer to their dispute"))

    def test_promise_kept(self):
        invoice = self._invoice(self.START)
        with freeze_time(f"{self.START.isoformat()} 09:00:00"):
            invoice._dunning_promise(self.START + timedelta(days=10))
        self._run(self.START + timedelta(days=7))
        self.assertFalse(self._comms(), "paused until the promised date")
        self._pay(invoice, day=self.START + timedelta(days=9))
        self._run(self.START + timedelta(days=12))
        self.assertFalse(self._comms(), "never reminded: the promise was kept")
        self.assertEqual(invoice.dunning_promise_state, "kept")

    def test_broken_promise_reminds_at_once(self):
        invoice = self._invoice(self.START)
        self._run(self.START)  # due today sent
        with freeze_time(f"{self.START.isoformat()} 12:00:00"):
            invoice._dunning_promise(self.START + timedelta(days=3))
        self._run(self.START + timedelta(days=3))
        self.assertEqual(len(self._comms()), 1, "the promise still holds on its date")
        self._run(self.START + timedelta(days=4))
        broken = self._comms()[1:]
        self.assertEqual(broken.level_id, self.levels[7], "next level at once, not at +7")
        self.assertIn("promised", broken.reason)
        self.assertEqual(invoice.dunning_promise_state, "broken")

    def test_promise_limits(self):
        invoice = self._invoice(self.START)
        with freeze_time(f"{self.START.isoformat()} 09:00:00"):
            with self.assertRaisesRegex(UserError, "past"):
                invoice._dunning_promise(self.START - timedelta(days=1))
            with self.assertRaisesRegex(UserError, "at most 30 days"):
                invoice._dunning_promise(self.START + timedelta(days=31))
        self.assertEqual(invoice.dunning_promise_state, "none")

    def test_excluded_invoice_and_blocked_payment(self):
        inv1 = self._invoice(self.START)
        inv1.write({"dunning_excluded": True, "dunning_exclusion_reason": "Agreed with CFO"})
        inv2 = self._invoice(self.START, partner=self.customer2)
        inv2.action_toggle_block_payment()
        self.assertEqual(inv2.payment_state, "blocked")
        self._run(self.START + timedelta(days=7))
        self.assertFalse(self.Comm.search([("partner_id", "in", (self.customer | self.customer2).ids)]))

    def test_late_payer_gets_friendly_notice_before_due(self):
        old = self._invoice(self.START - timedelta(days=60))
        self._pay(old, day=self.START - timedelta(days=40))  # paid 20 days late
        self.assertGreater(self.customer.dunning_avg_days_late, 5)
        self._invoice(self.START + timedelta(days=3))
        self._run(self.START)
        comm = self._comms()
        self.assertEqual(comm.level_id, self.levels[-3])
        self.assertIn("due soon", comm.body)

    def test_review_mode(self):
        self.policy.mode = "review"
        self._invoice(self.START)
        self._run(self.START)
        comm = self._comms()
        self.assertEqual(comm.state, "to_review")
        self._run(self.START, hour=11)
        self.assertEqual(comm.state, "to_review", "nothing leaves without approval")
        comm.action_approve()
        self._run(self.START, hour=12)
        self.assertEqual(comm.state, "sent")

    def test_cancel_restores_previous_level(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        self.policy.mode = "review"
        self._run(self.START + timedelta(days=7))
        planned = self._comms(state="to_review")
        self.assertEqual(invoice.dunning_level_id, self.levels[7])
        planned.action_cancel()
        self.assertEqual(invoice.dunning_level_id, self.levels[0])

    def test_sent_communication_is_read_only_and_tamper_evident(self):
        self._invoice(self.START)
        self._run(self.START)
        self._run(self.START + timedelta(days=7))
        comms = self._comms()
        self.assertEqual(comms[1].previous_hash, comms[0].hash)
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            comms[0].body = "<p>Nothing to pay</p>"
        with self.assertRaises(UserError):
            comms[0].unlink()
        # an edit behind the ORM's back is detected
        self.env.cr.execute("UPDATE dunning_communication SET amount_total = 1 WHERE id = %s",
                            [comms[0].id])
        self.env.invalidate_all()
        self.assertEqual(comms._dunning_broken_links(), comms[0])
        with self.assertRaisesRegex(UserError, "altered"):
            comms[0].action_verify_hash_chain()

    def test_preview_sends_nothing(self):
        self._invoice(self.START - timedelta(days=8))
        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            action = self.policy.action_preview()
            wizard = self.env["dunning.preview.wizard"].browse(action["res_id"])
        self.assertEqual(wizard.line_ids.partner_id, self.customer)
        self.assertEqual(wizard.line_ids.level_id, self.levels[7])
        self.assertFalse(self._comms())

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

    def test_overdue_by_customer_aging_buckets(self):
        today = fields.Date.today()  # the view ages against the database date (UTC)
        for days, amount in ((-5, 10.0), (3, 20.0), (45, 40.0), (75, 80.0), (120, 160.0)):
            self._invoice(today - timedelta(days=days), amount=amount)
        partial = self._invoice(today - timedelta(days=10), amount=100.0)
        self._pay(partial, amount=60.0)
        self._pay(self._invoice(today - timedelta(days=200), amount=999.0))  # paid: not owed
        self.env.flush_all()
        row = self.env["dunning.aging"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(
            (row.amount_not_due, row.amount_1_30, row.amount_31_60, row.amount_61_90,
             row.amount_over_90, row.amount_overdue, row.amount_total),
            (10.0, 60.0, 40.0, 80.0, 160.0, 340.0, 350.0))
        self.assertEqual(row.invoice_count, 6)

    def test_planned_mid_minute_goes_out_in_the_same_run(self):
        """A run planning at 10:00:30 sends in that same run (not an hour later)."""
        self._invoice(self.START)
        with freeze_time(f"{self.START.isoformat()} 10:00:30"):
            self.env["dunning.plan"]._dunning_plan()
            self.env["dunning.send"]._dunning_send_due()
        self.assertEqual(self._comms().state, "sent")

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
