import time
from datetime import timedelta

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import DunningPortalCommon


@tagged("post_install", "-at_install")
class TestPortalEngagement(DunningPortalCommon):
    """The link of each message names it (signed): what the customer does from it is logged
    for that message, and counted in its effectiveness facts."""

    def setUp(self):
        super().setUp()
        self.env.company.dunning_policy_id = self.policy
        self.late_a = self._invoice(self.START - timedelta(days=10), 500.0)
        self.late_b = self._invoice(self.START - timedelta(days=10), 250.0)
        self._run(self.START)
        self.comm = self._comms(state="sent", channel="email")[:1]
        self.assertEqual(self.comm.invoice_ids, self.late_a | self.late_b)
        self.authenticate(None, None)
        self.link = self._comm_link(self.comm)

    def _comm_link(self, comm, expires=None):
        """A link of the message as it is given, valid now (the message's own expired with
        the simulated time of the run)."""
        return self.customer._dunning_portal_path(self.env.company,
                                                  expires or int(time.time()) + 3600,
                                                  communication=comm)

    def _events(self, kind=None):
        self.env.invalidate_all()
        domain = [("communication_id", "=", self.comm.id)]
        return self.env["dunning.engagement"].search(domain + ([("kind", "=", kind)] if kind else []))

    def _fact(self, move):
        self.env.invalidate_all()
        return self.env["dunning.fact"].search([("communication_id", "=", self.comm.id),
                                                ("move_id", "=", move.id)])

    # ------------------------------------------------------------------ the signed link
    def test_message_link_names_the_message(self):
        url = self.comm.customer_url
        self.assertIn(f"/{self.comm.id}-", url)
        _pid, cid, expires, token = url.rsplit("/", 4)[1:]
        status, partner, company = self.env["res.partner"]._dunning_portal_check(
            self.customer.id, int(cid), int(expires), token)
        self.assertIn(status, ("ok", "expired"))
        self.assertEqual(self.env["res.partner"]._dunning_portal_link_communication(
            partner, company, token), self.comm)
        self.assertIn(url, self.comm.body, "the e-mail gives that link")

    def test_tampered_communication_id_is_refused(self):
        prefix, token = self.link.rsplit("/", 1)
        comm_id, signature = token.split("-")
        for forged in (f"{prefix}/{int(comm_id) + 1}-{signature}",
                       f"{prefix}/{int(comm_id) - 1}-{signature}",
                       f"{prefix}/{signature}", f"{prefix}/0{comm_id}-{signature}"):
            res = self.url_open(forged)
            self.assertEqual(res.status_code, 403, forged)
            self.assertNotIn(self.late_a.name, res.text)
        self.assertFalse(self._events(), "a refused link logs nothing")
        self.assertEqual(self.url_open(self.link).status_code, 200)

    def test_links_without_a_message_still_work(self):
        """Links given before messages were named in them (and staff previews) open the page
        as before; nothing is logged for any message."""
        res = self.url_open(self._link())
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.late_a.name, res.text)
        self.assertFalse(self.env["dunning.engagement"].search([]))

    # ------------------------------------------------------------------ visits
    def test_visits_counted_once_per_browser_session(self):
        for _again in range(2):
            self.assertEqual(self.url_open(self.link).status_code, 200)
        self.assertEqual(len(self._events("visit")), 1, "the same session: one visit")
        self.authenticate(None, None)  # another browser
        self.url_open(self.link)
        self.assertEqual(len(self._events("visit")), 2)
        self.assertEqual(self.comm.engagement_visits, 2)
        self.assertTrue(self.comm.engagement_first_visit)
        self.assertEqual(self._fact(self.late_a).opened, 1)
        # the page's other routes (a PDF, a pay page) are no visit
        self.url_open(f"{self.link}/invoice/{self.late_a.id}/pdf")
        self.assertEqual(len(self._events("visit")), 2)

    # ------------------------------------------------------------------ pay
    def test_pay_click_payment_started_and_completed(self):
        self._setup_dummy_provider(self.env.company.currency_id)
        res = self.url_open(f"{self.link}/invoice/{self.late_a.id}/pay")
        self.assertEqual(res.status_code, 200)
        self.assertEqual(self._events("pay_click").move_id, self.late_a)
        result = self.make_jsonrpc_request(f"{self.link}/invoice/{self.late_a.id}/transaction",
                                           self._tx_params(self.late_a.name, self.link))
        tx = self.env["payment.transaction"].sudo().search([("reference", "=", result["reference"])])
        self.assertEqual(tx.dunning_communication_id, self.comm)
        self.assertEqual(self._events("payment_started").transaction_id, tx)
        tx._set_done()
        done = self._events("payment_done")
        self.assertEqual((done.transaction_id, done.amount), (tx, 500.0))
        self.assertEqual((self.comm.engagement_payments_started,
                          self.comm.engagement_payments_done), (1, 1))
        self.assertEqual(self._fact(self.late_a).paid_online, 1)
        self.assertEqual(self._fact(self.late_b).paid_online, 0)

    def test_payment_from_a_link_without_message_names_none(self):
        self._setup_dummy_provider(self.env.company.currency_id)
        link = self._link()
        result = self.make_jsonrpc_request(f"{link}/invoice/{self.late_a.id}/transaction",
                                           self._tx_params(self.late_a.name, link))
        tx = self.env["payment.transaction"].sudo().search([("reference", "=", result["reference"])])
        self.assertFalse(tx.dunning_communication_id)
        self.assertFalse(self.env["dunning.engagement"].search([]))

    # ------------------------------------------------------------------ answers
    def test_dispute_and_promise_from_the_link_count_for_its_message(self):
        res = self._post(f"{self.link}/invoice/{self.late_a.id}/dispute",
                         {"category": "other", "message": "Not delivered"})
        self.assertEqual(res.status_code, 303)
        promise_day = self.today + timedelta(days=5)
        res = self._post(f"{self.link}/invoice/{self.late_b.id}/promise",
                         {"promise_date": promise_day.isoformat()})
        self.assertEqual(res.status_code, 303)
        self.assertEqual(self._events("dispute").move_id, self.late_a)
        self.assertEqual(self._events("promise").move_id, self.late_b)
        self.assertEqual(self.comm.engagement_answers, 2)
        self.assertEqual((self._fact(self.late_a).disputed, self._fact(self.late_b).promised),
                         (1, 1))

    def test_plan_request_from_the_link(self):
        res = self._post(f"{self.link}/instalments", {
            "invoice_ids": [self.late_a.id, self.late_b.id], "instalment_count": "2",
            "first_date": (self.today + timedelta(days=7)).isoformat()})
        self.assertEqual(res.status_code, 303)
        self.assertEqual(self._events("plan_request").move_id, self.late_a | self.late_b)
        self.assertEqual(self._fact(self.late_b).plan_requested, 1)

    def test_plan_request_without_a_message_link_counts_for_the_last_step(self):
        """A logged-in customer (/my/dunning) names no message: nothing is logged for one, and
        the request counts for the step its invoices are at."""
        self.authenticate("lucia_portal", "lucia_portal_pw")
        res = self._post("/my/dunning/instalments", {
            "invoice_ids": [self.late_a.id], "instalment_count": "2",
            "first_date": (self.today + timedelta(days=7)).isoformat()})
        self.assertEqual(res.status_code, 303)
        self.assertFalse(self.env["dunning.engagement"].search([]))
        self.assertEqual((self._fact(self.late_a).plan_requested,
                          self._fact(self.late_b).plan_requested), (1, 0))

    def test_refused_answer_is_not_logged(self):
        res = self._post(f"{self.link}/invoice/{self.late_a.id}/promise", {"promise_date": "x"})
        self.assertEqual(res.status_code, 400)
        self.assertFalse(self._events("promise"))

    # ------------------------------------------------------------------ rights
    def test_rights(self):
        self.url_open(self.link)
        event = self._events("visit")
        self.assertTrue(event)
        for login, groups in (("eng_billing", "account.group_account_invoice"),
                              ("eng_employee", "base.group_user"),
                              ("eng_portal", "base.group_portal")):
            user = new_test_user(self.env, login=login, groups=groups)
            with self.assertRaises(AccessError):
                self.env["dunning.engagement"].with_user(user).search([])
        collector = new_test_user(self.env, login="eng_collector",
                                  groups="dunning_chain.group_dunning_user")
        self.assertEqual(self.env["dunning.engagement"].with_user(collector).search([]), event)
        with self.assertRaises(AccessError):
            event.with_user(collector).write({"kind": "pay_click"})
        self.assertEqual(self.comm.with_user(collector).engagement_visits, 1)
