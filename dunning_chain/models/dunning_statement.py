"""The statement of account: everything a customer owes one company, as plain data.

Every debt summary (e-mail, letter, SMS short form, customer page) and the statement PDF read
it from here, so they all say the same: each open invoice (and open credit note) with its due
date, days late, amount, the charges applied so far, the payments received since a date, totals
and aging buckets per currency.
"""
from datetime import timedelta

from odoo import api, fields, models

AGING_BUCKETS = ("not_due", "1_30", "31_60", "61_90", "over_90")

#: charges the customer owes (announced-only and waived ones are not owed)
OWED_CHARGE_STATES = ("to_book", "booked")


def aging_bucket(days_late):
    if days_late <= 0:
        return "not_due"
    if days_late <= 30:
        return "1_30"
    if days_late <= 60:
        return "31_60"
    if days_late <= 90:
        return "61_90"
    return "over_90"


class DunningStatement(models.AbstractModel):
    _name = "dunning.statement"
    _description = "Dunning Statement of Account"

    @api.model
    def _dunning_open_items(self, partner, company):
        """Open posted invoices and credit notes of the customer with the company."""
        return self.env["account.move"].sudo().search([
            ("commercial_partner_id", "=", partner.commercial_partner_id.id),
            ("company_id", "=", company.id),
            ("state", "=", "posted"),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("payment_state", "in", ("not_paid", "partial")),
        ])

    @api.model
    def _dunning_statement(self, partner, company, highlight=None, since=None, today=None):
        """The customer's statement with the company.

        ``highlight``: invoices this message is about (flagged ``highlight``); ``since``: the
        date from which payments are listed (default: the last message sent to the customer
        by the company, else 90 days ago); ``today``: the reference day for days late.

        Returns a dict: ``rows`` (one per open item, oldest due first: ``move``, ``name``,
        ``invoice_date``, ``due_date``, ``days_late``, ``currency``, ``amount_total``,
        ``residual`` (negative for a credit note), ``overdue``, ``charges`` (owed, in the
        item's currency), ``charge_records``, ``highlight``, ``is_fee_invoice``, ``bucket``),
        ``totals`` (one per currency: ``currency``, ``residual``, ``overdue``, ``charges``,
        ``count``, ``aging`` {bucket: amount}), ``payments`` (``date``, ``amount``,
        ``currency``, ``invoice``) since ``since``, ``since``, ``today``.
        """
        partner = partner.commercial_partner_id
        today = today or fields.Date.context_today(self)
        highlight = highlight or self.env["account.move"]
        if since is None:
            last = self.env["dunning.communication"].sudo().search([
                ("partner_id", "=", partner.id), ("company_id", "=", company.id),
                ("state", "=", "sent"), ("sent_at", "!=", False)],
                order="sent_at desc", limit=1)
            since = last.sent_at.date() if last else today - timedelta(days=90)
        moves = self._dunning_open_items(partner, company)
        charges = self.env["dunning.charge"].sudo().search([
            ("move_id", "in", moves.ids), ("state", "in", OWED_CHARGE_STATES)])
        rows = []
        for move in moves:
            sign = -1 if move.move_type == "out_refund" else 1
            terms = move.line_ids.filtered(
                lambda line: line.display_type == "payment_term" and not line.reconciled)
            due_date = min(terms.mapped("date_maturity") or [move.invoice_date_due or today])
            overdue = sum(line.amount_residual_currency for line in terms
                          if line.date_maturity and line.date_maturity < today)
            days_late = (today - due_date).days if sign > 0 else 0
            own = charges.filtered(lambda c, m=move: c.move_id == m)
            rows.append({
                "move": move, "name": move.name, "invoice_date": move.invoice_date,
                "due_date": due_date, "days_late": max(days_late, 0),
                "currency": move.currency_id, "amount_total": sign * move.amount_total,
                "residual": sign * move.amount_residual,
                "overdue": overdue if sign > 0 else 0.0,
                "charges": sum(own.mapped("amount")), "charge_records": own,
                "highlight": move in highlight,
                "is_fee_invoice": move.dunning_is_fee_invoice,
                "bucket": aging_bucket(days_late) if sign > 0 else "not_due",
            })
        rows.sort(key=lambda r: (r["due_date"], r["name"] or ""))
        totals = {}
        for row in rows:
            total = totals.setdefault(row["currency"], {
                "currency": row["currency"], "residual": 0.0, "overdue": 0.0, "charges": 0.0,
                "count": 0, "aging": dict.fromkeys(AGING_BUCKETS, 0.0)})
            total["residual"] += row["residual"]
            total["overdue"] += row["overdue"]
            total["charges"] += row["charges"]
            total["count"] += 1
            total["aging"][row["bucket"]] += row["residual"]
        return {
            "partner": partner, "company": company, "today": today, "since": since,
            "rows": rows,
            "totals": sorted(totals.values(), key=lambda t: t["currency"].name),
            "payments": self._dunning_payments_since(partner, company, since),
        }

    @api.model
    def _dunning_payments_since(self, partner, company, since):
        """Payments (and credit notes) reconciled with the customer's invoices from ``since``."""
        partials = self.env["account.partial.reconcile"].sudo().search([
            ("debit_move_id.move_id.commercial_partner_id", "=", partner.id),
            ("debit_move_id.move_id.move_type", "=", "out_invoice"),
            ("debit_move_id.move_id.company_id", "=", company.id),
            ("max_date", ">=", since),
        ], order="max_date, id")
        return [{
            "date": partial.max_date,
            "amount": partial.debit_amount_currency,
            "currency": partial.debit_currency_id,
            "invoice": partial.debit_move_id.move_id,
        } for partial in partials]
