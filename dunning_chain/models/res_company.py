from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    dunning_policy_id = fields.Many2one(
        "dunning.policy", string="Default Dunning Policy",
        domain="[('company_id', 'in', (id, False))]",
        help="The chain for customers that have no policy of their own.")

    def _dunning_default_policy(self):
        self.ensure_one()
        policy = self.dunning_policy_id
        if policy and policy.active:
            return policy
        return self.env["dunning.policy"].search(
            [("company_id", "in", (self.id, False))], order="company_id, sequence, id", limit=1)
