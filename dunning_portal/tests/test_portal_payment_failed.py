"""Online payments that fail, are cancelled or succeed, on Odoo's own payment transactions
(a test provider set up as Odoo's payment tests do; the provider's answer is the state change
its code would call): the failed-payment steps, the invoice back in its chain afterwards,
Retry the Charge with the customer's saved payment method, the automatic retry."""
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.service import model as rpc
from odoo.tests import freeze_time, new_test_user, tagged

from odoo.addons.dunning_chain.tests.common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningPaymentFailed(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.failed_policy = cls.env.ref("dunning_chain.policy_failed_payment")
        cls.notice = cls.env.ref("dunning_chain.level_payment_failed")
        cls.retry = cls.env.ref("dunning_chain.level_payment_retry")
        cls.pm = cls.env.ref("payment.payment_method_unknown")
        redirect_form = cls.env["ir.ui.view"].create({
            "name": "Dummy Redirect Form", "type": "qweb",
            "arch": '<form action="dummy" method="post"/>'})
        cls.provider = cls.env["payment.provider"].create({
            "name": "Dummy Provider", "code": "none", "state": "test", "is_published": True,
            "company_id": cls.env.company.id, "allow_tokenization": True,
            "payment_method_ids": [Command.set(cls.pm.ids)],
            "redirect_form_view_id": redirect_form.id,
        })
        cls.pm.write({"active": True, "support_tokenization": True})
        # a journal and an outstanding account for its payments (account_payment's tests)
        cls._create_dummy_payment_method_for_provider(
            provider=cls.provider, journal=cls.company_data["default_journal_bank"])
        cls.provider.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == cls.provider
        ).payment_account_id = cls.inbound_payment_method_line.payment_account_id
        cls.dunning_user = new_test_user(cls.env, login="dun_pay_user",
                                         groups="dunning_chain.group_dunning_user")
        cls.billing_user = new_test_user(cls.env, login="dun_pay_billing",
                                         groups="account.group_account_invoice")

    def _tx(self, invoices, operation="online_redirect", **values):
        return self.env["payment.transaction"].sudo().create({
            "provider_id": self.provider.id, "payment_method_id": self.pm.id,
            "reference": self.env["payment.transaction"]._compute_reference(
                "none", prefix=invoices[:1].name),
            "amount": sum(invoices.mapped("amount_residual")),
            "currency_id": invoices.currency_id.id, "partner_id": self.customer.id,
            "operation": operation, "invoice_ids": [Command.set(invoices.ids)], **values,
        })

    def _fail(self, invoices, day, reason="Card declined by the issuing bank", hour=9):
        """The customer pays online; the provider answers that it did not go through."""
        with freeze_time(f"{day.isoformat()} {hour:02d}:30:00"):
            tx = self._tx(invoices)
            tx._set_error(reason)
        return tx

    def _token(self, partner, **values):
        return self.env["payment.token"].sudo().create({
            "provider_id": self.provider.id, "payment_method_id": self.pm.id,
            "payment_details": "4242", "partner_id": partner.id,
            "provider_ref": f"ref-{partner.id}", **values})

    def _rpc(self, user, model, method, *args, **kwargs):
        self.env.flush_all()
        env = self.env(user=user.id, context={})
        result = rpc.call_kw(env[model], method, list(args), kwargs)
        env.flush_all()
        return result

    # ------------------------------------------------------------------ the failed-payment steps
    def test_failed_payment_notice_retry_then_back_in_the_chain(self):
        due = self.START - timedelta(days=5)  # Wednesday 25 February
        invoice = self._invoice(due)
        self._run(due)
        self.assertEqual(invoice.dunning_level_id, self.levels[0])
        # Monday 2 March: the customer pays online, the card is declined
        self._fail(invoice, self.START)
        self.assertTrue(invoice.dunning_payment_failed_at)
        self.assertEqual(invoice.dunning_payment_failed_reason, "Card declined by the issuing bank")
        self.assertTrue(self.env["ir.cron.trigger"].search([
            ("cron_id", "=", self.env.ref("dunning_chain.ir_cron_dunning_run").id)]),
            "the run is called at once")
        self.assertTrue(invoice.message_ids.filtered(lambda m: "did not go through" in (m.body or "")))
        # at once: the notice, with the provider's reason and the link to pay another way
        self._run(self.START)
        notice = self._comms(level_id=self.notice.id)
        self.assertEqual(notice.state, "sent")
        self.assertEqual(notice.policy_id, self.failed_policy)
        self.assertEqual(notice.line_ids.move_id, invoice)
        self.assertIn("did not go through", notice.body)
        self.assertIn("Card declined by the issuing bank", notice.body)
        self.assertIn("Pay another way", notice.body)
        self.assertIn(notice.customer_url, notice.body)
        self.assertIn("/dunning/", notice.customer_url, "the customer's signed page")
        self.assertEqual(invoice.dunning_level_id, self.levels[0], "its place in the chain kept")
        # the chain's +7 step (Wednesday 4 March) waits for the failed-payment steps
        self._run(self.START + timedelta(days=2))
        self.assertFalse(self._comms(level_id=self.levels[7].id))
        # three days after the failure: the retry reminder
        self._run(self.START + timedelta(days=3))
        retry = self._comms(level_id=self.retry.id)
        self.assertEqual(retry.state, "sent")
        self.assertIn("did not go through", retry.body)
        self.assertIn(retry.customer_url, retry.body)
        # then the invoice rejoins its chain at the level it had: +7 goes
        self._run(self.START + timedelta(days=4))
        self.assertFalse(invoice.dunning_payment_failed_at, "the episode is over")
        first = self._comms(level_id=self.levels[7].id)
        self.assertEqual(first.state, "sent")
        self.assertEqual(first.line_ids.previous_level_id, self.levels[0])
        self.assertEqual(invoice.dunning_level_id, self.levels[7])
        self.assertEqual(len(self._comms(policy_id=self.failed_policy.id)), 2, "nothing twice")

    def test_failure_takes_the_invoice_out_of_its_planned_reminder(self):
        invoice = self._invoice(self.START)
        other = self._invoice(self.START, amount=250.0)
        planned = self._run(self.START, hour=6)  # due today, planned for 09:00 in Madrid
        self.assertEqual(planned.line_ids.move_id, invoice | other)
        self._fail(invoice, self.START, hour=7)
        self.assertEqual(planned.line_ids.move_id, other, "its chain waits for the failed steps")
        self.assertFalse(invoice.dunning_level_id, "back to the level it had before that step")
        self.assertTrue(planned.message_ids.filtered(
            lambda m: "failed-payment steps come first" in (m.body or "")))
        self._run(self.START, hour=10)
        notice = self._comms(level_id=self.notice.id)
        self.assertEqual(notice.line_ids.move_id, invoice)
        self.assertEqual(notice.state, "sent")
        self.assertEqual(planned.state, "sent")

    def test_successful_payment_ends_the_failed_steps(self):
        due = self.START - timedelta(days=5)
        invoice = self._invoice(due)
        self._run(due)
        self._fail(invoice, self.START)
        self._run(self.START)
        self.assertEqual(self._comms(level_id=self.notice.id).state, "sent")
        # the next day the customer pays with another card
        with freeze_time(f"{(self.START + timedelta(days=1)).isoformat()} 08:00:00"):
            tx = self._tx(invoice)
            tx._set_done()
            tx._post_process()
        self.assertFalse(invoice.dunning_payment_failed_at, "a payment ends the steps")
        self.assertEqual(invoice.payment_state, "paid")
        self._run(self.START + timedelta(days=1))
        thanks = self._comms(kind="thanks")
        self.assertEqual(thanks.state, "sent", "thanked: a real payment")
        self._run(self.START + timedelta(days=3))
        self._run(self.START + timedelta(days=8))
        self.assertFalse(self._comms(level_id=self.retry.id), "no retry reminder")
        self.assertFalse(self._comms(level_id=self.levels[7].id))

    def test_cancelled_payment_without_a_reason(self):
        invoice = self._invoice(self.START + timedelta(days=10))  # not due yet
        with freeze_time(f"{self.START.isoformat()} 09:00:00"):
            self._tx(invoice)._set_canceled()
        self._run(self.START)
        notice = self._comms(level_id=self.notice.id)
        self.assertEqual(notice.state, "sent")
        self.assertNotIn("gave this reason", notice.body)
        # a second failure during the episode starts nothing new
        self._fail(invoice, self.START + timedelta(days=1), reason="Expired card")
        self._run(self.START + timedelta(days=1))
        self.assertEqual(len(self._comms(level_id=self.notice.id)), 1)
        self.assertEqual(invoice.dunning_payment_failed_reason, "Expired card")

    def test_failed_payment_of_an_invoice_in_dispute_sends_nothing(self):
        invoice = self._invoice(self.START)
        invoice._dunning_dispute("Wrong quantity")
        self._fail(invoice, self.START)
        self.assertFalse(invoice.dunning_payment_failed_at)
        self._run(self.START)
        self.assertFalse(self._comms())
        self.assertTrue(invoice.message_ids.filtered(lambda m: "nothing is sent" in (m.body or "")))

    # ------------------------------------------------------------------ Retry the Charge
    def test_retry_the_charge_is_for_dunning_users_only(self):
        invoice = self._invoice(self.START)
        self._token(self.customer)
        for user in (self.billing_user, new_test_user(self.env, login="dun_pay_employee")):
            with self.assertRaises(AccessError):
                self._rpc(user, "account.move", "action_dunning_retry_charge", invoice.ids)
        self.assertFalse(invoice.transaction_ids, "no charge")

    def test_retry_the_charge_uses_the_customers_own_saved_method(self):
        invoice = self._invoice(self.START, amount=640.0)
        other_token = self._token(self.customer2)
        with self.assertRaisesRegex(UserError, "no saved payment method"):
            self._rpc(self.dunning_user, "account.move", "action_dunning_retry_charge",
                      invoice.ids)
        self.assertFalse(invoice.transaction_ids, "never another customer's card")
        # no saved method: the tab shows none (not a technical record name) and no button
        self.assertFalse(invoice.with_user(self.dunning_user).dunning_payment_token_label)
        contact = self.env["res.partner"].create({"name": "Accounts payable",
                                                   "parent_id": self.customer.id})
        token = self._token(contact)
        invoice.invalidate_recordset(["dunning_payment_token_label"])
        self.assertEqual(invoice.with_user(self.dunning_user).dunning_payment_token_label,
                         f"Dummy Provider: {token.display_name}")
        self._rpc(self.dunning_user, "account.move", "action_dunning_retry_charge", invoice.ids)
        tx = invoice.transaction_ids
        self.assertEqual(len(tx), 1)
        self.assertEqual(tx.token_id, token)
        self.assertNotEqual(tx.token_id, other_token)
        self.assertEqual(tx.operation, "offline")
        self.assertEqual(tx.amount, 640.0)
        self.assertEqual(tx.partner_id, self.customer)
        self.assertTrue(invoice.message_ids.filtered(
            lambda m: tx.reference in (m.body or "") and "Retry the Charge" in m.body),
            "the attempt is recorded on the invoice")
        # the provider's answer is recorded too, and starts no failed-payment steps
        tx._set_error("Insufficient funds")
        self.assertTrue(invoice.message_ids.filtered(lambda m: "Insufficient funds" in (m.body or "")))
        self.assertFalse(invoice.dunning_payment_failed_at)

    def test_automatic_retry_at_the_retry_step(self):
        self.failed_policy.auto_retry_charge = True
        invoice = self._invoice(self.START - timedelta(days=5))
        self._token(self.customer)
        self._fail(invoice, self.START)
        self._run(self.START)
        notice = self._comms(level_id=self.notice.id)
        self.assertFalse(invoice.transaction_ids.filtered(lambda t: t.operation == "offline"),
                         "no charge before the retry step")
        # the retry step: the saved card is charged once, the reminder waits for the answer
        self._run(self.START + timedelta(days=3))
        charge = invoice.transaction_ids.filtered(lambda t: t.operation == "offline")
        self.assertEqual(len(charge), 1)
        self.assertFalse(self._comms(level_id=self.retry.id))
        self.assertTrue(notice.message_ids.filtered(lambda m: charge.reference in (m.body or "")),
                        "recorded on the failed-payment message too")
        charge._set_error("Insufficient funds")
        # it failed too: the reminder goes, and the card is not charged again
        self._run(self.START + timedelta(days=3), hour=11)
        self.assertEqual(self._comms(level_id=self.retry.id).state, "sent")
        self.assertEqual(len(invoice.transaction_ids.filtered(lambda t: t.operation == "offline")), 1)

    def test_automatic_retry_that_goes_through(self):
        self.failed_policy.auto_retry_charge = True
        invoice = self._invoice(self.START - timedelta(days=5))
        self._run(self.START - timedelta(days=5))
        self._token(self.customer)
        self._fail(invoice, self.START)
        self._run(self.START)
        self._run(self.START + timedelta(days=3))
        charge = invoice.transaction_ids.filtered(lambda t: t.operation == "offline")
        with freeze_time(f"{(self.START + timedelta(days=3)).isoformat()} 10:30:00"):
            charge._set_done()
            charge._post_process()
        self.assertEqual(invoice.payment_state, "paid")
        self._run(self.START + timedelta(days=4))
        self.assertFalse(self._comms(level_id=self.retry.id))
        self.assertEqual(self._comms(kind="thanks").state, "sent")
