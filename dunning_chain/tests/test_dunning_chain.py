import re
from datetime import timedelta

from odoo.tests import freeze_time, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningChain(DunningCommon):
    """The whole chain, end to end: one invoice from its due date to the hand-off and the thanks."""

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
        self.assertEqual(activity.activity_type_id,
                         self.env.ref("dunning_chain.mail_activity_type_dunning_call"))
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
