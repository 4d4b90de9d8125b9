"""Effectiveness facts: after which step, by which channel, on which weekday and hour do
customers pay? One row per sent communication and invoice it asked for, with what was asked
and what came in after it.

Attribution (last touch): a payment of an invoice counts for the invoice's latest step sent on
or before the payment's date, i.e. for every communication of that step (the e-mail and the
letter of one step both count it: compare channels side by side, or filter "Each step once"
to add levels up). A step's window closes when the invoice's next step is sent: paid 2 days
after the +7 e-mail counts for that e-mail within 3 days; paid the day after the +15 call
counts for the call, not for the e-mail before it. "Paid within N days" is the amount of real
payments (payments and bank statement lines, not credit notes or write-off entries) dated
N days or less after the sending day (the customer's day), at most the amount asked.
Disputes, promises (and, with dunning_portal, plan requests) count for the step they followed;
page visits and online payments for the message whose link was used.

The rows are written in SQL (``dunning_fact_refresh.py``): inserted when a communication is
sent, refreshed for the invoices concerned when a payment is reconciled or unreconciled,
marked when a dispute or a promise arrives; never by a scan of the table.

Measures in pivot and graph: sums of amounts; the recovery rates are ratios of sums
(Σ paid within N days / Σ asked), not averages of ratios; "Days to Pay" is the median; the
share of customers who paid counts distinct customers (``_read_group_select``).
"""
from odoo import api, fields, models
from odoo.tools import SQL

from .dunning_payer_rating import RATING_SELECTION

WEEKDAYS = [("0", "Monday"), ("1", "Tuesday"), ("2", "Wednesday"), ("3", "Thursday"),
            ("4", "Friday"), ("5", "Saturday"), ("6", "Sunday")]
HOURS = [(f"{hour:02d}", f"{hour:02d}:00") for hour in range(24)]
WINDOWS = (3, 7, 14, 30)
# measure -> (numerator column, denominator column): a ratio of sums in every group
RATIOS = {f"recovery_{days}": (f"paid_{days}", "amount_asked") for days in WINDOWS}


class DunningFact(models.Model):
    _name = "dunning.fact"
    _description = "Dunning Effectiveness (communication and invoice)"
    _order = "sent_at desc, id desc"
    # written in bulk by SQL only: no per-row bookkeeping columns (refreshed_at says when)
    _log_access = False
    _rec_name = "communication_id"

    communication_id = fields.Many2one("dunning.communication", required=True, readonly=True,
                                       index=True, ondelete="cascade")
    line_id = fields.Many2one("dunning.communication.line", readonly=True, ondelete="cascade")
    move_id = fields.Many2one("account.move", string="Invoice", required=True, readonly=True,
                              index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    policy_id = fields.Many2one("dunning.policy", readonly=True)
    level_id = fields.Many2one("dunning.level", string="Step", readonly=True)
    channel = fields.Selection(selection="_dunning_channel_selection", readonly=True)
    payer_rating = fields.Selection(
        RATING_SELECTION, string="Customer Rating When Sent", readonly=True,
        help="The customer's payer rating in the company when the message left (empty: not "
             "rated): compare what works for each kind of payer.")
    segment_id = fields.Many2one(
        "dunning.segment", string="Customer Segment When Sent", readonly=True,
        ondelete="set null",
        help="The first of the customer's segments (in their order) when the message left "
             "(empty: in none): compare what works for each segment.")
    sent_at = fields.Datetime(readonly=True)
    sent_date = fields.Date(string="Sent On", readonly=True,
                            help="The day it was sent, in the customer's time.")
    sent_weekday = fields.Selection(WEEKDAYS, string="Weekday Sent", readonly=True,
                                    help="In the customer's time.")
    sent_hour = fields.Selection(HOURS, string="Hour Sent", readonly=True,
                                 help="In the customer's time.")
    currency_id = fields.Many2one("res.currency", string="Company Currency", readonly=True)
    amount_asked = fields.Monetary(
        string="Asked", readonly=True,
        help="What the message asked for this invoice when it was sent (company currency).")
    paid_3 = fields.Monetary(string="Paid in 3 Days", readonly=True,
                             help="Paid 3 days or less after the sending day, before the next step.")
    paid_7 = fields.Monetary(string="Paid in 7 Days", readonly=True)
    paid_14 = fields.Monetary(string="Paid in 14 Days", readonly=True)
    paid_30 = fields.Monetary(string="Paid in 30 Days", readonly=True)
    paid_after = fields.Monetary(string="Paid after It", readonly=True,
                                 help="Paid after this step, before the next one (any delay).")
    recovery_3 = fields.Float(string="Recovered in 3 Days (%)", readonly=True, aggregator="avg",
                              digits=(16, 1), help="Paid in 3 days / asked, in every group.")
    recovery_7 = fields.Float(string="Recovered in 7 Days (%)", readonly=True, aggregator="avg",
                              digits=(16, 1))
    recovery_14 = fields.Float(string="Recovered in 14 Days (%)", readonly=True,
                               aggregator="avg", digits=(16, 1))
    recovery_30 = fields.Float(string="Recovered in 30 Days (%)", readonly=True,
                               aggregator="avg", digits=(16, 1))
    customers_paid = fields.Float(
        string="Customers Who Paid (%)", readonly=True, aggregator="avg", digits=(16, 1),
        help="Share of the customers of the group who paid something within 30 days of the "
             "step (distinct customers).")
    next_step_date = fields.Date(string="Next Step On", readonly=True,
                                 help="When the invoice's next step was sent: this one's "
                                      "window closes then.")
    paid_on = fields.Date(string="Fully Paid On", readonly=True,
                          help="Date of the payment that settled the invoice.")
    days_to_pay = fields.Integer(
        string="Days to Pay (median)", readonly=True, aggregator="avg",
        help="Days from this step to the full payment of the invoice (paid invoices only); "
             "groups show the median.")
    disputed = fields.Integer(string="Disputed after It", readonly=True,
                              help="1 when the invoice was disputed after this step, before "
                                   "the next (summed: how many).")
    promised = fields.Integer(string="Promised after It", readonly=True,
                              help="1 when a payment date was promised after this step, before "
                                   "the next (summed: how many).")
    step_first = fields.Boolean(
        string="First Row of Its Step", readonly=True,
        help="One row per invoice and step: filter on it to add steps up without counting an "
             "invoice once per channel of the step.")
    refreshed_at = fields.Datetime(readonly=True)

    _line_uniq = models.Constraint("UNIQUE(line_id)",
                                   "An invoice of a communication has one row of facts.")
    _company_sent_idx = models.Index("(company_id, sent_date)")

    @api.model
    def _dunning_channel_selection(self):
        return self.env["dunning.communication"]._dunning_channel_selection()

    @api.depends("communication_id", "move_id")
    def _compute_display_name(self):
        for fact in self:
            fact.display_name = f"{fact.communication_id.name} / {fact.move_id.name}"

    # ------------------------------------------------------------------ measures
    def _read_group_select(self, aggregate_spec, query):
        """Group measures that an average of rows would get wrong: recovery rates are ratios
        of sums, days to pay a median, the share of customers who paid a count of distinct
        customers."""
        fname, _sep, func = aggregate_spec.partition(":")
        if func != "avg" or fname not in (*RATIOS, "days_to_pay", "customers_paid"):
            return super()._read_group_select(aggregate_spec, query)
        # the fields' access is checked as for any aggregate
        super()._read_group_select(aggregate_spec, query)

        def col(name):
            return self._field_to_sql(self._table, name, query)

        if fname in RATIOS:
            paid, asked = RATIOS[fname]
            return SQL("ROUND(COALESCE(100.0 * SUM(%s) / NULLIF(SUM(%s), 0), 0), 1)",
                       col(paid), col(asked))
        if fname == "days_to_pay":
            return SQL("PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY %s)", col("days_to_pay"))
        return SQL("ROUND(COALESCE(100.0 * COUNT(DISTINCT %(partner)s) FILTER (WHERE %(paid)s > 0)"
                   " / NULLIF(COUNT(DISTINCT %(partner)s), 0), 0), 1)",
                   partner=col("partner_id"), paid=col("paid_30"))
