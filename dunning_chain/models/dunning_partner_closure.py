from odoo import api, fields, models
from odoo.exceptions import ValidationError


class DunningPartnerClosure(models.Model):
    """A period when a customer is closed: no reminder reaches them then."""

    _name = "dunning.partner.closure"
    _description = "Customer Closure"
    _order = "date_from"

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", index=True)
    name = fields.Char(string="Reason", required=True, default=lambda self: self.env._("Closed"))
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for closure in self:
            if closure.date_to < closure.date_from:
                raise ValidationError(self.env._("A closure cannot end before it starts."))
