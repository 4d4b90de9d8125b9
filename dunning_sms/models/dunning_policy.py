from odoo import api, fields, models
from odoo.exceptions import ValidationError

MAX_SMS_SEGMENTS = 10


class DunningPolicy(models.Model):
    _inherit = "dunning.policy"

    sms_max_segments = fields.Integer(
        string="Maximum SMS Parts", default=2,
        help="A longer text is shortened (never cutting the link) to fit this many SMS parts: "
             "160 characters for one GSM-7 part, 153 per part beyond; 70/67 when a character "
             "outside GSM-7 (e.g. á, í, ó, ú) forces UCS-2. Each part is billed.")
    sms_transliterate = fields.Boolean(
        string="Replace Accents in SMS", default=True,
        help="Replace the characters that force the expensive UCS-2 encoding (á í ó ú º ª ç, "
             "typographic quotes...) by look-alikes before counting. é, ñ, ü, ¿ and ¡ are GSM-7 "
             "and are kept.")
    cap_sms = fields.Integer(string="SMS per 7 Days", default=2,
                             help="At most this many SMS to a customer in any 7 days.")

    @api.constrains("sms_max_segments", "cap_sms")
    def _check_sms_settings(self):
        for policy in self:
            if not 1 <= policy.sms_max_segments <= MAX_SMS_SEGMENTS:
                raise ValidationError(self.env._(
                    "An SMS may take from 1 to %(max)s parts (policy '%(policy)s').",
                    max=MAX_SMS_SEGMENTS, policy=policy.name))
            if policy.cap_sms < 0:
                raise ValidationError(self.env._("Limits cannot be negative (0 means no limit)."))
