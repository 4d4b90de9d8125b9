from odoo import fields, models


class DunningPreviewWizard(models.TransientModel):
    """What the run would send today for a policy, without sending or saving anything."""

    _name = "dunning.preview.wizard"
    _description = "Dunning Preview"

    policy_id = fields.Many2one("dunning.policy", required=True)
    line_ids = fields.One2many("dunning.preview.line", "wizard_id")

    def _action_open(self):
        planner = self.env["dunning.plan"]
        plans = planner._compute_plans()
        lines = []
        for plan in plans:
            if plan.policy != self.policy_id:
                continue
            # as the run plans them: without the channels the customer refused
            channels, left_out = planner._dunning_plan_channels(plan.partner, plan.level)
            lines.append(fields.Command.create({
                "partner_id": plan.partner.id,
                "level_id": plan.level.id,
                "invoice_ids": [fields.Command.set([e.candidate.move_id for e in plan.entries])],
                "amount": sum(e.candidate.residual_company for e in plan.entries),
                "reason": "\n".join(filter(None, ["; ".join(e.why for e in plan.entries),
                                                  left_out])),
                "channels": ", ".join(planner._dunning_channel_label(line.channel)
                                      for line in channels),
            }))
        self.line_ids = lines
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
