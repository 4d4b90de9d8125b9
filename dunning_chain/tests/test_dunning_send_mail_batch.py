from unittest.mock import patch

from odoo.tests import freeze_time, tagged

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
