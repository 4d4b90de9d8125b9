"""Issue #10 (Trust), what customers and strangers send: crafted input, uploads, stalling the
chain, and what the message history shows."""
from datetime import timedelta

from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import DunningPortalCommon

INT_MAX = 2**31 - 1


@tagged("post_install", "-at_install")
class TestDunningPortalNoStalling(DunningPortalCommon):
    """The page cannot be used to pause the chain again and again."""

    def setUp(self):
        super().setUp()
        self._visit_anonymously()

    def test_no_second_promise_after_a_broken_one(self):
        self.inv_new.sudo().write({"dunning_promise_state": "broken",
                                   "dunning_promise_date": self.today - timedelta(days=2)})
        day = self.today + timedelta(days=5)
        res = self._post(f"{self.link}/invoice/{self.inv_new.id}/promise", {"promise_date": str(day)})
        self.assertEqual(res.status_code, 400)
        self.assertIn("previous promise", res.text)
        self._refresh()
        self.assertEqual(self.inv_new.dunning_promise_state, "broken")
        self.assertFalse(self.inv_new.dunning_paused_until)
        # the accountant still can
        self.inv_new._dunning_promise(day)
        self.assertEqual(self.inv_new.dunning_promise_state, "open")

    def test_no_second_dispute_after_a_rejected_one(self):
        self.inv_old._dunning_dispute("Wrong quantity")
        self.inv_old._dunning_resolve_dispute(False, "We delivered 12 units.")
        res = self._post(f"{self.link}/invoice/{self.inv_old.id}/dispute",
                         {"category": "other", "message": "Still wrong"})
        self.assertEqual(res.status_code, 400)
        self.assertIn("already rejected", res.text)
        self._refresh()
        self.assertEqual(self.inv_old.dunning_dispute_state, "rejected")
        self.inv_old._dunning_dispute("Back office: new evidence")
        self.assertEqual(self.inv_old.dunning_dispute_state, "open")

    def test_no_plan_request_soon_after_a_refusal(self):
        Plan = self.env["dunning.instalment.plan"]
        Plan._dunning_request(self.customer, self.inv_old, 2, self.today + timedelta(days=5)).action_refuse()
        data = {"invoice_ids": [self.inv_new.id], "instalment_count": "2",
                "first_date": str(self.today + timedelta(days=7))}
        res = self._post(f"{self.link}/instalments", data)
        self.assertEqual(res.status_code, 400)
        self.assertIn("refused", res.text)
        self.assertEqual(Plan.search_count([("partner_id", "=", self.customer.id)]), 1)
        # after the waiting period (30 days by default), it is possible again
        refused = Plan.search([("partner_id", "=", self.customer.id)])
        refused.refused_date = self.today - timedelta(days=31)
        res = self._post(f"{self.link}/instalments", data)
        self.assertEqual(res.status_code, 303)
        self.assertEqual(Plan.search_count([("partner_id", "=", self.customer.id)]), 2)


@tagged("post_install", "-at_install")
class TestDunningPortalCraftedInput(DunningPortalCommon):
    """Crafted URLs and forms answer 403 or 404 (or the page), never 500."""

    def setUp(self):
        super().setUp()
        self._visit_anonymously()
        _, _, self.pid, self.cid, self.exp, self.sig = self.link.split("/")

    def test_crafted_link_parts(self):
        cases = [
            f"/dunning/{self.pid}/{self.cid}/{self.exp}/%C3%A9t%C3%A9",  # non-ASCII signature
            f"/dunning/{self.pid}/{self.cid}/{self.exp}/{self.sig[:-2]}é",
            f"/dunning/{INT_MAX + 1}/{self.cid}/{self.exp}/{self.sig}",
            f"/dunning/{self.pid}/{INT_MAX + 1}/{self.exp}/{self.sig}",
            f"/dunning/{10**30}/{10**30}/{10**30}/{self.sig}",
            f"/dunning/{self.pid}/{self.cid}/{10**30}/{self.sig}",
            f"/dunning/0/0/0/{self.sig}",
        ]
        for url in cases:
            for suffix in ("", "/pay", f"/invoice/{self.inv_old.id}/pdf"):
                res = self.url_open(url + suffix)
                self.assertEqual(res.status_code, 403, url + suffix)
                self.assertNotIn(self.inv_old.name, res.text)
            res = self._post(f"{url}/fresh-link", {})
            self.assertEqual(res.status_code, 403, url)

    def test_crafted_ids(self):
        self.assertEqual(self.url_open(f"{self.link}?invoice=²").status_code, 200)
        self.assertEqual(self.url_open(f"{self.link}?invoice={INT_MAX + 5}").status_code, 200)
        self.assertEqual(self.url_open("/my/dunning?invoice=²", allow_redirects=False).status_code, 303)
        day = str(self.today + timedelta(days=3))
        for bad in (0, INT_MAX + 1, 10**30):
            for action, data in (("promise", {"promise_date": day}),
                                 ("dispute", {"category": "other", "message": "x"})):
                res = self._post(f"{self.link}/invoice/{bad}/{action}", data)
                self.assertEqual(res.status_code, 404, (bad, action))
            for suffix in ("pdf", "pay"):
                self.assertEqual(self.url_open(f"{self.link}/invoice/{bad}/{suffix}").status_code,
                                 404, (bad, suffix))
            self.assertEqual(self.url_open(f"{self.link}/plan/{bad}/pay").status_code, 404, bad)
            self.assertIn(self.url_open(f"{self.link}/pay/{bad}/{bad}", allow_redirects=False)
                          .status_code, (303, 404), bad)
            with self.assertRaises(JsonRpcException) as caught, mute_logger("odoo.http"):
                self.make_jsonrpc_request(f"{self.link}/plan/{bad}/transaction",
                                          self._tx_params_safe())
            self.assertNotIn("psycopg2", str(caught.exception))
            for route in (f"/invoice/{bad}/transaction", f"/transaction/{bad}/{bad}"):
                with self.assertRaises(JsonRpcException) as caught, mute_logger("odoo.http"):
                    self.make_jsonrpc_request(f"{self.link}{route}", self._tx_params_safe())
                self.assertIn("ValidationError", str(caught.exception), route)
        for raw in ("²", "0", str(INT_MAX + 1), "-1", "1e3"):
            res = self._post(f"{self.link}/instalments", {
                "invoice_ids": [raw], "instalment_count": "²", "first_date": day})
            self.assertEqual(res.status_code, 404, raw)
        self._refresh()
        self.assertEqual(self.inv_old.dunning_promise_state, "none")

    def _tx_params_safe(self):
        return {"provider_id": 1, "payment_method_id": 1, "token_id": None, "amount": 1.0,
                "flow": "redirect", "tokenization_requested": False, "landing_route": self.link,
                "is_validation": False, "payment_reference": "X", "csrf_token": self._csrf()}


@tagged("post_install", "-at_install")
class TestDunningPortalDisputeUpload(DunningPortalCommon):
    """What a customer may upload with a dispute, and how long their texts may be."""

    def setUp(self):
        super().setUp()
        self._visit_anonymously()
        self.url = f"{self.link}/invoice/{self.inv_old.id}/dispute"

    def _assert_no_dispute(self):
        self._refresh()
        self.assertEqual(self.inv_old.dunning_dispute_state, "none")

    def test_oversized_body_refused_before_reading(self):
        res = self._post(self.url, {"category": "quality", "message": "big"},
                         files={"attachment": ("big.pdf", b"%PDF-1.4" + b"0" * (11 * 1024 * 1024),
                                               "application/pdf")})
        self.assertEqual(res.status_code, 413)
        self._assert_no_dispute()
        self.assertFalse(self.env["ir.attachment"].sudo().search([("name", "=", "big.pdf")]))

    def test_file_types_by_content(self):
        refused = [
            ("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" * 10),  # a program
            ("photo.jpg", b"<html><script>alert(1)</script></html>"),
            ("note.txt", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'></svg>"),
        ]
        for name, data in refused:
            res = self._post(self.url, {"category": "quality", "message": "see file"},
                             files={"attachment": (name, data, "application/pdf")})
            self.assertEqual(res.status_code, 400, name)
            self.assertIn("cannot accept this type of file", res.text)
            self._assert_no_dispute()
            self.assertFalse(self.env["ir.attachment"].sudo().search([("name", "=", name)]))
        res = self._post(self.url, {"category": "quality", "message": "see file"},
                         files={"attachment": ("delivery-note.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n",
                                               "application/pdf")})
        self.assertEqual(res.status_code, 303)
        self._refresh()
        self.assertEqual(self.inv_old.dunning_dispute_state, "open")
        att = self.env["ir.attachment"].sudo().search([("name", "=", "delivery-note.pdf")])
        self.assertEqual((att.res_model, att.res_id), ("account.move", self.inv_old.id))
        self.assertFalse(att.public)
        self.assertFalse(att.access_token)
        self.assertEqual(att.mimetype, "application/pdf")

    def test_text_lengths_limited_on_the_server(self):
        res = self._post(self.url, {"category": "quality", "message": "x" * 4001})
        self.assertEqual(res.status_code, 400)
        self.assertIn("4000", res.text)
        self._assert_no_dispute()
        day = str(self.today + timedelta(days=3))
        res = self._post(f"{self.link}/invoice/{self.inv_new.id}/promise",
                         {"promise_date": day, "note": "y" * 1001})
        self.assertEqual(res.status_code, 400)
        self.assertIn("1000", res.text)
        res = self._post(f"{self.link}/instalments", {
            "invoice_ids": [self.inv_new.id], "instalment_count": "2", "first_date": day,
            "note": "z" * 1001})
        self.assertEqual(res.status_code, 400)
        self.assertIn("1000", res.text)
        self._refresh()
        self.assertEqual(self.inv_new.dunning_promise_state, "none")
        self.assertFalse(self.env["dunning.instalment.plan"].search([("partner_id", "=", self.customer.id)]))


@tagged("post_install", "-at_install")
class TestDunningPortalHistory(DunningPortalCommon):
    """The messages shown on the page: sanitised, and no internal instruction."""

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)
        self.env.company.dunning_policy_id = self.policy
        self._invoice(self.START - timedelta(days=10), 500.0)
        self._run(self.START)
        self.comm = self._comms(state="sent", channel="email")[:1]
        self.assertTrue(self.comm)

    def test_history_body_is_sanitised_whatever_is_stored(self):
        self.env.cr.execute(
            "UPDATE dunning_communication SET body = %s WHERE id = %s",
            ['<p>pay to IBAN XX00</p><img src=x onerror=alert(1)><script>alert(2)</script>',
             self.comm.id])
        self.env.invalidate_all()
        page = self.url_open(self._link()).text
        self.assertIn("pay to IBAN XX00", page)
        # (Odoo's own asset <script> tags carry an onerror handler: look for the stored one)
        self.assertNotIn("onerror=alert", page)
        self.assertNotIn('onerror="alert', page)
        self.assertNotIn("alert(1)", page)
        self.assertNotIn("<img src=x", page)
        self.assertNotIn("alert(2)", page)

    def test_posted_letter_shows_its_subject_only(self):
        self.env.cr.execute(
            "UPDATE dunning_communication SET channel = 'letter', mail_template_id = NULL, "
            "delivery_state = 'to_post', subject = 'Reminder letter', "
            "body = '<p>Print and post to: INTERNAL-INSTRUCTION</p>' WHERE id = %s",
            [self.comm.id])
        self.env.invalidate_all()
        page = self.url_open(self._link()).text
        self.assertIn("Reminder letter", page)
        self.assertNotIn("INTERNAL-INSTRUCTION", page)

    def test_sent_reminder_link_is_signed_for_its_company(self):
        url = self.comm.customer_url
        prefix = self.customer.get_base_url() + f"/dunning/{self.customer.id}/{self.comm.company_id.id}/"
        self.assertTrue(url.startswith(prefix), url)
        self.assertIn(url, self.comm.body)
        _pid, cid, expires, sig = url.rsplit("/", 4)[1:]
        status, partner, company = self.env["res.partner"]._dunning_portal_check(
            self.customer.id, int(cid), int(expires), sig)
        # authentic ("expired" when it was signed at the frozen time of the run, months ago)
        self.assertIn(status, ("ok", "expired"))
        self.assertEqual((partner, company), (self.customer, self.comm.company_id))
