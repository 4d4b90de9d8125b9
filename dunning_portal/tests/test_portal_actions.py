from datetime import timedelta

from odoo.tests import tagged

from .common import DunningPortalCommon

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01fake-jpeg"


@tagged("post_install", "-at_install")
class TestDunningPortalActions(DunningPortalCommon):
    """Each action from the customer's page: its effect on the chain, the chatter, the
    accountant; bad input changes nothing and says why."""

    def setUp(self):
        super().setUp()
        self._visit_anonymously()

    def _activities(self, record, summary):
        return self.env["mail.activity"].sudo().search([
            ("res_model", "=", record._name), ("res_id", "=", record.id),
            ("summary", "ilike", summary)])

    def _assert_unchanged(self, invoice):
        self._refresh()
        self.assertEqual(invoice.dunning_dispute_state, "none")
        self.assertEqual(invoice.dunning_promise_state, "none")
        self.assertFalse(invoice.dunning_paused_until)
        self.assertFalse(invoice.dunning_dispute_category)
        self.assertFalse(self._activities(invoice, ""))

    # ------------------------------------------------------------------ dispute
    def test_dispute_pauses_invoice_with_activity_chatter_and_attachment(self):
        res = self._post(f"{self.link}/invoice/{self.inv_old.id}/dispute",
                         {"category": "quality", "message": "Two pallets arrived broken."},
                         files={"attachment": ("photo.jpg", JPEG, "image/jpeg")})
        self.assertEqual(res.status_code, 303)
        self.assertIn("done=dispute", res.headers["Location"])
        self._refresh()
        inv = self.inv_old
        self.assertEqual(inv.dunning_dispute_state, "open")
        self.assertEqual(inv.dunning_dispute_category, "quality")
        self.assertIn("Quality problem: Two pallets arrived broken.", inv.dunning_dispute_reason)
        self.assertTrue(self._activities(inv, "Dispute to resolve"), "the collector gets a task")
        msg = inv.message_ids.filtered(lambda m: "Invoice disputed" in (m.body or ""))
        self.assertEqual(len(msg), 1)
        self.assertEqual(msg.author_id, self.customer, "the customer's message")
        self.assertEqual(msg.attachment_ids.mapped("name"), ["photo.jpg"])
        self.assertEqual(msg.attachment_ids.raw, JPEG)
        self.assertEqual(msg.attachment_ids.mimetype, "image/jpeg", "recognised by its content")
        # the page now says so, and offers no second dispute for it
        page = self.url_open(res.headers["Location"]).text
        self.assertIn("we received your dispute", page)
        self.assertIn("Disputed: we are looking into it", page)
        # the chain skips a disputed invoice: the other one is untouched
        self.assertEqual(self.inv_new.dunning_dispute_state, "none")

    def test_dispute_bad_input_changes_nothing(self):
        url = f"{self.link}/invoice/{self.inv_old.id}/dispute"
        cases = [
            ({"category": "quality", "message": "   "}, None, "Tell us what is wrong"),
            ({"category": "", "message": "Wrong"}, None, "Choose why you dispute"),
            ({"category": "bogus", "message": "Wrong"}, None, "Choose why you dispute"),
            ({"category": "quality", "message": "See the photo"},
             {"attachment": ("big.bin", b"0" * (10 * 1024 * 1024 + 1), "application/octet-stream")},
             "too large"),
        ]
        for data, files, error in cases:
            res = self._post(url, data, files=files)
            self.assertEqual(res.status_code, 400, error)
            self.assertIn(error, res.text)
            self.assertIn("Nothing was changed", res.text)
            self._assert_unchanged(self.inv_old)
        self.assertFalse(self.env["ir.attachment"].sudo().search([("name", "=", "big.bin")]))

    # ------------------------------------------------------------------ promise
    def test_promise_pauses_until_date(self):
        day = self.today + timedelta(days=10)
        res = self._post(f"{self.link}/invoice/{self.inv_new.id}/promise",
                         {"promise_date": day.isoformat(), "note": "After our customer pays us"})
        self.assertEqual(res.status_code, 303)
        self._refresh()
        inv = self.inv_new
        self.assertEqual(inv.dunning_promise_state, "open")
        self.assertEqual(inv.dunning_promise_date, day)
        self.assertEqual(inv.dunning_paused_until, day)
        msg = inv.message_ids.filtered(lambda m: "Payment promised" in (m.body or ""))
        self.assertEqual(msg.author_id, self.customer)
        self.assertIn("After our customer pays us", msg.body)
        activity = self._activities(inv, "Check the payment promised")
        self.assertEqual(activity.date_deadline, day + timedelta(days=1))
        page = self.url_open(res.headers["Location"]).text
        self.assertIn("Payment promised for", page)

    def test_promise_bad_input_changes_nothing(self):
        url = f"{self.link}/invoice/{self.inv_new.id}/promise"
        self.policy.max_promise_days = 30
        cases = [
            ((self.today - timedelta(days=1)).isoformat(), "cannot be in the past"),
            ((self.today + timedelta(days=31)).isoformat(), "at most 30 days ahead"),
            ("not-a-date", "Choose a valid date"),
            ("", "Choose a valid date"),
        ]
        for value, error in cases:
            res = self._post(url, {"promise_date": value})
            self.assertEqual(res.status_code, 400, value)
            self.assertIn(error, res.text)
            self._assert_unchanged(self.inv_new)

    def test_second_promise_refused_while_first_stands(self):
        url = f"{self.link}/invoice/{self.inv_new.id}/promise"
        first = self.today + timedelta(days=5)
        self.assertEqual(self._post(url, {"promise_date": first.isoformat()}).status_code, 303)
        res = self._post(url, {"promise_date": (self.today + timedelta(days=20)).isoformat()})
        self.assertEqual(res.status_code, 400)
        self.assertIn("already promised", res.text)
        self._refresh()
        self.assertEqual(self.inv_new.dunning_paused_until, first)

    def test_portal_user_promises_from_my_dunning(self):
        self.authenticate("lucia_portal", "lucia_portal_pw")
        day = self.today + timedelta(days=3)
        res = self._post(f"/my/dunning/invoice/{self.inv_old.id}/promise",
                         {"promise_date": day.isoformat()})
        self.assertEqual(res.status_code, 303)
        self.assertTrue(res.headers["Location"].split("?")[0].endswith("/my/dunning"))
        self._refresh()
        self.assertEqual(self.inv_old.dunning_paused_until, day)

    # ------------------------------------------------------------------ instalments
    def _plans(self):
        return self.env["dunning.instalment.plan"].sudo().search(
            [("partner_id", "=", self.customer.id)])

    def test_instalment_plan_request_approve(self):
        first = self.today + timedelta(days=7)
        res = self._post(f"{self.link}/instalments", {
            "invoice_ids": [self.inv_old.id, self.inv_new.id], "instalment_count": "3",
            "first_date": first.isoformat(), "note": "Cash is tight this quarter",
        })
        self.assertEqual(res.status_code, 303)
        self._refresh()
        plan = self._plans()
        self.assertEqual(len(plan), 1)
        self.assertEqual((plan.state, plan.instalment_count, plan.first_date), ("requested", 3, first))
        self.assertEqual(plan.invoice_ids, self.inv_old | self.inv_new)
        self.assertAlmostEqual(plan.instalment_amount, 500.0)
        self.assertTrue(self._activities(plan, "Payment plan requested"))
        self.assertFalse(self.inv_old.dunning_paused_until, "nothing paused before approval")
        plan.action_approve()
        self.assertEqual(plan.state, "approved")
        self.assertEqual(self.inv_old.dunning_paused_until, first)
        self.assertEqual(self.inv_new.dunning_paused_until, first)
        self.assertFalse(self._activities(plan, "Payment plan requested"), "activity done")

    def test_instalment_plan_refuse(self):
        plan = self.env["dunning.instalment.plan"]._dunning_request(
            self.customer, self.inv_old, 2, self.today + timedelta(days=5))
        plan.action_refuse()
        self.assertEqual(plan.state, "refused")
        self.assertFalse(self.inv_old.dunning_paused_until)

    def test_instalment_bad_input_changes_nothing(self):
        self.policy.max_instalments = 3
        url = f"{self.link}/instalments"
        first = (self.today + timedelta(days=7)).isoformat()
        cases = [
            ({"invoice_ids": [self.inv_old.id], "instalment_count": "4", "first_date": first},
             "between 2 and 3 instalments"),
            ({"invoice_ids": [self.inv_old.id], "instalment_count": "3",
              "first_date": (self.today - timedelta(days=1)).isoformat()}, "cannot be in the past"),
            ({"instalment_count": "2", "first_date": first}, "Choose the invoices"),
        ]
        for data, error in cases:
            res = self._post(url, data)
            self.assertEqual(res.status_code, 400, error)
            self.assertIn(error, res.text)
            self._refresh()
            self.assertFalse(self._plans())
        # another customer's invoice in the request: 404
        res = self._post(url, {"invoice_ids": [self.inv_other.id], "instalment_count": "2",
                               "first_date": first})
        self.assertEqual(res.status_code, 404)
        self.assertFalse(self._plans())
