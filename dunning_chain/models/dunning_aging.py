from odoo import fields, models, tools
from odoo.tools import SQL

from .dunning_payer_rating import RATING_SELECTION


class DunningAging(models.Model):
    """Overdue by customer: what each customer owes, by age of the due date (a database view
    over the open receivable lines of posted customer invoices, instalment by instalment)."""

    _name = "dunning.aging"
    _description = "Overdue by Customer"
    _auto = False
    _order = "amount_over_90 desc, amount_total desc"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    invoice_count = fields.Integer(string="Invoices", readonly=True, aggregator="sum")
    oldest_due_date = fields.Date(readonly=True, aggregator="min")
    amount_not_due = fields.Monetary(string="Not Due", readonly=True)
    amount_1_30 = fields.Monetary(string="1-30", readonly=True)
    amount_31_60 = fields.Monetary(string="31-60", readonly=True)
    amount_61_90 = fields.Monetary(string="61-90", readonly=True)
    amount_over_90 = fields.Monetary(string="Over 90", readonly=True)
    amount_overdue = fields.Monetary(string="Overdue", readonly=True)
    amount_total = fields.Monetary(string="Total Due", readonly=True)
    rating = fields.Selection(
        [(value, value) for value, _label in RATING_SELECTION], string="Rating", readonly=True,
        help="How the customer pays in this company (last 12 months): A on time, B after a "
             "reminder, C needs calls or later steps, D disputes often or was handed off. "
             "Empty: not rated.")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        days = SQL("(CURRENT_DATE - l.date_maturity)")
        self.env.cr.execute(SQL("""
            CREATE VIEW %(table)s AS (
                SELECT MIN(l.id) AS id,
                       m.commercial_partner_id AS partner_id,
                       m.company_id,
                       l.company_currency_id AS currency_id,
                       p.user_id,
                       COUNT(DISTINCT m.id) AS invoice_count,
                       MIN(l.date_maturity) FILTER (WHERE %(days)s > 0) AS oldest_due_date,
                       SUM(l.amount_residual) FILTER (WHERE %(days)s <= 0) AS amount_not_due,
                       SUM(l.amount_residual) FILTER (WHERE %(days)s BETWEEN 1 AND 30) AS amount_1_30,
                       SUM(l.amount_residual) FILTER (WHERE %(days)s BETWEEN 31 AND 60) AS amount_31_60,
                       SUM(l.amount_residual) FILTER (WHERE %(days)s BETWEEN 61 AND 90) AS amount_61_90,
                       SUM(l.amount_residual) FILTER (WHERE %(days)s > 90) AS amount_over_90,
                       SUM(l.amount_residual) FILTER (WHERE %(days)s > 0) AS amount_overdue,
                       SUM(l.amount_residual) AS amount_total,
                       r.rating
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN res_partner p ON p.id = m.commercial_partner_id
                  LEFT JOIN dunning_payer_rating r
                    ON r.partner_id = m.commercial_partner_id AND r.company_id = m.company_id
                 WHERE l.display_type = 'payment_term' AND NOT l.reconciled
                   AND l.amount_residual > 0
                   AND m.state = 'posted' AND m.move_type = 'out_invoice'
                   AND m.payment_state IN ('not_paid', 'partial')
                 GROUP BY m.commercial_partner_id, m.company_id, l.company_currency_id, p.user_id,
                          r.rating
            )""", table=SQL.identifier(self._table), days=days))

    def action_open_partner_dunning(self):
        self.ensure_one()
        return self.partner_id.action_dunning_communications()
