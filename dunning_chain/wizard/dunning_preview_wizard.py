from odoo import fields, models


class DunningPreviewWizard(models.TransientModel):
    """What the run would send today for a policy, without sending or saving anything."""

    _name = "dunning.preview.wizard"
    _description = "Dunning Preview"

    policy_id = fields.Many2one("dunning.policy", required=True)
    line_ids = fields.One2many("dunning.preview.line", "wizard_id")

    def _action_open(self):
        plans = self.env["dunning.plan"]._compute_plans()
        self.line_ids = [fields.Command.create({
            "partner_id": plan.partner.id,
            "level_id": plan.level.id,
            "invoice_ids": [fields.Command.set([e.candidate.move_id for e in plan.entries])],
            "amount": sum(e.candidate.residual_company for e in plan.entries),
            "reason": "; ".join(e.why for e in plan.entries),
            "channels": plan.level.channel_summary,
        }) for plan in plans if plan.policy == self.policy_id]
        return {
            "type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
            "view_mode": "form", "target": "new",
            "name": self.env._("Would go out today: %s", self.policy_id.name),
        }


class DunningPreviewLine(models.TransientModel):
    _name = "dunning.preview.line"
    _description = "Dunning Preview Line"

    wizard_id = fields.Many2one("dunning.preview.wizard", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Customer")
    level_id = fields.Many2one("dunning.level")
    invoice_ids = fields.Many2many("account.move", string="Invoices")
    currency_id = fields.Many2one(related="level_id.policy_id.currency_id")
    amount = fields.Monetary()
    reason = fields.Text(string="Why")
    channels = fields.Char()
