"""The SMS channel of the dunning chain.

Sending goes through Odoo's own machinery (``_message_sms``): the text is posted on the
communication's chatter and queued as ``sms.sms``; the SMS queue cron hands it to the company's
provider (IAP, Twilio...) once the run has committed, so a rolled-back run sends nothing. The
provider's answers and delivery reports land on the message's ``mail.notification``, which
the core's delivery sync (``dunning.send._dunning_sync_delivery``, run by every dunning run)
copies to the communication: the channel's traits name the notification type ``sms``.

Opt-outs use Odoo's phone blacklist (``phone.blacklist``). Odoo's IAP and Twilio integrations do
not pass incoming SMS to Odoo, so "STOP" replies only reach Odoo when the provider is set up to
call a webhook: that webhook calls ``_dunning_sms_inbound(number, text)``.
"""
import logging
import re
import unicodedata

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

from ..tools.phone import normalise_mobile
from ..tools.sms_text import GSM7, UCS2, analyse, shorten, transliterate_spanish

_logger = logging.getLogger(__name__)

#: First word of an incoming SMS that opts the number out (English, Spanish).
OPT_OUT_KEYWORDS = frozenset({"STOP", "BAJA", "ALTO"})


#: What an SMS communication sent: written by sending only, frozen once sent.
SMS_FIELDS = {"sms_body", "sms_encoding", "sms_segments", "sms_adjustments"}


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    sms_body = fields.Text(string="SMS Text", readonly=True, copy=False,
                           help="The exact characters sent by SMS.")
    sms_encoding = fields.Selection([(GSM7, "GSM-7"), (UCS2, "UCS-2 (Unicode)")],
                                    string="SMS Encoding", readonly=True, copy=False)
    sms_segments = fields.Integer(string="SMS Parts", readonly=True, copy=False,
                                  help="Number of SMS parts billed for this message.")
    sms_adjustments = fields.Char(string="Text Adjusted", readonly=True, copy=False,
                                  help="What was done to the text to keep it short and cheap.")
    # what a planned SMS will be, as things stand (the record keeps what was sent)
    sms_planned_to = fields.Char(
        string="SMS To", compute="_compute_sms_planned",
        help="For an SMS not sent yet: the mobile number it will go to (E.164), as the "
             "customer's phones stand now, or why none can receive it.")
    sms_planned_size = fields.Char(
        string="SMS Size", compute="_compute_sms_planned",
        help="For an SMS not sent yet: its text rendered now, with a typical customer link "
             "(the link is issued when it leaves) and the policy's accent replacement: "
             "encoding and number of parts (each part is billed). The text is rendered again "
             "when it leaves.")

    # ---------------------------------------------------------------- computes
    @api.depends("channel", "state", "partner_id", "channel_config_id.sms_template_id")
    def _compute_sms_planned(self):
        for comm in self:
            comm.sms_planned_to = comm.sms_planned_size = False
            if comm.channel != "sms" or comm.state not in ("to_review", "scheduled") \
                    or not comm.partner_id:
                continue
            # the number and the text as the sender builds them (as superuser: the template
            # reads the customer link, which dunning users only may read)
            sudo = comm.sudo()
            _contact, check, reasons = sudo.partner_id._dunning_sms_recipient(sudo.company_id)
            comm.sms_planned_to = check.e164 if check else self.env._(
                "none: %s", "; ".join(reasons))
            template = sudo.channel_config_id.sms_template_id
            if not template or not sudo.id:
                continue
            try:
                text, info, _notes = sudo._dunning_sms_text(template)
            except UserError as exc:
                comm.sms_planned_size = exc.args[0]
                continue
            if not sudo.customer_url:
                # the link is issued when the message leaves: measure with a typical one
                link = self.env["dunning.level.channel"]._dunning_sms_sample_url(sudo.company_id)
                info = analyse(f"{text} {link}")
            most = sudo.policy_id.sms_max_segments or info.segments
            if info.segments > most:
                comm.sms_planned_size = self.env._(
                    "%(encoding)s, %(segments)s SMS (%(length)s chars: shortened when it leaves)",
                    encoding=info.encoding, segments=most, length=info.length)
            else:
                comm.sms_planned_size = self.env._(
                    "%(encoding)s, %(segments)s SMS (%(length)s chars)",
                    encoding=info.encoding, segments=info.segments, length=info.length)

    # ---------------------------------------------------------------- the record
    @api.model
    def _dunning_sender_fields(self):
        return super()._dunning_sender_fields() | SMS_FIELDS

    @api.model
    def _dunning_frozen_fields(self):
        return super()._dunning_frozen_fields() | SMS_FIELDS

    def _dunning_snapshot(self):
        snapshot = super()._dunning_snapshot()
        if self.sms_body:
            snapshot["sms"] = [self.sms_body, self.sms_encoding or "", self.sms_segments]
        return snapshot

    # ---------------------------------------------------------------- sending
    def _dunning_sms_text(self, template):
        """Render the template for this communication in the customer's language and make it
        fit the policy: transliteration, then shortening. Returns (text, SmsInfo, notes)."""
        self.ensure_one()
        lang = self.partner_id.lang or self.env.lang
        try:
            text = template.with_context(lang=lang)._render_field(
                "body", self.ids, compute_lang=True)[self.id]
        except Exception as exc:  # noqa: BLE001 - reported to the user as the failure reason
            raise UserError(self.env._("The SMS template '%(tpl)s' could not be rendered: %(err)s",
                                       tpl=template.name, err=exc)) from exc
        # format_amount() separates amount and symbol with a no-break space: not GSM-7
        text = (text or "").replace("\u00a0", " ").replace("\u202f", " ").strip()
        if not text:
            raise UserError(self.env._("The SMS template '%s' gives an empty text.", template.name))
        policy = self.policy_id
        notes = []
        info = analyse(text)
        if policy.sms_transliterate:
            replaced = transliterate_spanish(text)
            if replaced != text:
                after = analyse(replaced)
                notes.append(self.env._(
                    "accents replaced: %(enc_before)s %(before)s SMS -> %(enc_after)s %(after)s SMS",
                    enc_before=info.encoding, before=info.segments,
                    enc_after=after.encoding, after=after.segments))
                text, info = replaced, after
        if info.segments > policy.sms_max_segments:
            try:
                shortened = shorten(text, policy.sms_max_segments)
            except ValueError as exc:
                raise UserError(self.env._(
                    "The SMS needs %(parts)s parts and cannot be shortened to the policy's "
                    "maximum of %(max)s: %(err)s",
                    parts=info.segments, max=policy.sms_max_segments, err=exc)) from exc
            url = self.customer_url
            if url and url in text and url not in shortened:
                raise UserError(self.env._(
                    "The SMS needs %(parts)s parts: shortening it to %(max)s would drop the "
                    "link to pay. Shorten the template or allow more parts in the policy.",
                    parts=info.segments, max=policy.sms_max_segments))
            short_info = analyse(shortened)
            notes.append(self.env._("shortened: %(before)s SMS -> %(after)s SMS",
                                    before=info.segments, after=short_info.segments))
            text, info = shortened, short_info
        return text, info, notes

    def _dunning_sms_opted_out(self, number):
        return bool(self.env["phone.blacklist"].sudo().search_count([("number", "=", number)]))

    def _dunning_send_sms(self):
        self.ensure_one()
        template = self.channel_config_id.sms_template_id
        if not template:
            raise UserError(self.env._("Level '%s' has no SMS template.", self.level_id.name))
        # why no SMS leaves lands in the record (failure reason): the customer's language
        lang = self.env["dunning.send.window"]._dunning_lang(self.partner_id)
        in_lang = self.with_context(lang=lang)
        contact, check, reasons = self.partner_id.with_context(
            lang=lang)._dunning_sms_recipient(self.company_id)
        if not check:
            raise UserError(in_lang.env._(
                "No mobile number can receive the SMS (%(reasons)s). Fix the customer's phone "
                "or mark a contact with a mobile number as dunning contact.",
                reasons="; ".join(reasons)))
        if self._dunning_sms_opted_out(check.e164):
            if "email" in self.level_id.channel_ids.mapped("channel"):
                reason = in_lang.env._("opted out of SMS (blacklist): the e-mail of this level "
                                       "covers it")
            else:
                reason = in_lang.env._("opted out of SMS")
            return {"cancelled": in_lang.env._("%(number)s %(reason)s", number=check.e164,
                                               reason=reason)}
        text, info, notes = self._dunning_sms_text(template)
        message = self.with_context(lang=self.partner_id.lang)._message_sms(
            text, partner_ids=contact.ids, sms_pid_to_number={contact.id: check.e164},
            put_in_queue=True,  # the SMS queue sends it once this run is committed
        )
        self._dunning_sys_write({
            "sms_body": text, "sms_encoding": info.encoding, "sms_segments": info.segments,
            "sms_adjustments": "; ".join(notes) or False,
        })
        return {
            "subject": self.env._("SMS to %s", contact.display_name),
            "body": plaintext2html(text),
            "recipients": check.e164,
            "mail_message_id": message.id,
            "delivery_state": "pending",
        }

    # ---------------------------------------------------------------- delivery reports
    def _dunning_sms_failure_text(self, notification):
        failure_type = notification.failure_type
        texts = {
            "sms_credit": self.env._("insufficient SMS credit: buy credit or check the SMS "
                                     "provider account, then resend"),
            "sms_number_format": self.env._("the provider refused the number format"),
            "sms_number_missing": self.env._("no number"),
            "sms_blacklist": self.env._("the number is blacklisted"),
            "sms_optout": self.env._("the number opted out"),
            "sms_server": self.env._("the SMS provider had a server error"),
            "sms_acc": self.env._("the SMS account is not registered"),
            "sms_country_not_supported": self.env._("the provider does not serve this country"),
            "sms_registration_needed": self.env._("this country requires a sender registration"),
        }
        text = texts.get(failure_type) or notification.format_failure_reason()
        if notification.failure_reason and failure_type not in (False, "unknown"):
            text = f"{text} ({notification.failure_reason})"
        return text

    # ---------------------------------------------------------------- opt-out replies
    @api.model
    def _dunning_sms_inbound(self, number, text):
        """An SMS received from a customer (for a provider webhook to call). A reply whose
        first word is STOP, BAJA or ALTO puts the number on the phone blacklist: no dunning
        SMS reaches it any more. Returns whether the number was opted out."""
        plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
        words = re.findall(r"[A-Za-z]+", plain.upper())
        if not words or words[0] not in OPT_OUT_KEYWORDS:
            return False
        region = self.env.company.country_id.code
        check = normalise_mobile(number, region)
        e164 = check.e164
        if not e164:
            _logger.warning("SMS opt-out from an unreadable number %r ignored", number)
            return False
        self.env["phone.blacklist"].sudo()._add([e164], message=self.env._(
            "Opted out of SMS by replying '%s'.", words[0]))
        partners = self.env["res.partner"].sudo().search([("phone_sanitized", "=", e164)])
        for partner in partners:
            partner._message_log(body=self.env._(
                "%(number)s opted out of SMS (replied '%(word)s'): no more dunning SMS.",
                number=e164, word=words[0]))
        return True


class DunningSend(models.AbstractModel):
    _inherit = "dunning.send"

    @api.model
    def _dunning_delivery_of(self, notification_type, statuses):
        """An SMS notification "sent" means the provider reported it delivered (its "pending":
        handed to the provider)."""
        if notification_type == "sms" and statuses == {"sent"}:
            return "delivered"
        return super()._dunning_delivery_of(notification_type, statuses)

    @api.model
    def _dunning_delivery_failure(self, notification_type, notification):
        if notification_type != "sms":
            return super()._dunning_delivery_failure(notification_type, notification)
        comm = self.env["dunning.communication"]
        return self.env._("The SMS provider reported: %s",
                          comm._dunning_sms_failure_text(notification))
