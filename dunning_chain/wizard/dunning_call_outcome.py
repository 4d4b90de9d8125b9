from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import clean_context

from ..tools import send_window

OUTCOMES = [
    ("reached", "Reached"),
    ("no_answer", "No answer"),
    ("wrong_number", "Wrong number"),
    ("call_back", "Call back on"),
    ("promise", "Promised to pay on"),
    ("dispute", "Disputes"),
    ("other", "Other"),
]


class DunningCallOutcome(models.TransientModel):
    """What a call of the chain gave (opened when its task is marked done, or from the call,
    the customer or the invoice): recorded in the sealed record, said in the chatter, and the
    chain acts on it (dunning.communication._dunning_log_call_outcome)."""

    _name = "dunning.call.outcome"
    _description = "Call Outcome"

    communication_id = fields.Many2one(
        "dunning.communication", string="Call", required=True, ondelete="cascade",
        domain=[("channel", "=", "call"), ("state", "=", "sent")])
    partner_id = fields.Many2one(related="communication_id.partner_id", string="Customer")
    company_id = fields.Many2one(related="communication_id.company_id")
    phone = fields.Char(compute="_compute_call_facts")
    call_hours = fields.Char(
        string="Calling Hours", compute="_compute_call_facts",
        help="When the customer may be called today (the policy's send window in their time "
             "zone).")
    open_move_ids = fields.Many2many("account.move", compute="_compute_call_facts")
    move_ids = fields.Many2many(
        "account.move", string="Invoices", compute="_compute_move_ids", store=True,
        readonly=False, domain="[('id', 'in', open_move_ids)]",
        help="The invoices of the call the outcome is about (what is promised or disputed).")
    currency_id = fields.Many2one("res.currency", compute="_compute_amounts")
    amount_due = fields.Monetary(string="Amount Due", compute="_compute_amounts")
    outcome = fields.Selection(OUTCOMES, required=True, default="reached")
    callback_at = fields.Datetime(
        string="Call Back On",
        help="Your time; it must fall in the hours the customer may be called (their time).")
    callback_local = fields.Char(string="Customer's Time", compute="_compute_callback_local")
    promise_date = fields.Date(string="Promised Date")
    promise_amount = fields.Monetary(string="Promised Amount", compute="_compute_promise_amount",
                                     store=True, readonly=False)
    dispute_reason = fields.Text(string="Why They Dispute")
    note = fields.Text(help="What was said: kept in the record and in the chatter.")

    @api.depends("communication_id")
    def _compute_call_facts(self):
        for wizard in self:
            comm = wizard.communication_id
            if not comm:
                wizard.phone = wizard.call_hours = False
                wizard.open_move_ids = False
                continue
            wizard.phone = comm._dunning_call_phone()
            wizard.call_hours = comm._dunning_call_window(self.env.user)[1]
            wizard.open_move_ids = comm._dunning_call_invoices()

    @api.depends("communication_id")
    def _compute_move_ids(self):
        for wizard in self:
            wizard.move_ids = wizard.communication_id._dunning_call_invoices() \
                if wizard.communication_id else False

    @api.depends("move_ids", "communication_id")
    def _compute_amounts(self):
        for wizard in self:
            moves = wizard.move_ids
            currencies = moves.currency_id
            if len(currencies) == 1:
                wizard.currency_id = currencies
                wizard.amount_due = sum(moves.mapped("amount_residual"))
            else:
                wizard.currency_id = (wizard.communication_id.currency_id
                                      or self.env.company.currency_id)
                wizard.amount_due = sum(moves.mapped("amount_residual_signed"))

    @api.depends("move_ids")
    def _compute_promise_amount(self):
        for wizard in self:
            wizard.promise_amount = wizard.amount_due

    @api.depends("callback_at", "communication_id")
    def _compute_callback_local(self):
        for wizard in self:
            comm = wizard.communication_id
            if not (comm and wizard.callback_at):
                wizard.callback_local = False
                continue
            tz = comm._dunning_call_tz()
            local = send_window.local(wizard.callback_at, send_window.zone(tz))
            wizard.callback_local = self.env["dunning.send.window"]._dunning_local_words(local, tz)

    def _dunning_values(self):
        self.ensure_one()
        return {"note": self.note, "moves": self.move_ids, "callback_at": self.callback_at,
                "promise_date": self.promise_date, "promise_amount": self.promise_amount,
                "currency": self.currency_id, "dispute_reason": self.dispute_reason}

    def action_confirm(self):
        """Log the outcome (dunning users, on a call the chain made: checked there)."""
        self.ensure_one()
        if not self.communication_id:
            raise UserError(self.env._("Choose the call whose outcome you log."))
        comm = self.communication_id.with_context(clean_context(self.env.context))
        comm._dunning_log_call_outcome(self.outcome, self._dunning_values())
        return {"type": "ir.actions.act_window_close"}
