from odoo import api, models


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    def _dunning_customer_url(self):
        """Every reminder links to the customer's signed dunning page (no login needed) for the
        communication's company: the page shows that company's invoices, plans and messages
        only. Called when the communication is sent (customer_url keeps it)."""
        self.ensure_one()
        return self.partner_id.commercial_partner_id._dunning_portal_url(self.company_id)


class DunningPlan(models.AbstractModel):
    _inherit = "dunning.plan"

    @api.model
    def _dunning_follow_commitments(self, today, companies):
        """Approved payment plans are followed before planning (a missed instalment reminds
        at once)."""
        super()._dunning_follow_commitments(today, companies)
        self.env["dunning.instalment.plan"]._dunning_follow(today, companies)
