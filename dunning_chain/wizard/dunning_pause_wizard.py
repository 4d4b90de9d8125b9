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
