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
        # relabelled as company B's (its body, which lists company A's whole account, too)
        self.env.cr.execute(
            "UPDATE dunning_communication SET company_id = %s, subject = 'B-only reminder', "
            "body = '<p>B-only reminder</p>' WHERE id = %s", [self.company_b.id, comm.id])
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
