from contextlib import nullcontext
from unittest.mock import patch

from odoo.orm import fields_textual
from odoo.tests import freeze_time, tagged
from odoo.tools import html_sanitize

from odoo.addons.dunning_chain.models import dunning_send_chatter
from odoo.addons.dunning_chain.models.dunning_channel_email import DunningChannelEmail
from odoo.addons.dunning_chain.models.dunning_statement import DunningStatement

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningSendMailBatch(DunningCommon):
    """E-mails of a send batch: bodies rendered in one pass, outgoing mails created together
    at the end of the batch, as Odoo would have created them one by one."""

    def _plan_two_customers(self):
        for partner in (self.customer, self.customer2):
            self._invoice(self.START, partner=partner)
            self._invoice(self.START, amount=420.0, partner=partner)
        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            self.env["dunning.plan"]._dunning_plan()
        comms = self.Comm.search([("partner_id", "in", (self.customer | self.customer2).ids)])
        self.assertEqual(len(comms), 2)
        self.assertEqual(set(comms.mapped("channel")), {"email"})
        return comms

    def test_bodies_rendered_in_one_pass_are_those_of_one_by_one(self):
        comms = self._plan_two_customers()
        template = comms[0]._dunning_mail_template()
        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            one_by_one = template._render_field("body_html", comms.ids, compute_lang=True)
            once = template.with_context(dunning_render_once=True)._render_field(
                "body_html", comms.ids, compute_lang=True)
        self.assertEqual(once, one_by_one)
        for comm in comms:
            self.assertIn(comm.partner_id.name, once[comm.id])
            self.assertNotIn(comms[1 if comm == comms[0] else 0].partner_id.name, once[comm.id],
                             "each customer's body names only that customer")

    def test_batch_mails_are_odoos_and_delivery_states_follow(self):
        comms = self._plan_two_customers()
        alone = comms.filtered(lambda c: c.partner_id == self.customer)
        batched = comms - alone
        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            # one sent alone (Odoo's message_post notifies at once), one in a batch
            self.env["dunning.send"]._dunning_send_one(alone)
            mail_alone = self.env["mail.mail"].sudo().search(
                [("mail_message_id", "=", alone.mail_message_id.id)])
            self.assertEqual(len(mail_alone), 1)
            self.env["dunning.send"]._dunning_send_batch(batched)
        self.assertEqual(batched.state, "sent")
        message = batched.mail_message_id
        self.assertEqual(message.message_type, "comment", "the e-mail in the chatter")
        self.assertEqual(message.model, "dunning.communication")
        self.assertEqual(message.res_id, batched.id)
        self.assertEqual(message.partner_ids, self.customer2)
        mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.state, "outgoing", "in Odoo's outgoing queue")
        self.assertEqual(mail.recipient_ids, self.customer2)
        # the same mail as Odoo creates: same values filled in, the same layout around the body
        filled = ("subject", "email_from", "reply_to", "references", "headers", "auto_delete",
                  "is_notification", "model", "res_id", "recipient_ids", "body_html")
        self.assertEqual({f for f in filled if mail[f]}, {f for f in filled if mail_alone[f]})
        self.assertIn(self.customer2.name, mail.body_html)
        self.assertEqual(mail.body_html.split(str(batched.company_id.name))[0][:200],
                         mail_alone.body_html.split(str(alone.company_id.name))[0][:200])
        notification = self.env["mail.notification"].sudo().search(
            [("mail_message_id", "=", message.id)])
        self.assertEqual((notification.notification_type, notification.notification_status,
                          notification.res_partner_id, notification.mail_mail_id),
                         ("email", "ready", self.customer2, mail))
        self.assertEqual(batched.delivery_state, "pending")
        notification.notification_status = "sent"
        self.env["dunning.send"]._dunning_sync_delivery(batched)
        self.assertEqual(batched.delivery_state, "sent", "delivery news as before")
        self.assertTrue(batched.hash, "sealed")
        # the notes on customer and invoices are still written
        self.assertTrue(self.customer2.message_ids.filtered(
            lambda m: batched.name in (m.body or "")))
        for invoice in batched.invoice_ids:
            self.assertTrue(invoice.message_ids.filtered(lambda m: batched.name in (m.body or "")))

    def test_mail_of_a_communication_failing_after_posting_is_not_created(self):
        comms = self._plan_two_customers()
        failing = comms[0]
        original = type(self.env["dunning.charge"])._dunning_on_sent

        def fail_for_one(charges, comm):
            if comm == failing:
                raise ValueError("disk full")
            return original(charges, comm)

        with freeze_time(f"{self.START.isoformat()} 10:00:00"), \
                patch.object(type(self.env["dunning.charge"]), "_dunning_on_sent", fail_for_one):
            self.env["dunning.send"]._dunning_send_batch(comms)
        self.assertEqual(failing.state, "failed")
        self.assertIn("disk full", failing.failure_reason)
        self.assertFalse(failing.mail_message_id)
        self.assertEqual(comms[1].state, "sent")
        mails = self.env["mail.mail"].sudo().search([("model", "=", "dunning.communication"),
                                                     ("res_id", "in", comms.ids)])
        emails = mails.filtered(lambda m: m.mail_message_id.message_type == "comment")
        self.assertEqual(emails.mail_message_id, comms[1].mail_message_id,
                         "only the e-mail that was sent goes to the queue")

    def test_mails_of_a_batch_are_created_together(self):
        comms = self._plan_two_customers()
        Mail = type(self.env["mail.mail"])
        original = Mail.create
        sizes = []

        def counting_create(mails, vals_list):
            sizes.append(len(vals_list) if isinstance(vals_list, list) else 1)
            return original(mails, vals_list)

        with freeze_time(f"{self.START.isoformat()} 10:00:00"), \
                patch.object(Mail, "create", counting_create):
            self.env["dunning.send"]._dunning_send_batch(comms)
        self.assertEqual(set(comms.mapped("state")), {"sent"})
        self.assertEqual(sizes, [2], "one create for the two e-mails of the batch")
        for comm in comms:
            mail = self.env["mail.mail"].sudo().search(
                [("mail_message_id", "=", comm.mail_message_id.id)])
            self.assertEqual(mail.recipient_ids, comm.partner_id)
            self.assertIn(comm.partner_id.name, mail.body_html)

    def _sent_texts(self, comms):
        """What a send of ``comms`` stores: the e-mails' chatter messages, their copy in the
        record, their outgoing mails, the notes on customers and invoices."""
        texts = []
        for comm in comms.sorted("id"):
            message = comm.mail_message_id
            mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
            notes = (comm.partner_id.message_ids | comm.invoice_ids.message_ids).filtered(
                lambda m, c=comm: c.name in (m.body or "")).sorted(lambda m: (m.model, m.res_id))
            texts.append((str(message.body), str(comm.body), mail.body_html.replace(
                str(message.id), "ID"), [(n.model, n.res_id, str(n.body)) for n in notes],
                (message.subject, message.email_from, message.author_id, message.reply_to,
                 message.record_alias_domain_id, message.record_company_id,
                 message.partner_ids)))
        return texts

    def test_batch_sanitises_each_text_once_and_stores_odoos_result(self):
        """A batch (texts sanitised once, statements read together, the messages' reply-to,
        alias domain and company computed in one go) stores what Odoo's way stores."""
        comms = self._plan_two_customers()
        calls = []
        original = dunning_send_chatter._html_sanitize  # Odoo's
        batch_values = {}
        compute_values = DunningChannelEmail._dunning_mail_post_values
        read_together = DunningStatement._dunning_statement_prefetch

        def post_values(records, senders):
            batch_values.update(compute_values(records, senders))
            return batch_values

        def prefetch(statement, records):
            batch_values["prefetched"] = records
            return read_together(statement, records)

        def counting(src, *args, **kwargs):
            calls.append(str(src))
            return original(src, *args, **kwargs)

        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            # the customer links are issued once: both sends below give the same ones
            self.env["dunning.send"]._dunning_issue_customer_urls(comms)
            sent = {}
            for way, memo in (("once", dunning_send_chatter.sanitised_once),
                              ("odoo", nullcontext)):
                calls.clear()
                try:
                    with self.env.cr.savepoint(), \
                            patch.object(dunning_send_chatter, "sanitised_once", memo), \
                            patch.object(dunning_send_chatter, "_html_sanitize", counting), \
                            patch.object(fields_textual, "html_sanitize", counting
                                         if way == "odoo" else fields_textual.html_sanitize), \
                            patch.object(DunningChannelEmail, "_dunning_mail_post_values",
                                         post_values if way == "once" else lambda *a: {}), \
                            patch.object(DunningStatement, "_dunning_statement_prefetch",
                                         prefetch if way == "once" else lambda *a: None):
                        self.env["dunning.send"]._dunning_send_batch(comms)
                        self.env.flush_all()
                        self.assertEqual(set(comms.mapped("state")), {"sent"})
                        sent[way] = (self._sent_texts(comms), list(calls))
                        raise InterruptedError  # back to before the send
                except InterruptedError:
                    self.env.invalidate_all()
        (texts, once_calls), (texts_odoo, odoo_calls) = sent["once"], sent["odoo"]
        self.assertEqual(texts, texts_odoo, "the same chatter, record, mail and notes")
        self.assertEqual(batch_values.pop("prefetched"), comms)
        self.assertEqual(set(batch_values), set(comms.ids), "values computed for the batch")
        for comm, (message_body, record_body, _mail, notes, message) in zip(comms.sorted("id"),
                                                                           texts_odoo):
            _subject, _sender, _author, reply_to, alias_domain, company, _to = message
            self.assertEqual(batch_values[comm.id], {
                "record_alias_domain_id": alias_domain.id, "record_company_id": company.id,
                "reply_to": reply_to}, "what message_post computes itself")
            self.assertEqual(record_body, message_body)
            self.assertEqual(len(notes), 3, "the customer and its two invoices")
        self.assertEqual(len(set(once_calls)), len(once_calls), "each text sanitised once")
        self.assertLess(len(once_calls), len(odoo_calls))
        self.assertEqual(set(once_calls), set(odoo_calls))

    def test_sanitised_once_is_odoos_sanitiser_only_inside_the_block(self):
        body = '<p style="color: red; position: fixed">Hi <script>x()</script><b>there</b></p>'
        expected = html_sanitize(body, sanitize_style=True)
        with dunning_send_chatter.sanitised_once():
            first = fields_textual.html_sanitize(body, sanitize_style=True)
            again = fields_textual.html_sanitize(body, sanitize_style=True)
            other = fields_textual.html_sanitize(body, sanitize_style=False)
        self.assertEqual(first, expected)
        self.assertIs(again, first, "given again, not sanitised again")
        self.assertEqual(other, html_sanitize(body, sanitize_style=False))
        self.assertNotIn("script", first)
        self.assertIsNone(dunning_send_chatter._batch.sanitised, "nothing kept after the block")
        self.assertIsNot(fields_textual.html_sanitize(body, sanitize_style=True), first)
