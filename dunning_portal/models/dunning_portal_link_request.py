from datetime import timedelta

from odoo import api, fields, models


class DunningPortalLinkRequest(models.Model):
    """One 'Send me a fresh link' that sent an e-mail: the daily maximum per customer and per
    client address is counted on these rows. Written and read with sudo only (no access
    for anyone), forgotten after a month."""

    _name = "dunning.portal.link.request"
    _description = "Dunning: Fresh Link Request"
    _order = "id desc"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True,
                                 ondelete="cascade", index=True)
    ip = fields.Char(string="Client Address", index=True,
                     help="Address of the browser that asked for the fresh link.")

    @api.autovacuum
    def _gc_old_requests(self):
        self.sudo().search([("create_date", "<", fields.Datetime.now() - timedelta(days=30))]).unlink()
