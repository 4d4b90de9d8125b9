from odoo import fields, models

PLAN_WIZARD = "dunning.instalment.plan.wizard"


class DunningCallOutcome(models.TransientModel):
    """On the phone the customer may agree a payment plan: the outcome is recorded, then the
    back-office plan form opens for the customer and the invoices of the call."""

    _inherit = "dunning.call.outcome"

    outcome = fields.Selection(selection_add=[("plan", "Agreed a payment plan"), ("other",)],
                               ondelete={"plan": "cascade"})

    def action_confirm(self):
        action = super().action_confirm()
        if self.outcome != "plan":
            return action
        return self._dunning_plan_action()

    def _dunning_plan_action(self):
        """The back-office payment plan form, in a dialog, for this call's customer and the
        invoices the outcome is about."""
        self.ensure_one()
        context = {"default_partner_id": self.partner_id.id,
                   "default_invoice_ids": self.move_ids.ids}
        if PLAN_WIZARD in self.env and "source" in self.env[PLAN_WIZARD]._fields:
            context["default_source"] = "call"
        return {
            "type": "ir.actions.act_window",
            "res_model": PLAN_WIZARD,
            "name": self.env._("Payment Plan"),
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": context,
        }
