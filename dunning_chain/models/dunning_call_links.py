from odoo import fields, models
from odoo.exceptions import UserError


def _last_calls(env, domain, key):
    """{key(communication): the call to log an outcome for}: the one whose task is still open,
    else the last one made."""
    calls = env["dunning.communication"].search(
        [("channel", "=", "call"), ("state", "=", "sent"), *domain],
        order="sent_at desc, id desc")
    found = {}
    for call in calls:
        for value in key(call):
            if value not in found or (call.call_date and not found[value].call_date):
                found[value] = call
    return found


class ResPartner(models.Model):
    _inherit = "res.partner"

    dunning_last_call_id = fields.Many2one(
        "dunning.communication", string="Dunning Call", compute="_compute_dunning_last_call_id",
        groups="dunning_chain.group_dunning_user",
        help="The chain's call to this customer still to make, else the last one made.")

    def _compute_dunning_last_call_id(self):
        commercial = self.commercial_partner_id
        found = _last_calls(self.env, [("partner_id", "in", commercial.ids)],
                            lambda call: [call.partner_id.id])
        for partner in self:
            partner.dunning_last_call_id = found.get(partner.commercial_partner_id.id)

    def action_dunning_log_call(self):
        """The Call Outcome form of the chain's call to this customer (dunning users)."""
        self.ensure_one()
        call = self.sudo().dunning_last_call_id.with_env(self.env)
        if not call:
            raise UserError(self.env._("The dunning chain has not called %s yet.",
                                       self.commercial_partner_id.display_name))
        return call.action_dunning_log_call()


class AccountMove(models.Model):
    _inherit = "account.move"

    dunning_last_call_id = fields.Many2one(
        "dunning.communication", string="Dunning Call", compute="_compute_dunning_last_call_id",
        groups="dunning_chain.group_dunning_user",
        help="The chain's call about this invoice still to make, else the last one made.")

    def _compute_dunning_last_call_id(self):
        moves = self.filtered(lambda m: m.id and m.move_type == "out_invoice")
        found = _last_calls(self.env, [("line_ids.move_id", "in", moves.ids)],
                            lambda call: call.line_ids.move_id.ids) if moves else {}
        for move in self:
            move.dunning_last_call_id = found.get(move.id)

    def action_dunning_log_call(self):
        """The Call Outcome form of the chain's call about this invoice (dunning users)."""
        self.ensure_one()
        call = self.sudo().dunning_last_call_id.with_env(self.env)
        if not call:
            raise UserError(self.env._("The dunning chain has not called about %s yet.",
                                       self.name))
        return call.action_dunning_log_call()
