from odoo import fields, models


class DunningDisputeWizard(models.TransientModel):
    """Answer a customer's dispute: accept it (the invoice leaves the chain, a credit note can
    follow at once) or reject it (the reminders resume); the customer receives the answer."""

    _name = "dunning.dispute.wizard"
    _description = "Answer a dispute"

    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    dispute_reason = fields.Text(string="Customer's Reason", compute="_compute_dispute_reason")
    decision = fields.Selection(
        [("accept", "Accept: the customer is right"),
         ("reject", "Reject: the invoice remains due")],
        required=True, default="reject")
    answer = fields.Text(
        string="Answer to the Customer",
        help="E-mailed to the customer and shown on their page, with the link to it.")
    notify = fields.Boolean(string="Send the Answer to the Customer", default=True)
    credit_note = fields.Boolean(
        string="Issue a Credit Note Now",
        help="Open the credit note form for these invoices once the dispute is accepted.")

    def _compute_dispute_reason(self):
        for wizard in self:
            wizard.dispute_reason = "\n".join(
                f"{move.name}: {move.dunning_dispute_reason or ''}" for move in wizard.move_ids)

    def action_confirm(self):
        self.ensure_one()
        accept = self.decision == "accept"
        moves = self.move_ids._dunning_resolve_dispute(accept, self.answer, notify=self.notify)
        if accept and self.credit_note:
            action = self.env["ir.actions.act_window"]._for_xml_id(
                "account.action_view_account_move_reversal")
            action["context"] = {"active_model": "account.move", "active_ids": moves.ids}
            return action
        return {"type": "ir.actions.act_window_close"}
