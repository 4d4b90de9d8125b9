import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.dunning_chain.models.dunning_level_channel import ChannelTraits

from ..tools.sms_text import analyse, transliterate_spanish

#: ``{{ expression }}`` placeholders of inline templates.
_PLACEHOLDER_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class DunningLevelChannel(models.Model):
    _inherit = "dunning.level.channel"

    channel = fields.Selection(selection_add=[("sms", "SMS")], ondelete={"sms": "cascade"})
    sms_template_id = fields.Many2one(
        "sms.template", string="SMS Template",
        domain=[("model", "=", "dunning.communication")],
        help="The text sent by SMS. It is rendered in the customer's language; the policy's SMS "
             "settings decide how many SMS parts it may take.")
    sms_text_info = fields.Char(
        string="SMS Size", compute="_compute_sms_text_info",
        help="Estimated size of the SMS, with sample values (amount, date, link) in the "
             "placeholders and the policy's transliteration setting: encoding and number of SMS "
             "parts (each part is billed).")

    @api.depends("channel", "sms_template_id.body", "level_id.policy_id.sms_transliterate")
    def _compute_sms_text_info(self):
        for line in self:
            if line.channel != "sms" or not line.sms_template_id.body:
                line.sms_text_info = False
                continue
            text = line._dunning_sms_sample_text()
            if line.level_id.policy_id.sms_transliterate:
                text = transliterate_spanish(text)
            info = analyse(text)
            line.sms_text_info = self.env._(
                "%(encoding)s, %(segments)s SMS (~%(length)s chars)",
                encoding=info.encoding, segments=info.segments, length=info.length)

    def _dunning_sms_sample_text(self):
        """The template's body with typical values in its placeholders (an estimate: the real
        text is rendered for each customer when the message leaves)."""
        self.ensure_one()
        company = self.level_id.policy_id.company_id or self.env.company
        samples = {
            "url": self._dunning_sms_sample_url(company),
            "amount": "12,345.67 \N{EURO SIGN}",
            "date": "31/12/2026",
            "company": company.name or "",
        }

        def sample(match):
            expression = match.group(1)
            for key in ("url", "amount", "date"):
                if key in expression:
                    return samples[key]
            if "company_id" in expression:
                return samples["company"]
            return "x" * 12

        return _PLACEHOLDER_RE.sub(sample, self.sms_template_id.body).replace("\u00a0", " ")

    @api.model
    def _dunning_sms_sample_url(self, company):
        """A link as long as a typical customer link (issued when a message leaves), to
        estimate the size of an SMS before it is sent."""
        base_url = (company.get_base_url() or "https://example.com").rstrip("/")
        return f"{base_url}/my/invoices/12345?access_token=" + "x" * 36

    @api.model
    def _dunning_channel_traits(self):
        traits = super()._dunning_channel_traits()
        traits["sms"] = ChannelTraits(notification="sms", cap_field="cap_sms")
        return traits

    @api.constrains("channel", "sms_template_id")
    def _check_sms_template(self):
        for line in self:
            if line.channel == "sms" and not line.sms_template_id:
                raise ValidationError(self.env._(
                    "The SMS channel of level '%s' needs an SMS template.", line.level_id.name))
