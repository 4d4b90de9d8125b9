from odoo import api, models


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.model
    def _dunning_int_param(self, key, default):
        """A non-negative whole number set by an administrator (System Parameters), or the
        default when it is missing or not a number."""
        try:
            return max(0, int(self.sudo().get_param(key, default)))
        except (TypeError, ValueError):
            return default
