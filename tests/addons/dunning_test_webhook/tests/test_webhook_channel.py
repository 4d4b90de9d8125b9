import json
from datetime import timedelta

from odoo.tests import tagged

from odoo.addons.dunning_chain.tests.common import DunningCommon


@tagged("post_install", "-at_install")
class TestWebhookChannel(DunningCommon):
    """A channel added by another addon goes through plan, send and record like the core's."""

    def test_webhook_channel_plans_sends_and_is_recorded(self):
        level = self.levels[7]
        level.channel_ids = [(0, 0, {"channel": "webhook",
                                     "webhook_url": "https://erp.example.com/dunning"})]
        invoice = self._invoice(self.START, amount=640.0)
        self._run(self.START)
        planned = self._run(self.START + timedelta(days=7))
        self.assertEqual(sorted(planned.mapped("channel")), ["email", "webhook"])
        hook = self._comms(channel="webhook")
        self.assertEqual(hook.state, "sent", hook.failure_reason)
        self.assertEqual(hook.delivery_state, "delivered")
        call = self.env["dunning.test.webhook.call"].search([("communication_id", "=", hook.id)])
        payload = json.loads(call.payload)
        self.assertEqual(payload["invoices"], [[invoice.name, 640.0]])
        self.assertTrue(payload["link"].startswith("http"), "the customer link was issued")
        # the record: sealed, chained, in the chatter of the customer and the invoice
        self.assertTrue(hook.hash)
        self.assertIn(hook.previous_hash, self._comms().mapped("hash"))
        self.assertFalse(self._comms()._dunning_broken_links())
        self.assertTrue(invoice.message_ids.filtered(lambda m: hook.name in (m.body or "")))
        self.assertIn("Webhook", dict(hook._fields["channel"]._description_selection(self.env))
                      .get("webhook"))

    def test_webhook_failure_is_recorded_and_the_run_goes_on(self):
        level = self.levels[7]
        level.channel_ids = [(0, 0, {"channel": "webhook"})]  # no URL
        self._invoice(self.START)
        self._run(self.START)
        self._run(self.START + timedelta(days=7))
        hook = self._comms(channel="webhook")
        self.assertEqual(hook.state, "failed")
        self.assertIn("has no URL", hook.failure_reason)
        self.assertTrue(hook.activity_id)
        self.assertEqual(self._comms(channel="email", level_id=level.id).state, "sent")
