from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class DunningChargeWaiveWizard(models.TransientModel):
    """Waive late payment charges (one, those of an invoice or message, all of a customer):
    booked ones are reversed by a credit note, the reason is logged in the chatter."""

    _name = "dunning.charge.waive.wizard"
    _description = "Waive late payment charges"

    charge_ids = fields.Many2many("dunning.charge", string="Charges", required=True,
                                  domain=[("state", "not in", ("waived", "shown"))])
    reason = fields.Text(required=True, help="Kept with the charges and logged in the chatter.")
    amount_summary = fields.Char(compute="_compute_amount_summary", string="Total Waived")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model, ids = self.env.context.get("active_model"), self.env.context.get("active_ids")
        if "charge_ids" in fields_list and model in ("account.move", "dunning.communication",
                                                     "res.partner", "dunning.charge") and ids:
            records = self.env[model].browse(ids)
            charges = (records if model == "dunning.charge"
                       else self.env["dunning.charge"]._dunning_waive_of(records))
            values["charge_ids"] = [fields.Command.set(
                charges.filtered(lambda c: c.state not in ("waived", "shown")).ids)]
        return values

    @api.depends("charge_ids")
    def _compute_amount_summary(self):
        for wizard in self:
            totals = {}
            for charge in wizard.charge_ids:
                totals[charge.currency_id] = totals.get(charge.currency_id, 0.0) + charge.amount
            wizard.amount_summary = ", ".join(
                currency.format(amount) for currency, amount in totals.items())

    def action_confirm(self):
        self.ensure_one()
        # giving money up is the accountant's decision (dunning managers, which invoicing
        # administrators are), not a collector's
        if not self.env.user.has_group("dunning_chain.group_dunning_manager"):
            raise AccessError(self.env._("Only dunning managers (invoicing administrators) can "
                                         "waive late payment charges."))
        if not self.charge_ids:
            raise UserError(self.env._("There is no charge to waive."))
        self.charge_ids.check_access("read")
        self.charge_ids._dunning_waive(self.reason)
        return {"type": "ir.actions.act_window_close"}
