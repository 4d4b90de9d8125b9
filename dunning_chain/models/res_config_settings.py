from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    dunning_policy_id = fields.Many2one(
        related="company_id.dunning_policy_id", readonly=False,
        domain="[('company_id', 'in', (company_id, False)), ('kind', '=', 'overdue')]")
    dunning_failed_policy_id = fields.Many2one(
        related="company_id.dunning_failed_policy_id", readonly=False,
        domain="[('company_id', 'in', (company_id, False)), ('kind', '=', 'failed_payment')]")
    dunning_auditor_email = fields.Char(related="company_id.dunning_auditor_email",
                                        readonly=False)
    dunning_charge_journal_id = fields.Many2one(
        related="company_id.dunning_charge_journal_id", readonly=False)
    dunning_interest_product_id = fields.Many2one(
        related="company_id.dunning_interest_product_id", readonly=False)
    dunning_compensation_product_id = fields.Many2one(
        related="company_id.dunning_compensation_product_id", readonly=False)
