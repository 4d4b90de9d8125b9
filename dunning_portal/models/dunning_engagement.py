"""What customers did with the link a message gave them: visits of the signed page, Pay
clicked, payments started, completed or failed, disputes, promises, plan requests. Logged per
communication (the link names it, signed), by the page's routes (controllers/engagement.py)
and by the transaction hooks below. The effectiveness facts (dunning.fact) of the message are
marked as it happens: page opened, paid online, plan requested.

Only what the customer did on our own page is logged: no tracking pixel, no IP address, no
browser fingerprint. A visit is counted once per browser session.
"""
from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.dunning_chain.models.dunning_fact_refresh import LINK_KEY
from odoo.addons.dunning_chain.models.dunning_send import batch_store

KINDS = [
    ("visit", "Page visit"),
    ("pay_click", "Pay clicked"),
    ("payment_started", "Payment started"),
    ("payment_done", "Payment completed"),
    ("payment_failed", "Payment failed"),
    ("dispute", "Dispute"),
    ("promise", "Promise to pay"),
    ("plan_request", "Payment plan requested"),
]
COUNTED = ("visit", "pay_click", "payment_started", "payment_done", "dispute", "promise",
           "plan_request")
DUNNING_USER = "dunning_chain.group_dunning_user"


class DunningEngagement(models.Model):
    _name = "dunning.engagement"
    _description = "Customer Page Engagement"
    _order = "at desc, id desc"
    _log_access = False

    communication_id = fields.Many2one("dunning.communication", required=True, readonly=True,
                                       index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    level_id = fields.Many2one(related="communication_id.level_id", store=True, string="Step")
    channel = fields.Selection(related="communication_id.channel", store=True)
    kind = fields.Selection(KINDS, required=True, readonly=True, index=True)
    at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True,
                              ondelete="set null")
    transaction_id = fields.Many2one("payment.transaction", readonly=True, ondelete="set null")
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(readonly=True)

    @api.model
    def _dunning_log(self, comm, kind, moves=None, transaction=None):
        """Log what the customer did from ``comm``'s link (a payment: one row; else one row
        per invoice concerned, or one row) and mark the message's facts."""
        if not comm:
            return self.browse()
        comm = comm.sudo()
        base = {"communication_id": comm.id, "company_id": comm.company_id.id,
                "partner_id": comm.partner_id.id, "kind": kind}
        if transaction:
            base.update(transaction_id=transaction.id, currency_id=transaction.currency_id.id,
                        amount=transaction.amount)
            moves = moves or transaction.sudo().invoice_ids
        rows = [dict(base, move_id=move.id) for move in moves] if moves and not transaction \
            else [base]
        events = self.sudo().create(rows)
        Fact = self.env["dunning.fact"].sudo()
        if kind == "visit":
            Fact._dunning_fact_mark_communication(comm.id, "opened")
        elif kind == "payment_done" and moves:
            Fact._dunning_fact_mark(moves.ids, "paid_online", communication_id=comm.id)
        return events


class DunningFact(models.Model):
    _inherit = "dunning.fact"

    opened = fields.Integer(string="Page Opened", readonly=True,
                            help="1 when the customer opened the page from this message's link "
                                 "(summed: how many).")
    paid_online = fields.Integer(string="Paid Online", readonly=True,
                                 help="1 when the invoice was paid online from the page, after "
                                      "this message (summed: how many).")
    plan_requested = fields.Integer(string="Plan Requested", readonly=True,
                                    help="1 when the customer asked for a payment plan for "
                                         "the invoice after this message (summed: how many).")

    @api.model
    def _dunning_fact_mark_communication(self, comm_id, flag):
        """Set ``flag`` on every row of one communication."""
        self.env.cr.execute(SQL(
            "UPDATE dunning_fact SET %(col)s = 1 WHERE communication_id = %(comm)s "
            "AND COALESCE(%(col)s, 0) = 0", col=SQL.identifier(flag), comm=comm_id))
        self.invalidate_model([flag])


class DunningInstalmentPlan(models.Model):
    _inherit = "dunning.instalment.plan"

    def _dunning_request(self, partner, invoices, count, first_date, note=""):
        """A customer's plan request counts for the step its invoices are at (for the message
        whose link was used, when one was)."""
        plan = super()._dunning_request(partner, invoices, count, first_date, note=note)
        self.env["dunning.fact"].sudo()._dunning_fact_mark(
            invoices.ids, "plan_requested",
            communication_id=batch_store(self.env.cr).get(LINK_KEY))
        return plan


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    engagement_ids = fields.One2many("dunning.engagement", "communication_id",
                                     string="Customer Page Events", readonly=True,
                                     groups=DUNNING_USER)
    engagement_first_visit = fields.Datetime(
        string="First Visit", compute="_compute_engagement", groups=DUNNING_USER,
        help="When the customer first opened the page from this message's link.")
    engagement_visits = fields.Integer(
        string="Visits", compute="_compute_engagement", groups=DUNNING_USER,
        help="Visits of the page from this message's link, once per browser session.")
    engagement_pay_clicks = fields.Integer(string="Pay Clicked", compute="_compute_engagement",
                                           groups=DUNNING_USER)
    engagement_payments_started = fields.Integer(string="Payments Started",
                                                 compute="_compute_engagement",
                                                 groups=DUNNING_USER)
    engagement_payments_done = fields.Integer(string="Payments Completed",
                                              compute="_compute_engagement",
                                              groups=DUNNING_USER)
    engagement_answers = fields.Integer(
        string="Disputes, Promises, Plans", compute="_compute_engagement", groups=DUNNING_USER,
        help="Disputes, promises to pay and payment plan requests made from the page.")

    def _compute_engagement(self):
        groups = self.env["dunning.engagement"].sudo()._read_group(
            [("communication_id", "in", self.ids), ("kind", "in", COUNTED)],
            ["communication_id", "kind"], ["__count", "at:min", "transaction_id:count_distinct"])
        figures = {}
        for comm, kind, count, first, transactions in groups:
            figures.setdefault(comm.id, {})[kind] = (count, first, transactions)
        for comm in self:
            mine = figures.get(comm.id, {})
            comm.engagement_visits = mine.get("visit", (0,))[0]
            comm.engagement_first_visit = mine.get("visit", (0, False))[1]
            comm.engagement_pay_clicks = mine.get("pay_click", (0,))[0]
            comm.engagement_payments_started = mine.get("payment_started", (0, 0, 0))[2]
            comm.engagement_payments_done = mine.get("payment_done", (0, 0, 0))[2]
            comm.engagement_answers = sum(mine.get(kind, (0,))[0]
                                          for kind in ("dispute", "promise", "plan_request"))


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    dunning_communication_id = fields.Many2one(
        "dunning.communication", string="From Dunning Message", readonly=True, index="btree_not_null",
        ondelete="set null",
        help="The message whose link the customer paid from.")

    @api.model_create_multi
    def create(self, vals_list):
        """A payment started from a message's link (the page's transaction routes) names the
        message."""
        comm_id = batch_store(self.env.cr).get(LINK_KEY)
        if comm_id:
            for vals in vals_list:
                if vals.get("invoice_ids"):
                    vals.setdefault("dunning_communication_id", comm_id)
        txs = super().create(vals_list)
        for tx in txs.filtered("dunning_communication_id"):
            self.env["dunning.engagement"]._dunning_log(
                tx.dunning_communication_id, "payment_started", transaction=tx)
        return txs

    def _set_done(self, *, state_message=None, extra_allowed_states=()):
        txs = super()._set_done(state_message=state_message,
                                extra_allowed_states=extra_allowed_states)
        txs._dunning_log_outcome("payment_done")
        return txs

    def _set_error(self, state_message, extra_allowed_states=()):
        txs = super()._set_error(state_message, extra_allowed_states=extra_allowed_states)
        txs._dunning_log_outcome("payment_failed")
        return txs

    def _set_canceled(self, state_message=None, extra_allowed_states=()):
        txs = super()._set_canceled(state_message=state_message,
                                    extra_allowed_states=extra_allowed_states)
        txs._dunning_log_outcome("payment_failed")
        return txs

    def _dunning_log_outcome(self, kind):
        for tx in self.sudo().filtered("dunning_communication_id"):
            self.env["dunning.engagement"]._dunning_log(tx.dunning_communication_id, kind,
                                                        transaction=tx)
