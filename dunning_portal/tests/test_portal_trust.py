"""Issue #10 (Trust), the customer link: each test is an attacker's move (or a customer's
misuse) that worked before, through the real dispatch (RPC, HTTP requests)."""
import time
from datetime import timedelta

from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import DunningPortalCommon, DunningPortalPayCommon

DAY = 86400
INT_MAX = 2**31 - 1


def _rpc_params(model, method, ids, **kwargs):
    return {"model": model, "method": method, "args": [ids], "kwargs": kwargs}


@tagged("post_install", "-at_install")
class TestDunningPortalLinkMinting(DunningPortalCommon):
    """Who can mint a link, revoke it, and for how long it lives."""

    def setUp(self):
        super().setUp()
        new_test_user(self.env, login="emp_only", password="emp_only_pw", groups="base.group_user")
        new_test_user(self.env, login="dun_user", password="dun_user_pw",
                      groups="base.group_user,dunning_chain.group_dunning_user")

    def _call(self, method, ids):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/res.partner/{method}", _rpc_params("res.partner", method, ids))

    def test_employee_cannot_mint_a_link_over_rpc(self):
        self.authenticate("emp_only", "emp_only_pw")
        with self.assertRaises(JsonRpcException) as caught, mute_logger("odoo.http"):
            self._call("action_dunning_portal_preview", [self.customer.id])
        self.assertIn("AccessError", str(caught.exception))
        # a dunning user can, and the link opens the page
        self.authenticate("dun_user", "dun_user_pw")
        action = self._call("action_dunning_portal_preview", [self.customer.id])
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.authenticate(None, None)
        res = self.url_open(action["url"])
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.inv_old.name, res.text)

    def test_employee_cannot_revoke_nor_read_the_link_version(self):
        self.authenticate("emp_only", "emp_only_pw")
        with self.assertRaises(JsonRpcException) as caught, mute_logger("odoo.http"):
            self._call("action_dunning_revoke_links", [self.customer.id])
        self.assertIn("AccessError", str(caught.exception))
        with self.assertRaises(JsonRpcException), mute_logger("odoo.http"):
            self.make_jsonrpc_request("/web/dataset/call_kw/res.partner/read", {
                "model": "res.partner", "method": "read", "args": [[self.customer.id]],
                "kwargs": {"fields": ["dunning_link_version"]}})
        self._refresh()
        self.assertEqual(self.customer.dunning_link_version, 0)

    def test_revoke_links_kills_old_links(self):
        old = self._link()
        self.authenticate(None, None)
        self.assertEqual(self.url_open(old).status_code, 200)
        self.authenticate("dun_user", "dun_user_pw")
        self._call("action_dunning_revoke_links", [self.contact.id])  # from a contact too
        self._refresh()
        self.assertEqual(self.customer.dunning_link_version, 1)
        self.assertTrue(self.customer.message_ids.filtered(
            lambda m: "links" in (m.body or "") and "revoked" in (m.body or "")))
        self.authenticate(None, None)
        res = self.url_open(old)
        self.assertEqual(res.status_code, 403)
        self.assertNotIn(self.inv_old.name, res.text)
        res = self._post(f"{old}/invoice/{self.inv_old.id}/promise",
                         {"promise_date": str(self.today + timedelta(days=2))})
        self.assertEqual(res.status_code, 403)
        # a new link works
        res = self.url_open(self._link())
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.inv_old.name, res.text)

    def test_archived_customer_link_refused(self):
        link = self._link()
        self.customer.action_archive()
        self.authenticate(None, None)
        res = self.url_open(link)
        self.assertEqual(res.status_code, 403)
        self.assertIn("no longer valid", res.text)
        self.assertNotIn(self.inv_old.name, res.text)
        Mail = self.env["mail.mail"].sudo()
        before = Mail.search([]).ids
        self._post(f"{link}/fresh-link", {})
        self.assertFalse(Mail.search([("id", "not in", before)]), "no fresh link either")

    def test_link_validity_has_a_sane_maximum(self):
        with self.assertRaisesRegex(ValidationError, "90"):
            self.policy.link_validity_days = 365
        # whatever is stored (here by SQL), a link lives 90 days at most
        self.env.cr.execute("UPDATE dunning_policy SET link_validity_days = 3650 WHERE id = %s",
                            [self.policy.id])
        self.policy.invalidate_recordset(["link_validity_days"])
        url = self.customer._dunning_portal_url(self.env.company)
        expires = int(url.rsplit("/", 2)[1])
        self.assertLessEqual(expires, time.time() + 90 * DAY + 60)
        # and a link signed for longer (by code with an explicit expiry) is refused
        far = self.customer._dunning_portal_path(self.env.company, int(time.time()) + 400 * DAY)
        self.authenticate(None, None)
        self.assertEqual(self.url_open(far).status_code, 403)


@tagged("post_install", "-at_install")
class TestDunningPortalCompanyScope(DunningPortalCommon):
    """A customer of two companies: the link of one shows nothing of the other."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        data_b = cls.setup_other_company(name="Company B Secrets Ltd")
        cls.company_b = data_b["company"]
        data_b["default_journal_sale"].code = "BSEC"  # its invoice names differ from A's
        cls.inv_b = cls._invoice(cls.today - timedelta(days=8), 4321.0,
                                 journal_id=data_b["default_journal_sale"].id)
        assert cls.inv_b.company_id == cls.company_b

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def test_link_shows_only_its_company(self):
        # a message and a plan request of company B
        self.env.company.dunning_policy_id = self.policy
        self._invoice(self.START - timedelta(days=10), 500.0)
        self._run(self.START)
        comm = self._comms(state="sent")[:1]
        self.assertTrue(comm)
        self.env.cr.execute(
            "UPDATE dunning_communication SET company_id = %s, subject = 'B-only reminder' "
            "WHERE id = %s", [self.company_b.id, comm.id])
        self.env["dunning.instalment.plan"]._dunning_request(
            self.customer, self.inv_b, 2, self.today + timedelta(days=5), "B plan note")
        self.env.invalidate_all()
        page = self.url_open(self._link(company=self.company_a)).text
        self.assertIn(self.inv_old.name, page)
        for secret in (self.inv_b.name, "4,321.00", "B-only reminder", "B plan note",
                       "Company B Secrets"):
            self.assertNotIn(secret, page)
        # the page of company B shows B's invoice, and not A's
        page_b = self.url_open(self._link(company=self.company_b)).text
        self.assertIn(self.inv_b.name, page_b)
        self.assertIn("4,321.00", page_b)
        self.assertIn("B-only reminder", page_b)
        self.assertNotIn(self.inv_old.name, page_b)
        # the logged-in page keeps showing both
        self.authenticate("lucia_portal", "lucia_portal_pw")
        page_my = self.url_open("/my/dunning").text
        self.assertIn(self.inv_old.name, page_my)
        self.assertIn(self.inv_b.name, page_my)

    def test_link_of_company_a_cannot_act_on_company_b(self):
        link = self._link(company=self.company_a)
        for action, data in (("dispute", {"category": "other", "message": "x"}),
                             ("promise", {"promise_date": str(self.today + timedelta(days=2))})):
            res = self._post(f"{link}/invoice/{self.inv_b.id}/{action}", data)
            self.assertEqual(res.status_code, 404, action)
        res = self._post(f"{link}/instalments", {
            "invoice_ids": [self.inv_b.id], "instalment_count": "2",
            "first_date": str(self.today + timedelta(days=3))})
        self.assertEqual(res.status_code, 404)
        for suffix in ("pdf", "pay"):
            self.assertEqual(self.url_open(f"{link}/invoice/{self.inv_b.id}/{suffix}").status_code,
                             404, suffix)
        self._refresh()
        self.assertEqual(self.inv_b.dunning_dispute_state, "none")
        self.assertEqual(self.inv_b.dunning_promise_state, "none")
        self.assertFalse(self.env["dunning.instalment.plan"].search(
            [("partner_id", "=", self.customer.id)]))

    def test_company_in_the_url_is_signed(self):
        link = self._link(company=self.company_a)
        _, _, pid, cid, exp, sig = link.split("/")
        forged = f"/dunning/{pid}/{self.company_b.id}/{exp}/{sig}"
        res = self.url_open(forged)
        self.assertEqual(res.status_code, 403)
        self.assertNotIn(self.inv_b.name, res.text)


@tagged("post_install", "-at_install")
class TestDunningPortalNoAccessTokens(DunningPortalPayCommon):
    """The page hands out no permanent invoice access token: PDF and Pay stay under the
    signed, expiring prefix."""

    def _tokens(self):
        self.env.invalidate_all()
        return (self.inv_old | self.inv_new).mapped("access_token")

    def test_page_pdf_and_pay_create_no_access_token(self):
        page = self.url_open(self.link).text
        self.assertNotIn("access_token", page)
        self.assertIn(f"{self.link}/invoice/{self.inv_old.id}/pdf", page)
        self.assertIn(f"{self.link}/invoice/{self.inv_old.id}/pay", page)
        res = self.url_open(f"{self.link}/invoice/{self.inv_old.id}/pdf")
        self.assertEqual(res.status_code, 200)
        self.assertIn("attachment", res.headers.get("Content-Disposition", ""))
        res = self.url_open(f"{self.link}/invoice/{self.inv_old.id}/pay")
        self.assertEqual(res.status_code, 200)
        self.assertIn("o_payment_form", res.text)
        self.assertIn("1,200.00", res.text)
        self.assertIn(f"{self.link}/invoice/{self.inv_old.id}/transaction", res.text)
        result = self.make_jsonrpc_request(f"{self.link}/invoice/{self.inv_old.id}/transaction",
                                           self._tx_params("ONE"))
        tx = self.env["payment.transaction"].sudo().search([("reference", "=", result["reference"])])
        self.assertEqual(tx.invoice_ids, self.inv_old)
        self.assertAlmostEqual(tx.amount, 1200.0, msg="the server's residual, not the browser's")
        self.assertEqual(self._tokens(), [False, False])

    def test_expired_link_pdf_and_pay_refused(self):
        expired = self._link(expires=int(time.time()) - 60)
        for suffix in ("pdf", "pay"):
            res = self.url_open(f"{expired}/invoice/{self.inv_old.id}/{suffix}")
            self.assertEqual(res.status_code, 403, suffix)
            self.assertNotIn(self.inv_old.name, res.text)
        with self.assertRaises(JsonRpcException), mute_logger("odoo.http"):
            self.make_jsonrpc_request(f"{expired}/invoice/{self.inv_old.id}/transaction",
                                      self._tx_params("EXP"))
        self.assertEqual(self._tokens(), [False, False])

    def test_pdf_of_another_customer_or_paid_invoice_is_404(self):
        self.assertEqual(self.url_open(f"{self.link}/invoice/{self.inv_other.id}/pdf").status_code, 404)
        self._pay(self.inv_new)
        self.assertEqual(self.url_open(f"{self.link}/invoice/{self.inv_new.id}/pdf").status_code, 404)
        self.assertEqual(self.url_open(f"{self.link}/invoice/{self.inv_new.id}/pay").status_code, 404)

    def test_portal_user_page_has_no_access_token_either(self):
        self.authenticate("lucia_portal", "lucia_portal_pw")
        page = self.url_open("/my/dunning").text
        self.assertNotIn("access_token", page)
        self.assertIn(f"/my/dunning/invoice/{self.inv_old.id}/pdf", page)
        self.assertEqual(self.url_open(f"/my/dunning/invoice/{self.inv_old.id}/pdf").status_code, 200)
        self.assertEqual(self._tokens(), [False, False])


@tagged("post_install", "-at_install")
class TestDunningPortalFreshLink(DunningPortalCommon):
    """'Send me a fresh link' cannot be turned into a mail cannon."""

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)
        self.Mail = self.env["mail.mail"].sudo()
        self.before = self.Mail.search([]).ids

    def _new_mails(self):
        return self.Mail.search([("id", "not in", self.before)])

    def _ask(self, link, times=1):
        for _i in range(times):
            # the 5-minute spacing is not what is tested here
            self.env["res.partner"].sudo().search([]).dunning_link_sent_at = False
            res = self._post(f"{link}/fresh-link", {})
            self.assertEqual(res.status_code, 403)
            self.assertIn("on its way", res.text)
        return res

    def test_daily_maximum_per_customer(self):
        self.env["ir.config_parameter"].sudo().set_param("dunning_portal.fresh_link_daily_max", 2)
        link = self._link(expires=int(time.time()) - 60)
        self._ask(link, times=4)
        self.assertEqual(len(self._new_mails()), 2)
        # the links mailed are for the same company as the expired one
        self.assertIn(f"/dunning/{self.customer.id}/{self.env.company.id}/", self._new_mails()[0].body_html)

    def test_daily_maximum_per_ip(self):
        self.env["ir.config_parameter"].sudo().set_param("dunning_portal.fresh_link_daily_max", 2)
        customers = [self.customer, self.customer2] + [
            self.env["res.partner"].create({"name": f"Victim {i}", "email": f"v{i}@example.com",
                                            "is_company": True}) for i in range(3)]
        for partner in customers:
            self._ask(self._link(partner, expires=int(time.time()) - 60))
        self.assertEqual(len(self._new_mails()), 2, "one client address: two mails a day")

    def test_link_expired_long_ago_asks_to_contact_the_company(self):
        self.env.company.write({"email": "cobros@company.example.com", "phone": "+34 910 000 000"})
        old = self._link(expires=int(time.time()) - 200 * DAY)
        res = self.url_open(old)
        self.assertEqual(res.status_code, 403)
        self.assertNotIn("Send me a fresh link", res.text)
        self.assertIn("cobros@company.example.com", res.text)
        self.assertIn("+34 910 000 000", res.text)
        for secret in (self.inv_old.name, self.customer.name, "1,500.00"):
            self.assertNotIn(secret, res.text)
        res = self._post(f"{old}/fresh-link", {})
        self.assertEqual(res.status_code, 403)
        self.assertIn("cobros@company.example.com", res.text)
        self.assertFalse(self._new_mails())
        # a forged link of the same age gets the very same answer
        forged = old[:-1] + ("0" if old[-1] != "0" else "1")
        res_forged = self.url_open(forged)
        self.assertEqual(res_forged.status_code, 403)
        self.assertIn("cobros@company.example.com", res_forged.text)
        self.assertNotIn("Send me a fresh link", res_forged.text)


    def test_link_of_the_first_shape_only_offers_a_fresh_link(self):
        """Links sent before they were bound to a company (/dunning/<partner>/<expiry>/<sig>,
        signed over partner and expiry) open no page; an authentic one gets a fresh link."""
        from odoo.tools.misc import hmac
        expires = int(time.time()) + 3600
        sig = hmac(self.env(su=True), "dunning_portal", (self.customer.id, expires))[:32]
        legacy = f"/dunning/{self.customer.id}/{expires}/{sig}"
        res = self.url_open(legacy)
        self.assertEqual(res.status_code, 403)
        self.assertIn("Send me a fresh link", res.text)
        self.assertNotIn(self.inv_old.name, res.text)
        forged = f"/dunning/{self.customer2.id}/{expires}/{sig}"
        res = self._post(f"{forged}/fresh-link", {})
        self.assertIn("on its way", res.text)
        self.assertFalse(self._new_mails(), "no mail for a forged link")
        res = self._post(f"{legacy}/fresh-link", {})
        self.assertEqual(res.status_code, 403)
        self.assertIn("on its way", res.text)
        mail = self._new_mails()
        self.assertEqual(len(mail), 1)
        self.assertIn(f"/dunning/{self.customer.id}/{self.env.company.id}/", mail.body_html)


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
