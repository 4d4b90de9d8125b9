import time

from odoo.tests import new_test_user, tagged

from .common import DunningPortalCommon


@tagged("post_install", "-at_install")
class TestDunningPortalAccess(DunningPortalCommon):
    """Who sees what: signed links, expiry, tampering, other customers, portal and internal users."""

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def test_anonymous_without_token_goes_to_login(self):
        res = self.url_open("/my/dunning", allow_redirects=False)
        self.assertIn(res.status_code, (302, 303))
        self.assertIn("/web/login", res.headers["Location"])
        # an action without a token is not possible either
        res = self._post(f"/my/dunning/invoice/{self.inv_old.id}/promise", {"promise_date": "x"})
        self.assertIn(res.status_code, (302, 303))
        self.assertIn("/web/login", res.headers["Location"])

    def test_valid_link_shows_invoices_and_total(self):
        link = self._link()
        res = self.url_open(link)
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.inv_old.name, res.text)
        self.assertIn(self.inv_new.name, res.text)
        self.assertIn("1,500.00", res.text, "total overdue of both invoices")
        self.assertIn("20 days late", res.text)
        self.assertNotIn(self.inv_other.name, res.text, "another customer's invoice")
        # pay and PDF links stay under the signed, expiring prefix (no invoice access token)
        self.assertIn(f"{link}/invoice/{self.inv_old.id}/pay", res.text)
        self.assertIn(f"{link}/invoice/{self.inv_old.id}/pdf", res.text)
        self.assertNotIn("access_token", res.text)

    def test_pdf_link_downloads_the_invoice(self):
        res = self.url_open(f"{self._link()}/invoice/{self.inv_old.id}/pdf")
        self.assertEqual(res.status_code, 200)
        self.assertIn("attachment", res.headers["Content-Disposition"])
        self.assertIn(self.inv_old.name.replace("/", "_"), res.headers["Content-Disposition"])

    def test_expired_link_friendly_page_and_fresh_link_by_email(self):
        link = self._link(expires=int(time.time()) - 60)
        res = self.url_open(link)
        self.assertEqual(res.status_code, 403)
        self.assertIn("no longer valid", res.text)
        self.assertIn("Send me a fresh link", res.text)
        for secret in (self.inv_old.name, self.inv_new.name, "1,500.00", self.customer.name):
            self.assertNotIn(secret, res.text)
        Mail = self.env["mail.mail"].sudo()
        before = Mail.search([]).ids
        res = self._post(f"{link}/fresh-link", {"email": "attacker@evil.example.com"})
        self.assertIn("on its way", res.text)
        mails = Mail.search([("id", "not in", before)])
        self.assertEqual(len(mails), 1)
        self.assertIn("pagos@alcala.example.com", mails.email_to, "the address on file")
        self.assertNotIn("evil", mails.email_to)
        self.assertIn(f"/dunning/{self.customer.id}/{self.env.company.id}/", mails.body_html)
        # a second request right away sends nothing more (no mail bombing)
        self._post(f"{link}/fresh-link", {})
        self.assertEqual(len(Mail.search([("id", "not in", before)])), 1)

    def test_tampered_signature_same_friendly_page_no_mail(self):
        link = self._link()
        sig = link.rsplit("/", 1)[1]
        bad_sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        tampered = link.rsplit("/", 1)[0] + "/" + bad_sig
        res = self.url_open(tampered)
        self.assertEqual(res.status_code, 403)
        self.assertIn("no longer valid", res.text)
        self.assertNotIn(self.inv_old.name, res.text)
        # longer validity or another customer with the same signature: invalid too
        _, _, pid, cid, exp, sig = link.split("/")
        for forged in (f"/dunning/{pid}/{cid}/{int(exp) + 86400 * 30}/{sig}",
                       f"/dunning/{self.customer2.id}/{cid}/{exp}/{sig}"):
            res = self.url_open(forged)
            self.assertEqual(res.status_code, 403)
            self.assertNotIn(self.inv_old.name, res.text)
            self.assertNotIn(self.inv_other.name, res.text)
        Mail = self.env["mail.mail"].sudo()
        before = Mail.search([]).ids
        res = self._post(f"{tampered}/fresh-link", {})
        self.assertIn("on its way", res.text, "same answer: nothing to learn")
        self.assertFalse(Mail.search([("id", "not in", before)]), "no mail for a forged link")

    def test_other_customer_token_cannot_reach_this_customer(self):
        other_link = self._link(self.customer2)
        res = self.url_open(other_link)
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.inv_other.name, res.text)
        self.assertNotIn(self.inv_old.name, res.text)
        # acting on this customer's invoice with the other customer's token: 404, unchanged
        for action, data in (("dispute", {"category": "other", "message": "hack"}),
                             ("promise", {"promise_date": str(self.today)})):
            res = self._post(f"{other_link}/invoice/{self.inv_old.id}/{action}", data)
            self.assertEqual(res.status_code, 404, action)
        # a non-existing id gives the same 404
        res = self._post(f"{other_link}/invoice/999999999/promise", {"promise_date": str(self.today)})
        self.assertEqual(res.status_code, 404)
        self._refresh()
        self.assertEqual(self.inv_old.dunning_dispute_state, "none")
        self.assertEqual(self.inv_old.dunning_promise_state, "none")

    def test_portal_user_sees_only_own_records(self):
        self.authenticate("lucia_portal", "lucia_portal_pw")
        res = self.url_open("/my/dunning")
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.inv_old.name, res.text, "invoices of the user's commercial partner")
        self.assertNotIn(self.inv_other.name, res.text)
        res = self._post(f"/my/dunning/invoice/{self.inv_other.id}/promise",
                         {"promise_date": str(self.today)})
        self.assertEqual(res.status_code, 404)
        # the card on /my
        res = self.url_open("/my")
        self.assertIn("/my/dunning", res.text)

    def test_internal_user(self):
        new_test_user(self.env, login="dun_internal", password="dun_internal_pw",
                      groups="base.group_user,account.group_account_invoice")
        self.authenticate("dun_internal", "dun_internal_pw")
        res = self.url_open("/my/dunning")
        self.assertEqual(res.status_code, 200)
        self.assertNotIn(self.inv_old.name, res.text, "not this user's customer account")
        res = self.url_open(self._link())
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.inv_old.name, res.text)


@tagged("post_install", "-at_install")
class TestDunningPortalLink(DunningPortalCommon):
    """The link every reminder carries."""

    def test_customer_url_is_signed_and_expires_per_policy(self):
        comm = self.Comm.create({
            "partner_id": self.customer.id, "policy_id": self.policy.id,
            "level_id": self.policy.level_ids[:1].id, "channel": "email",
        })
        company = comm.company_id
        for days in (30, 7):
            self.policy.link_validity_days = days
            # the link a communication gets when it is sent (customer_url keeps it)
            url = comm._dunning_customer_url()
            self.assertTrue(url.startswith(
                self.customer.get_base_url() + f"/dunning/{self.customer.id}/{company.id}/"))
            _pid, cid, expires, sig = url.rsplit("/", 4)[1:]
            self.assertAlmostEqual(int(expires), time.time() + days * 86400, delta=120)
            status, partner, link_company = self.env["res.partner"]._dunning_portal_check(
                self.customer.id, int(cid), int(expires), sig)
            self.assertEqual((status, partner, link_company), ("ok", self.customer, company))

    def test_backend_preview_opens_signed_page(self):
        action = self.contact.action_dunning_portal_preview()
        self.assertEqual(action["type"], "ir.actions.act_url")
        _, _, pid, cid, expires, sig = action["url"].split("/")
        status, partner, company = self.env["res.partner"]._dunning_portal_check(
            int(pid), int(cid), int(expires), sig)
        self.assertEqual((status, partner, company), ("ok", self.customer, self.env.company))

    def test_contact_link_is_scoped_to_commercial_partner(self):
        url = self.contact._dunning_portal_url()
        self.assertIn(f"/dunning/{self.customer.id}/", url)

    def test_sent_reminder_carries_signed_link(self):
        from datetime import timedelta
        self.env.company.dunning_policy_id = self.policy
        self._invoice(self.START - timedelta(days=10), 500.0)
        self._run(self.START)
        comms = self._comms(state="sent", channel="email")
        self.assertTrue(comms)
        self.assertIn(f"/dunning/{self.customer.id}/{comms[0].company_id.id}/", comms[0].body)

    def test_signed_page_speaks_the_customers_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"].search([("name", "=", "dunning_portal")])._update_translations(
            ["es_ES"])
        self.authenticate(None, None)
        self.customer.lang = "es_ES"
        page = self.url_open(self._link()).text
        self.assertIn("Total vencido", page)
        self.assertNotIn("Total overdue", page)
        # a logged-in portal user keeps their own language
        self.authenticate("lucia_portal", "lucia_portal_pw")
        self.assertIn("Total overdue", self.url_open("/my/dunning").text)
