import re
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import consteq
from odoo.tools.misc import hmac

SCOPE = "dunning_portal"
DAY = 86400
# HMAC-SHA256 truncated to 128 bits (32 hex characters): still far beyond guessing, and the
# link stays short enough for an SMS.
SIGNATURE_LENGTH = 32
SIGNATURE_RE = re.compile(r"[0-9a-f]{%d}" % SIGNATURE_LENGTH)
# The last segment of a link: the signature, preceded by the communication that gave the link
# ("<communication id>-<signature>", signed with it) for the links of sent messages.
TOKEN_RE = re.compile(r"(?:([1-9][0-9]{0,9})-)?([0-9a-f]{%d})" % SIGNATURE_LENGTH)
# Whatever a policy says, a link lives at most this long.
MAX_LINK_DAYS = 90
DEFAULT_LINK_DAYS = 30
# Record ids are PostgreSQL integers: anything outside is no record (and no query).
MAX_ID = 2**31 - 1
DUNNING_USER = "dunning_chain.group_dunning_user"


def _sign(env, partner_id, company_id, expires, version, communication_id=None):
    payload = (int(partner_id), int(company_id), int(expires), int(version))
    if communication_id:
        payload += (int(communication_id),)
    return hmac(env(su=True), SCOPE, payload)[:SIGNATURE_LENGTH]


def parse_token(token):
    """(communication id or None, signature) of a link's last segment, or (None, None) when
    it has neither shape."""
    match = TOKEN_RE.fullmatch(token) if isinstance(token, str) else None
    if not match:
        return None, None
    return valid_id(match.group(1)) if match.group(1) else None, match.group(2)


def valid_id(value):
    """An int a record id can be (1 .. 2**31-1), from an int or a plain ASCII decimal string;
    else None."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdecimal() and len(value) <= 10):
            return None
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        return None
    return value


class ResPartner(models.Model):
    _inherit = "res.partner"

    dunning_link_sent_at = fields.Datetime(
        string="Fresh Dunning Link Sent", copy=False, readonly=True,
        help="Last time a fresh link to the dunning page was e-mailed at the customer's request.")
    dunning_link_version = fields.Integer(
        string="Customer Link Version", default=0, copy=False, readonly=True,
        groups=DUNNING_USER,
        help="Part of every signed link to the customer's dunning page: revoking the customer's "
             "links raises it, and every link given before stops working.")

    # ------------------------------------------------------------------ signed links
    def _dunning_portal_signature(self, company, expires, communication=None):
        """HMAC-SHA256 (key: the database secret) of ('dunning_portal', (commercial partner
        id, company id, expiry timestamp, link version[, communication id])), truncated to 128
        bits."""
        self.ensure_one()
        return _sign(self.env, self.id, company.id, expires, self.sudo().dunning_link_version,
                     communication.id if communication else None)

    def _dunning_portal_path(self, company, expires, communication=None):
        """Path of the customer's page for one company, signed until ``expires`` (unix time).
        The link a sent message gives names the message in its last segment
        (``<communication id>-<signature>``), signed with it: what the customer does from
        the page is logged for that message, and a changed id is a forged link."""
        self.ensure_one()
        partner = self.commercial_partner_id
        token = partner._dunning_portal_signature(company, expires, communication)
        if communication:
            token = f"{communication.id}-{token}"
        return f"/dunning/{partner.id}/{company.id}/{int(expires)}/{token}"

    def _dunning_portal_link_days(self, company):
        """How long a new link lives: the policy's validity, at most MAX_LINK_DAYS."""
        policy = self.commercial_partner_id._dunning_policy(company)
        days = policy.link_validity_days if policy and policy.link_validity_days else DEFAULT_LINK_DAYS
        return max(1, min(days, MAX_LINK_DAYS))

    def _dunning_portal_url(self, company=None, expires=None, communication=None):
        """Absolute signed URL of the customer's dunning page for ``company`` (the customer's
        company, else the current one), valid for the policy's link_validity_days (30 by
        default, 90 at most); given by ``communication`` when a message gives it."""
        self.ensure_one()
        partner = self.commercial_partner_id
        company = company or partner.company_id or self.env.company
        if expires is None:
            expires = int(time.time()) + partner._dunning_portal_link_days(company) * DAY
        return partner.get_base_url() + partner._dunning_portal_path(company, expires,
                                                                     communication)

    @api.model
    def _dunning_portal_check(self, partner_id, company_id, expires, signature):
        """('ok' | 'expired' | 'invalid', sudo commercial partner, sudo company); the records
        are empty when invalid.

        The signature is checked before anything else is said (constant time, over the link
        version of the customer: a revoked link is a forged one); an authentic but expired
        link still names its partner and company so that a fresh link can be sent to the
        e-mail address on file, never to one typed in. An archived customer, a company that
        is gone or that cannot see the customer, an expiry further away than any link we
        give: invalid."""
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        Company = self.env["res.company"].sudo()
        invalid = ("invalid", Partner.browse(), Company.browse())
        partner_id, company_id = valid_id(partner_id), valid_id(company_id)
        if not partner_id or not company_id or not isinstance(expires, int) \
                or not 0 < expires < time.time() + (MAX_LINK_DAYS + 1) * DAY:
            return invalid
        communication_id, signature = parse_token(signature)
        if not signature:
            return invalid
        partner = Partner.browse(partner_id).exists()
        version = partner.dunning_link_version if partner else 0
        expected = _sign(self.env, partner_id, company_id, expires, version, communication_id)
        if not consteq(expected, signature):
            return invalid
        company = Company.browse(company_id).exists()
        if (not partner or not company or partner != partner.commercial_partner_id
                or not partner.active
                or (partner.company_id and partner.company_id not in company.parent_ids)):
            return invalid
        partner = partner.with_context(active_test=True)
        if expires < time.time():
            return "expired", partner, company
        return "ok", partner, company

    @api.model
    def _dunning_portal_link_communication(self, partner, company, token):
        """The sent message that gave this link (whose check passed), or an empty recordset
        for a link that names none (links given before messages were named in them, a
        preview)."""
        Comm = self.env["dunning.communication"].sudo()
        communication_id, _signature = parse_token(token)
        comm = Comm.browse(communication_id).exists() if communication_id else Comm
        if (not comm or comm.state != "sent" or comm.company_id != company
                or comm.partner_id.commercial_partner_id != partner):
            return Comm
        return comm

    @api.model
    def _dunning_portal_check_legacy(self, partner_id, expires, signature):
        """The active customer of an authentic link of the first shape
        (/dunning/<partner>/<expiry>/<signature>, signed over partner and expiry only, given
        before links were bound to a company), else an empty recordset. Such a link opens no
        page any more: it can only ask for a fresh link to the address on file."""
        Partner = self.env["res.partner"].sudo()
        partner_id = valid_id(partner_id)
        if not partner_id or not isinstance(expires, int) or not 0 < expires < 2**40 \
                or not isinstance(signature, str) or not SIGNATURE_RE.fullmatch(signature):
            return Partner
        expected = hmac(self.env(su=True), SCOPE, (partner_id, expires))[:SIGNATURE_LENGTH]
        if not consteq(expected, signature):
            return Partner
        partner = Partner.browse(partner_id).exists()
        if not partner or partner != partner.commercial_partner_id:
            return Partner
        return partner

    def _dunning_portal_link_recipients(self):
        """Where a fresh link goes: the customer's dunning contacts, else the customer."""
        self.ensure_one()
        contacts = self.child_ids.filtered(lambda p: p.dunning_contact and p.email)
        return contacts or (self if self.email else self.browse())

    @api.model
    def _dunning_fresh_link_daily_max(self):
        return self.env["ir.config_parameter"]._dunning_int_param(
            "dunning_portal.fresh_link_daily_max", 3)

    def _dunning_portal_send_fresh_link(self, company, ip=None, min_interval_minutes=5):
        """E-mail a fresh signed link for ``company`` to the addresses on file. Returns the
        mail.mail, empty when there is no address, when a link was sent in the last minutes,
        or when the day's maximum is reached for this customer or for the client address
        ``ip`` (ir.config_parameter dunning_portal.fresh_link_daily_max, default 3)."""
        self.ensure_one()
        partner = self.sudo().commercial_partner_id
        Mail = self.env["mail.mail"].sudo()
        Request = self.env["dunning.portal.link.request"].sudo()
        recipients = partner._dunning_portal_link_recipients()
        now = fields.Datetime.now()
        if not recipients:
            return Mail
        last = partner.dunning_link_sent_at
        if last and (now - last).total_seconds() < min_interval_minutes * 60:
            return Mail
        daily_max = self._dunning_fresh_link_daily_max()
        since = now - timedelta(days=1)
        if Request.search_count([("partner_id", "=", partner.id), ("create_date", ">", since)]) \
                >= daily_max:
            return Mail
        if ip and Request.search_count([("ip", "=", ip), ("create_date", ">", since)]) >= daily_max:
            return Mail
        Request.create({"partner_id": partner.id, "ip": ip or False})
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

    # ------------------------------------------------------------------ staff actions
    def _dunning_check_link_rights(self):
        if not self.env.user.has_group(DUNNING_USER):
            raise AccessError(self.env._(
                "Only Dunning users can open or revoke a customer's dunning page link."))
        self.check_access("read")

    def action_dunning_portal_preview(self):
        """Open the customer's page as the customer sees it (short-lived link), for the
        current company. Dunning users only: the link opens the page without login."""
        self.ensure_one()
        self._dunning_check_link_rights()
        partner = self.commercial_partner_id
        return {"type": "ir.actions.act_url", "target": "new",
                "url": partner._dunning_portal_path(self.env.company, int(time.time()) + DAY)}

    def action_dunning_revoke_links(self):
        """Every link to the customer's dunning page given so far stops working (reminders
        sent from now on carry new ones)."""
        self._dunning_check_link_rights()
        for partner in self.commercial_partner_id:
            partner.sudo().dunning_link_version += 1
            partner.sudo().message_post(author_id=self.env.user.partner_id.id,
                                        subtype_xmlid="mail.mt_note", body=self.env._(
                "Customer links revoked by %s: the links to the dunning page given so far no "
                "longer open it.", self.env.user.name))
        return True
