from datetime import timedelta

from odoo.tests import tagged

from .common import DunningPortalCommon


@tagged("post_install", "-at_install")
class TestPortalWithdraw(DunningPortalCommon):
    """What the page tells the customer holds: "We will not remind you before then"."""

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def test_promise_from_the_page_cancels_what_was_planned(self):
        self.policy.mode = "review"
        self.env["dunning.plan"]._dunning_plan()
        call = self._comms(channel="call")
        due_mail = self.Comm.search([("partner_id", "=", self.customer.id),
                                     ("line_ids.move_id", "=", self.inv_new.id)])
        self.assertEqual(call.invoice_ids, self.inv_old)
        self.assertEqual(call.state, "to_review")
        self.assertTrue(due_mail)
        self.link = self._link()
        res = self._post(f"{self.link}/invoice/{self.inv_old.id}/promise",
                         {"promise_date": (self.today + timedelta(days=10)).isoformat()})
        self.assertEqual(res.status_code, 303)
        self.assertIn("We will not remind you before then",
                      self.url_open(res.headers["Location"]).text)
        self._refresh()
        self.assertEqual(call.state, "cancelled")
        self.assertIn(self.inv_old.name, call.failure_reason)
        self.assertIn("promised", call.failure_reason)
        self.assertEqual(due_mail.state, "to_review", "the other invoice's message stays")
        # approved and due, nothing leaves for the promised invoice
        (call | due_mail).action_approve()
        self.env["dunning.send"]._dunning_send_due()
        self.assertEqual(call.state, "cancelled")
        self.assertFalse(self.Comm.search([("state", "=", "sent"),
                                           ("line_ids.move_id", "=", self.inv_old.id)]))
