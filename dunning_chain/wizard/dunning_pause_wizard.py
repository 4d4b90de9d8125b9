from odoo import fields, models
from odoo.exceptions import UserError


class DunningPauseWizard(models.TransientModel):
    """Record a promise to pay or a dispute taken by phone: the invoice's chain pauses."""

    _name = "dunning.pause.wizard"
    _description = "Record a promise or a dispute"

    kind = fields.Selection([("promise", "Promise to pay"), ("dispute", "Dispute")],
                            required=True, default="promise")
    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    promise_date = fields.Date(string="Promised Date")
    reason = fields.Text(string="Note / Reason")

    def action_confirm(self):
        self.ensure_one()
        if self.kind == "promise":
            if not self.promise_date:
                raise UserError(self.env._("Enter the date the customer promised to pay."))
            self.move_ids._dunning_promise(self.promise_date, self.reason)
        else:
            self.move_ids._dunning_dispute(self.reason)
        return {"type": "ir.actions.act_window_close"}


class DunningPreviewWizard(models.TransientModel):
    """What the run would send today for a policy, without sending or saving anything."""

    _name = "dunning.preview.wizard"
    _description = "Dunning Preview"

    policy_id = fields.Many2one("dunning.policy", required=True)
    line_ids = fields.One2many("dunning.preview.line", "wizard_id")

    def _action_open(self):
        plans = self.env["dunning.communication"]._dunning_plan(dry_run=True)
        policy_partners = [p for p in plans
                           if p["partner"]._dunning_policy(p["invoices"][0].company_id) == self.policy_id]
        self.line_ids = [fields.Command.create({
            "partner_id": p["partner"].id,
            "level_id": p["level"].id,
            "invoice_ids": [fields.Command.set([m.id for m in p["invoices"]])],
            "amount": p["amount"],
            "reason": p["reason"],
            "channels": p["channels"],
        }) for p in policy_partners]
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
