from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .res_partner import MAX_LINK_DAYS


class DunningPolicy(models.Model):
    _inherit = "dunning.policy"

    link_validity_days = fields.Integer(
        string="Customer Link Validity (days)", default=30,
        help="The signed link in every reminder opens the customer's page without login for "
             "this many days (90 at most); after that the customer can ask for a fresh link by "
             "e-mail.")
    auto_retry_charge = fields.Boolean(
        string="Retry the Charge Automatically",
        help="Failed payments: at the retry step, charge the customer's saved payment method "
             "(a card or mandate saved with a payment provider) once, before the reminder "
             "goes; the reminder goes only if that charge fails too. Every attempt is noted on "
             "the invoice.")
    max_instalments = fields.Integer(
        string="Maximum Instalments", default=3,
        help="Customers can ask for a payment plan of at most this many instalments.")

    @api.constrains("link_validity_days", "max_instalments")
    def _check_portal_limits(self):
        for policy in self:
            if policy.link_validity_days < 1:
                raise ValidationError(self.env._("A customer link must be valid for at least one day."))
            if policy.link_validity_days > MAX_LINK_DAYS:
                raise ValidationError(self.env._(
                    "A customer link opens the customer's page without login: it can be valid "
                    "for %s days at most.", MAX_LINK_DAYS))
            if policy.max_instalments < 0:
                raise ValidationError(self.env._("The maximum number of instalments cannot be negative."))
