from datetime import timedelta

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningReactions(DunningCommon):
    """What the customer does: pays (partly), gets a credit note, disputes, promises; what the accountant excludes."""

    def test_partial_payment_updates_amount(self):
        invoice = self._invoice(self.START, amount=1000.0)
        self._run(self.START)
        self._pay(invoice, amount=400.0, day=self.START + timedelta(days=2))
        self._run(self.START + timedelta(days=7))
        comm = self._comms(level_id=self.levels[7].id)
        self.assertEqual(comm.amount_total, 600.0)
        self.assertEqual(comm.line_ids.amount_residual, 600.0)

    def test_credit_note_leaves_the_chain(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        self._reverse_invoice(invoice, post=True)
        self.assertEqual(invoice.payment_state, "reversed")
        self._run(self.START + timedelta(days=7))
        self.assertEqual(len(self._comms()), 1, "no reminder after the credit note")
        self.assertFalse(invoice.dunning_level_id)

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
