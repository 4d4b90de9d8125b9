import time

from odoo import api, fields, models
from odoo.tools import consteq
from odoo.tools.misc import hmac

SCOPE = "dunning_portal"
DAY = 86400
# HMAC-SHA256 truncated to 128 bits (32 hex characters): still far beyond guessing, and the
# link stays short enough for an SMS.
SIGNATURE_LENGTH = 32


def _sign(env, partner_id, expires):
    return hmac(env(su=True), SCOPE, (int(partner_id), int(expires)))[:SIGNATURE_LENGTH]


class ResPartner(models.Model):
    _inherit = "res.partner"

    dunning_link_sent_at = fields.Datetime(
        string="Fresh Dunning Link Sent", copy=False, readonly=True,
        help="Last time a fresh link to the dunning page was e-mailed at the customer's request.")

    # ------------------------------------------------------------------ signed links
    def _dunning_portal_signature(self, expires):
        """HMAC-SHA256 (key: the database secret) of ('dunning_portal', (commercial partner
        id, expiry timestamp)), truncated to 128 bits."""
        self.ensure_one()
        return _sign(self.env, self.id, expires)

    def _dunning_portal_path(self, expires):
        self.ensure_one()
        return f"/dunning/{self.id}/{int(expires)}/{self._dunning_portal_signature(expires)}"

    def _dunning_portal_url(self, company=None, expires=None):
        """Absolute signed URL of the customer's dunning page, valid for the policy's
        link_validity_days (30 by default)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        if expires is None:
            policy = partner._dunning_policy(company or self.env.company)
            days = policy.link_validity_days if policy and policy.link_validity_days else 30
            expires = int(time.time()) + days * DAY
        return partner.get_base_url() + partner._dunning_portal_path(expires)

    @api.model
    def _dunning_portal_check(self, partner_id, expires, signature):
        """('ok' | 'expired' | 'invalid', sudo commercial partner or empty recordset).

        The signature is checked before anything else (constant time); an authentic but
        expired link still names its partner so that a fresh link can be sent to the e-mail
        address on file, never to one typed in."""
        Partner = self.env["res.partner"].sudo()
        expected = _sign(self.env, partner_id, expires)
        if not signature or not consteq(expected, str(signature)):
            return "invalid", Partner
        partner = Partner.browse(int(partner_id)).exists()
        if not partner or partner != partner.commercial_partner_id:
            return "invalid", Partner
        if int(expires) < time.time():
            return "expired", partner
        return "ok", partner

    def _dunning_portal_link_recipients(self):
        """Where a fresh link goes: the customer's dunning contacts, else the customer."""
        self.ensure_one()
        contacts = self.child_ids.filtered(lambda p: p.dunning_contact and p.email)
        return contacts or (self if self.email else self.browse())

    def _dunning_portal_send_fresh_link(self, min_interval_minutes=5):
        """E-mail a fresh signed link to the addresses on file. Returns the mail.mail (empty
        when there is no address or a link was sent in the last minutes)."""
        self.ensure_one()
        partner = self.sudo().commercial_partner_id
        Mail = self.env["mail.mail"].sudo()
        recipients = partner._dunning_portal_link_recipients()
        now = fields.Datetime.now()
        if not recipients:
            return Mail
        last = partner.dunning_link_sent_at
        if last and (now - last).total_seconds() < min_interval_minutes * 60:
            return Mail
        company = partner.company_id or self.env.company
        lang = partner.lang or self.env.lang
        url = partner._dunning_portal_url(company)
        body = self.env["ir.qweb"].with_context(lang=lang)._render(
            "dunning_portal.dunning_fresh_link_mail",
            {"partner": partner, "url": url, "company": company})
        mail = Mail.create({
            "subject": self.with_context(lang=lang).env._(
                "%s: your link to see and settle your invoices", company.name),
            "body_html": body,
            "email_from": company.email_formatted or self.env.user.email_formatted,
            "email_to": ", ".join(recipients.mapped("email_formatted")),
            "model": "res.partner",
            "res_id": partner.id,
            "auto_delete": True,
        })
        partner.dunning_link_sent_at = now
        partner._message_log(body=self.env._(
            "A fresh link to the dunning page was e-mailed at the customer's request (%s).",
            ", ".join(recipients.mapped("email"))))
        return mail

    def action_dunning_portal_preview(self):
        """Open the customer's page as the customer sees it (short-lived link)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        return {"type": "ir.actions.act_url", "target": "new",
                "url": partner._dunning_portal_path(int(time.time()) + DAY)}
