from odoo import api, fields, models
from odoo.exceptions import ValidationError

MAX_SMS_SEGMENTS = 10
#: the day (from the due date) of the shipped chain's SMS step
SMS_STEP_DAYS = 10
#: the parameter saying the SMS step was added (or left out) once, and its xml id (it goes
#: with the addon)
SMS_STEP_MARKER = "dunning_sms.default_sms_step_added"
SMS_STEP_MARKER_XMLID = "dunning_sms.param_default_sms_step_added"


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

    @api.model
    def _dunning_sms_add_default_step(self):
        """(data, at install and at the first update that brings it) The shipped chain texts
        the customer a short reminder with the link to their page 10 days after the due date
        (3 days after the first e-mail), unless the chain was customised with a step on that
        day already. Done once per database (the marker parameter, removed with the addon):
        a step deleted or changed afterwards stays so."""
        if self.env.ref(SMS_STEP_MARKER_XMLID, raise_if_not_found=False):
            return
        Param = self.env["ir.config_parameter"].sudo()
        marker = (Param.search([("key", "=", SMS_STEP_MARKER)])
                  or Param.create({"key": SMS_STEP_MARKER, "value": "1"}))
        xmlids = [{"xml_id": SMS_STEP_MARKER_XMLID, "record": marker, "noupdate": True}]
        policy = self.env.ref("dunning_chain.policy_default", raise_if_not_found=False)
        template = self.env.ref("dunning_sms.sms_template_dunning_reminder",
                                raise_if_not_found=False)
        if policy and template and not policy.with_context(active_test=False).level_ids.filtered(
                lambda level: level.offset_days == SMS_STEP_DAYS):
            level = self.env["dunning.level"].create({
                "policy_id": policy.id,
                "name": "SMS reminder",
                "offset_days": SMS_STEP_DAYS,
                "note": "A short SMS with the link to the customer's page, three days after "
                        "the first reminder. Customers without a mobile number skip this step.",
            })
            channel = self.env["dunning.level.channel"].create({
                "level_id": level.id, "channel": "sms", "sms_template_id": template.id,
            })
            xmlids += [
                {"xml_id": "dunning_sms.level_sms", "record": level, "noupdate": True},
                {"xml_id": "dunning_sms.level_sms_sms", "record": channel, "noupdate": True},
            ]
        self.env["ir.model.data"]._update_xmlids(xmlids)
