"""The payer rating of each customer in each company, with the figures behind it.

The rules are plain Python (``tools/rating.py``, where they are written out); this model
gathers the figures of the history in SQL (three grouped queries, whatever the number of
customers) and stores the decision, one row per customer and company, written in one
statement. Recomputed every night for every customer (``_cron_dunning_compute_ratings``) and
at once for the customer of an invoice that gets paid, disputed or whose payment comes back.
"""
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import rating as rating_rules

RATING_SELECTION = [
    ("A", "A: pays on time"),
    ("B", "B: pays after a reminder"),
    ("C", "C: needs calls or later steps"),
    ("D", "D: disputes often or handed off"),
]
RULES = [
    ("handoff", "Handed off"), ("disputes", "Disputes often"), ("no_history", "No history"),
    ("after_later", "Needs calls or later steps"), ("very_late", "Pays very late"),
    ("on_time", "Pays on time"), ("reminded", "Pays after a reminder"),
]
#: the stored figures, in the order of the columns written by _dunning_compute
FIGURE_COLUMNS = ("invoices_paid", "on_time_share", "avg_days_late", "after_first_share",
                  "after_later_share", "invoice_count", "disputes", "handoffs")


class DunningPayerRating(models.Model):
    _name = "dunning.payer.rating"
    _description = "Payer Rating"
    _order = "company_id, partner_id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True,
                                 index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True,
                                 ondelete="cascade")
    rating = fields.Selection(
        RATING_SELECTION, readonly=True, index=True,
        help="A: pays on time. B: pays, usually after the first reminder. C: needs calls, "
             "certified letters or several reminders, or pays a month late. D: handed off to "
             "a collection agency or lawyer, or disputes often. Empty: not rated (no invoice "
             "paid in the last 12 months). From the last 12 months of history, every night and "
             "when one of the customer's invoices is paid.")
    rule = fields.Selection(RULES, readonly=True, help="The rule that gave the rating.")
    reason = fields.Char(compute="_compute_reason", string="Why")
    invoices_paid = fields.Integer(string="Invoices Paid", readonly=True,
                                   help="Customer invoices paid in the last 12 months.")
    on_time_share = fields.Float(
        string="Paid on Time", readonly=True, digits=(5, 4), aggregator="avg",
        help="Share of the invoices paid at most 3 days after their due date.")
    avg_days_late = fields.Float(string="Average Days Late", readonly=True, digits=(16, 1),
                                 aggregator="avg",
                                 help="Days between due date and payment (0 when paid before).")
    after_first_share = fields.Float(
        string="Paid After the First Reminder", readonly=True, digits=(5, 4), aggregator="avg",
        help="Share of the invoices paid late after one reminder (e-mail, SMS or letter).")
    after_later_share = fields.Float(
        string="Paid After a Call or Later Steps", readonly=True, digits=(5, 4),
        aggregator="avg",
        help="Share of the invoices paid only after a call, a certified letter, a hand-off or "
             "a second (or later) reminder.")
    invoice_count = fields.Integer(string="Invoices Issued", readonly=True,
                                   help="Customer invoices dated in the last 12 months.")
    disputes = fields.Integer(readonly=True,
                              help="Invoices of the last 12 months the customer disputed "
                                   "(whether the dispute was accepted or not).")
    handoffs = fields.Integer(string="Hand-offs", readonly=True,
                              help="Cases handed to a collection agency or lawyer in the last "
                                   "12 months.")
    computed_at = fields.Datetime(string="Computed On", readonly=True)

    _partner_company_uniq = models.Constraint(
        "UNIQUE(partner_id, company_id)", "A customer has one payer rating per company.")

    @api.depends("rule", *FIGURE_COLUMNS)
    def _compute_reason(self):
        for row in self:
            row.reason = row._dunning_reason_words()

    def _dunning_reason_words(self):
        """Why the rating, in the environment's language ("2 of 3 invoices disputed...")."""
        _ = self.env._
        pct = lambda value: f"{round(value * 100)} %"  # noqa: E731
        words = {
            "handoff": lambda: _("handed off to a collection agency or lawyer %s time(s) in "
                                 "the last 12 months", self.handoffs),
            "disputes": lambda: _("disputed %(disputes)s of %(invoices)s invoices in the last "
                                  "12 months", disputes=self.disputes,
                                  invoices=self.invoice_count),
            "after_later": lambda: _("%s of the paid invoices needed a call or later steps",
                                     pct(self.after_later_share)),
            "very_late": lambda: _("paid on average %s days late", round(self.avg_days_late)),
            "on_time": lambda: _("%s of the paid invoices paid on time",
                                 pct(self.on_time_share)),
            "reminded": lambda: _("%(first)s paid after the first reminder, on average "
                                  "%(days)s days late", first=pct(self.after_first_share),
                                  days=round(self.avg_days_late)),
        }
        if self.rule in words:
            return words[self.rule]()
        return _("not rated: no invoice paid in the last 12 months")

    # ---------------------------------------------------------------- computation
    @api.model
    def _cron_dunning_compute_ratings(self):
        """Every night: every customer of every company."""
        return self.sudo()._dunning_compute(companies=self.env["res.company"].sudo().search([]))

    @api.model
    def _dunning_compute(self, partners=None, companies=None, today=None):
        """Compute and store the ratings of ``partners`` (commercial partners; every customer
        when None) in ``companies`` (default: the environment's). Customers whose history no
        longer holds anything go back to not rated. Returns the number of rows written."""
        companies = companies or self.env.companies
        today = today or fields.Date.context_today(self)
        since = today - timedelta(days=rating_rules.PERIOD_DAYS)
        partner_ids = partners.commercial_partner_id.ids if partners is not None else None
        if partner_ids == []:
            return 0
        figures = self._dunning_figures(companies.ids, partner_ids, since)
        now = fields.Datetime.now()
        columns = {key: [] for key in ("partner_id", "company_id", "rating", "rule",
                                       *FIGURE_COLUMNS)}
        for (partner_id, company_id), fig in figures.items():
            decided = rating_rules.payer_rating(fig)
            values = (partner_id, company_id, decided.rating or None, decided.rule,
                      fig.paid, rating_rules.share(fig.on_time, fig.paid),
                      rating_rules.average_days_late(fig),
                      rating_rules.share(fig.after_first, fig.paid),
                      rating_rules.share(fig.after_later, fig.paid),
                      fig.invoices, fig.disputes, fig.handoffs)
            for column, value in zip(columns.values(), values):
                column.append(value)
        self.flush_model()
        types = ("int4", "int4", "varchar", "varchar", "int4", "float8", "float8", "float8",
                 "float8", "int4", "int4", "int4")
        names = SQL(", ").join(SQL.identifier(name) for name in columns)
        self.env.cr.execute(SQL("""
            INSERT INTO dunning_payer_rating (%(names)s, computed_at, create_uid, create_date,
                                              write_uid, write_date)
            SELECT *, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s FROM unnest(%(arrays)s)
            ON CONFLICT (partner_id, company_id) DO UPDATE SET %(updates)s,
                computed_at = EXCLUDED.computed_at, write_uid = EXCLUDED.write_uid,
                write_date = EXCLUDED.write_date
        """, names=names, now=now, uid=self.env.uid,
            arrays=SQL(", ").join(SQL("%s::" + kind + "[]", values)
                                  for kind, values in zip(types, columns.values())),
            updates=SQL(", ").join(SQL("%s = EXCLUDED.%s", SQL.identifier(name),
                                       SQL.identifier(name)) for name in list(columns)[2:])))
        written = self.env.cr.rowcount
        # rated before, nothing in the period now: not rated
        self.env.cr.execute(SQL("""
            UPDATE dunning_payer_rating r
               SET rating = NULL, rule = 'no_history', invoices_paid = 0, on_time_share = 0,
                   avg_days_late = 0, after_first_share = 0, after_later_share = 0,
                   invoice_count = 0, disputes = 0, handoffs = 0, computed_at = %(now)s,
                   write_uid = %(uid)s, write_date = %(now)s
             WHERE r.company_id = ANY(%(companies)s) %(scope)s
               AND NOT EXISTS (SELECT 1 FROM unnest(%(partners)s::int4[], %(comps)s::int4[])
                                          AS done(partner_id, company_id)
                                WHERE done.partner_id = r.partner_id
                                  AND done.company_id = r.company_id)
        """, now=now, uid=self.env.uid, companies=companies.ids,
            scope=SQL("AND r.partner_id = ANY(%s)", partner_ids) if partner_ids else SQL(),
            partners=columns["partner_id"], comps=columns["company_id"]))
        written += self.env.cr.rowcount
        self.invalidate_model()
        self.env["res.partner"].invalidate_model()  # its rating fields (computed, not stored)
        return written

    @api.model
    def _dunning_figures(self, company_ids, partner_ids, since):
        """{(commercial partner id, company id): Figures} over the period from ``since``."""
        self.env["account.move"].flush_model([
            "move_type", "state", "payment_state", "commercial_partner_id", "company_id",
            "invoice_date", "invoice_date_due", "dunning_dispute_state"])
        self.env["account.move.line"].flush_model(["move_id", "display_type"])
        self.env["account.partial.reconcile"].flush_model(["debit_move_id", "max_date"])
        self.env["dunning.communication"].flush_model(
            ["state", "kind", "sent_at", "channel", "level_id"])
        self.env["dunning.communication.line"].flush_model(["move_id", "communication_id"])
        self.env["dunning.agency.case"].flush_model(["partner_id", "company_id",
                                                     "handed_off_at"])
        traits = self.env["dunning.level.channel"]._dunning_channel_traits()
        staff_steps = [channel for channel, trait in traits.items() if trait.task]
        only = SQL("AND m.commercial_partner_id = ANY(%s)", partner_ids) if partner_ids else SQL()
        figures = {}
        # paid invoices: when (the last payment's day), and the reminder steps sent before it
        self.env.cr.execute(SQL("""
            WITH paid AS (
                SELECT m.id, m.commercial_partner_id AS partner_id, m.company_id,
                       m.invoice_date_due AS due, MAX(p.max_date) AS paid_on
                  FROM account_move m
                  JOIN account_move_line l
                    ON l.move_id = m.id AND l.display_type = 'payment_term'
                  JOIN account_partial_reconcile p ON p.debit_move_id = l.id
                 WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
                   AND m.payment_state IN ('paid', 'in_payment')
                   AND m.company_id = ANY(%(companies)s) %(only)s
                 GROUP BY m.id
                HAVING MAX(p.max_date) >= %(since)s
            ), steps AS (
                SELECT paid.id, COUNT(DISTINCT c.level_id) AS steps,
                       BOOL_OR(c.channel = ANY(%(staff)s)) AS by_staff
                  FROM paid
                  JOIN dunning_communication_line cl ON cl.move_id = paid.id
                  JOIN dunning_communication c ON c.id = cl.communication_id
                  JOIN dunning_level lv ON lv.id = c.level_id
                  JOIN dunning_policy po ON po.id = lv.policy_id
                 WHERE c.state = 'sent' AND c.kind = 'reminder'
                   AND c.sent_at < paid.paid_on + 1
                   AND lv.count_from = 'due' AND lv.offset_days > 0 AND po.kind = 'overdue'
                 GROUP BY paid.id
            )
            SELECT paid.partner_id, paid.company_id, COUNT(*),
                   COUNT(*) FILTER (WHERE paid.paid_on - paid.due <= %(grace)s),
                   COUNT(*) FILTER (WHERE paid.paid_on - paid.due > %(grace)s
                                      AND s.steps = 1 AND NOT s.by_staff),
                   COUNT(*) FILTER (WHERE paid.paid_on - paid.due > %(grace)s
                                      AND (s.steps > 1 OR s.by_staff)),
                   SUM(GREATEST(0, paid.paid_on - paid.due))
              FROM paid LEFT JOIN steps s ON s.id = paid.id
             GROUP BY paid.partner_id, paid.company_id
        """, companies=company_ids, only=only, since=since, staff=staff_steps,
            grace=rating_rules.ON_TIME_GRACE_DAYS))
        for partner_id, company_id, paid, on_time, first, later, days in self.env.cr.fetchall():
            figures[partner_id, company_id] = rating_rules.Figures(
                paid=paid, on_time=on_time, after_first=first, after_later=later,
                days_late=int(days or 0))
        # invoices issued and disputed in the period
        self.env.cr.execute(SQL("""
            SELECT m.commercial_partner_id, m.company_id, COUNT(*),
                   COUNT(*) FILTER (WHERE COALESCE(m.dunning_dispute_state, 'none') != 'none')
              FROM account_move m
             WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
               AND m.invoice_date >= %(since)s AND m.company_id = ANY(%(companies)s) %(only)s
             GROUP BY m.commercial_partner_id, m.company_id
        """, companies=company_ids, only=only, since=since))
        for partner_id, company_id, invoices, disputes in self.env.cr.fetchall():
            key = (partner_id, company_id)
            figures[key] = figures.get(key, rating_rules.Figures())._replace(
                invoices=invoices, disputes=disputes)
        # hand-offs to an agency or lawyer
        self.env.cr.execute(SQL("""
            SELECT a.partner_id, a.company_id, COUNT(*) FROM dunning_agency_case a
             WHERE a.handed_off_at >= %(since)s AND a.company_id = ANY(%(companies)s) %(only)s
             GROUP BY a.partner_id, a.company_id
        """, companies=company_ids, since=since,
            only=SQL("AND a.partner_id = ANY(%s)", partner_ids) if partner_ids else SQL()))
        for partner_id, company_id, handoffs in self.env.cr.fetchall():
            key = (partner_id, company_id)
            figures[key] = figures.get(key, rating_rules.Figures())._replace(handoffs=handoffs)
        return figures


class AccountMove(models.Model):
    _inherit = "account.move"

    # one customer's invoices (its rating on payment, its average days late): found without a
    # scan of every invoice
    _dunning_customer_idx = models.Index(
        "(commercial_partner_id, company_id) WHERE move_type = 'out_invoice' AND state = 'posted'")

    def _dunning_rate_customers(self):
        """Recompute the payer rating of these invoices' customers (them only), in the
        invoices' companies."""
        invoices = self.filtered(lambda m: m.move_type == "out_invoice")
        if invoices:
            self.env["dunning.payer.rating"].sudo()._dunning_compute(
                invoices.commercial_partner_id, invoices.company_id)

    def _invoice_paid_hook(self):
        """An invoice got paid: its customer's rating follows at once."""
        result = super()._invoice_paid_hook()
        self._dunning_rate_customers()
        return result

    def _dunning_dispute(self, reason):
        result = super()._dunning_dispute(reason)
        self._dunning_rate_customers()
        return result

    def _dunning_on_payment_returned(self):
        """A payment came back: the invoice is no longer paid, its customer's rating follows."""
        result = super()._dunning_on_payment_returned()
        self._dunning_rate_customers()
        return result
