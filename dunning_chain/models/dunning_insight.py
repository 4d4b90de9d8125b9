"""The Insight dashboard's figures, for the current company, in its currency.

Receivables are the company's posted journal items on receivable accounts. For a month M whose
last day is E (today for the running month) and first day F, with D its number of days (days so
far for the running month):

* total receivables ``AR(E)``: the balance of those items dated E or earlier (open invoices
  less payments and credit notes not yet matched);
* credit sales ``S(M)``: the receivable side of the customer invoices less credit notes dated
  in M;
* current receivables ``C(E)``: what customer invoices not yet due on E still owed on E (their
  amount less what was matched to them by E); overdue receivables ``O(E)``: what invoices due
  before E still owed on E;
* DSO (days sales outstanding) = AR(E) / S(M) × D (none without sales);
* CEI (collection effectiveness index) = (AR(F-1) + S(M) − AR(E)) / (AR(F-1) + S(M) − C(E))
  × 100: what was collected of what could be collected (100 % = everything due collected).

"Owed on E" is rebuilt from the reconciliations dated E or earlier (a reconciliation's date is
the later of its two items' dates), so a month's figures do not change when later payments
come in.
"""
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, format_amount, format_date

DUNNING_USER = "dunning_chain.group_dunning_user"


class DunningInsight(models.AbstractModel):
    _name = "dunning.insight"
    _description = "Dunning Insight (dashboard figures)"

    @api.model
    def dunning_dashboard_data(self, months=12):
        """Everything the Insight dashboard shows, for the current company (dunning users)."""
        if not self.env.user.has_group(DUNNING_USER):
            raise AccessError(self.env._("Only dunning users see the dunning insight."))
        months = max(1, min(int(months), 36))
        company = self.env.company
        today = fields.Date.context_today(self)
        currency = company.currency_id

        def money(amount):
            return format_amount(self.env, amount or 0.0, currency)

        series = self._dunning_months(company, today, months)
        closed = series[-2] if len(series) > 1 else series[-1]
        overdue = self._dunning_top_overdue(company, money)
        levels = self._dunning_by_level(company, today - relativedelta(months=months), money)
        recovery = self._dunning_recovery(company, today)
        return {
            "company": company.name,
            "currency_symbol": currency.symbol,
            "kpi": {
                "overdue": money(series[-1]["overdue"]),
                "overdue_customers": overdue["count"],
                "dso": closed["dso"], "cei": closed["cei"],
                "closed_month": format_date(self.env, closed["month"], date_format="MMMM y"),
                "recovered": money(recovery["paid"]), "recovered_rate": recovery["rate"],
                "recovered_from": format_date(self.env, recovery["from"]),
                "recovered_to": format_date(self.env, recovery["to"]),
            },
            "months": [self._dunning_chart_month(row) for row in series],
            "levels": levels,
            "top": overdue["top"],
        }

    # ------------------------------------------------------------------ DSO, CEI, overdue
    def _dunning_chart_month(self, row):
        """A month of the charts. The running month's DSO and CEI are left out: a few days of
        sales make a DSO of hundreds of days that says nothing and flattens the other months
        (its overdue and receivables are balances, true on any day, and stay)."""
        label = format_date(self.env, row["month"], date_format="MMM y")
        partial = row["end"] < row["month"] + relativedelta(months=1, days=-1)
        return {
            "label": self.env._("%(month)s (to date)", month=label) if partial else label,
            "overdue": row["overdue"], "receivables": row["ar_end"], "sales": row["sales"],
            "dso": None if partial else row["dso"], "cei": None if partial else row["cei"],
        }

    @api.model
    def _dunning_months(self, company, last_day, count):
        """Month by month (oldest first, the last one ending on ``last_day``): month (first
        day), end, days, ar_begin, sales, ar_end, current, overdue, dso, cei. See the module
        docstring for the formulas."""
        first = last_day.replace(day=1) - relativedelta(months=count - 1)
        months = [first + relativedelta(months=i) for i in range(count)]
        ends = [min(month + relativedelta(months=1, days=-1), last_day) for month in months]
        self.env["account.move.line"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        cr = self.env.cr
        cr.execute(SQL(
            """SELECT GREATEST(date_trunc('month', l.date)::date, %(before)s),
                      SUM(l.balance),
                      SUM(l.balance) FILTER (WHERE m.move_type IN ('out_invoice', 'out_refund')),
                      SUM(l.balance) FILTER (WHERE l.balance > 0)
                 FROM account_move_line l
                 JOIN account_account a ON a.id = l.account_id
                 JOIN account_move m ON m.id = l.move_id
                WHERE l.company_id = %(company)s AND l.parent_state = 'posted'
                  AND a.account_type = 'asset_receivable' AND l.date <= %(last)s
                GROUP BY 1""", before=first - timedelta(days=1), company=company.id,
            last=last_day))
        moves = {row[0]: row[1:] for row in cr.fetchall()}
        cr.execute(SQL(
            """SELECT GREATEST(date_trunc('month', apr.max_date)::date, %(before)s),
                      SUM(apr.amount)
                 FROM account_partial_reconcile apr
                 JOIN account_move_line l ON l.id = apr.debit_move_id
                 JOIN account_account a ON a.id = l.account_id
                WHERE l.company_id = %(company)s AND l.parent_state = 'posted'
                  AND a.account_type = 'asset_receivable' AND l.balance > 0
                  AND apr.max_date <= %(last)s
                GROUP BY 1""", before=first - timedelta(days=1), company=company.id,
            last=last_day))
        matched = dict(cr.fetchall())
        cr.execute(SQL(
            """SELECT e.day, SUM(l.balance - COALESCE((
                          SELECT SUM(apr.amount) FROM account_partial_reconcile apr
                           WHERE apr.debit_move_id = l.id AND apr.max_date <= e.day), 0))
                 FROM unnest(%(ends)s::date[]) AS e(day)
                 JOIN account_move_line l ON l.date <= e.day AND l.date_maturity >= e.day
                 JOIN account_account a ON a.id = l.account_id
                WHERE l.company_id = %(company)s AND l.parent_state = 'posted'
                  AND a.account_type = 'asset_receivable' AND l.balance > 0
                  AND l.date_maturity >= %(first_end)s AND l.date <= %(last)s
                GROUP BY e.day""", ends=ends, company=company.id, first_end=ends[0],
            last=last_day))
        current = dict(cr.fetchall())
        before = first - timedelta(days=1)
        opening = moves.get(before) or (0, 0, 0)
        ar, debits = float(opening[0] or 0.0), float(opening[2] or 0.0)
        paid = float(matched.get(before) or 0.0)
        rows = []
        for month, end in zip(months, ends):
            ar_move, sales, month_debits = (float(v or 0.0) for v in moves.get(month, (0, 0, 0)))
            ar_begin = ar
            ar += ar_move
            debits += month_debits
            paid += float(matched.get(month) or 0.0)
            cur = float(current.get(end) or 0.0)
            days = (end - month).days + 1
            collectable = ar_begin + sales - cur
            rows.append({
                "month": month, "end": end, "days": days, "ar_begin": ar_begin,
                "sales": sales, "ar_end": ar, "current": cur, "overdue": debits - paid - cur,
                "dso": round(ar / sales * days, 1) if sales > 0 else None,
                "cei": round((ar_begin + sales - ar) / collectable * 100, 1)
                if collectable > 0 else None,
            })
        return rows

    # ------------------------------------------------------------------ effectiveness
    @api.model
    def _dunning_by_level(self, company, since, money):
        """Per step since ``since``: asked, recovered within 30 days, rate, median days to
        pay (each invoice once per step, whatever the number of channels)."""
        groups = self.env["dunning.fact"]._read_group(
            [("company_id", "=", company.id), ("sent_date", ">=", since),
             ("step_first", "=", True)],
            ["level_id"], ["amount_asked:sum", "paid_30:sum", "recovery_30:avg",
                           "days_to_pay:avg", "__count"])
        groups.sort(key=lambda g: (g[0].policy_id.id, g[0].offset_days, g[0].sequence,
                                   g[0].id))
        return [{
            "level": level.display_name if len(set(g[0].policy_id for g in groups)) > 1
            else level.name,
            "asked": asked, "asked_text": money(asked),
            "recovered": paid, "recovered_text": money(paid),
            "rate": rate or 0.0,
            "median_days": round(days, 1) if days is not None and paid else None,
            "count": count,
        } for level, asked, paid, rate, days, count in groups]

    @api.model
    def _dunning_recovery(self, company, today):
        """Recovered within 30 days of the steps sent 120 to 30 days ago (complete windows)."""
        start, end = today - timedelta(days=120), today - timedelta(days=30)
        [(asked, paid, rate)] = self.env["dunning.fact"]._read_group(
            [("company_id", "=", company.id), ("sent_date", ">=", start),
             ("sent_date", "<=", end), ("step_first", "=", True)],
            [], ["amount_asked:sum", "paid_30:sum", "recovery_30:avg"])
        return {"paid": paid or 0.0, "rate": rate or 0.0, "from": start, "to": end}

    @api.model
    def _dunning_top_overdue(self, company, money, limit=10):
        """The customers who owe the most overdue, with their last contact."""
        Aging = self.env["dunning.aging"]
        domain = [("company_id", "=", company.id), ("amount_overdue", ">", 0)]
        # every late customer in one query (their number is shown), the first ones listed
        groups = Aging._read_group(domain, ["partner_id"],
                                   ["amount_overdue:sum", "oldest_due_date:min"],
                                   order="amount_overdue:sum desc")
        count, groups = len(groups), groups[:limit]
        partners = [group[0] for group in groups]
        last = {}
        if partners:
            self.env["dunning.communication"].flush_model()
            self.env.cr.execute(SQL(
                """SELECT DISTINCT ON (partner_id) partner_id, id FROM dunning_communication
                    WHERE partner_id = ANY(%s) AND company_id = %s AND state = 'sent'
                    ORDER BY partner_id, sent_at DESC, id DESC""",
                [p.id for p in partners], company.id))
            last = {pid: self.env["dunning.communication"].browse(cid)
                    for pid, cid in self.env.cr.fetchall()}
        top = []
        for partner, overdue, oldest in groups:
            comm = last.get(partner.id)
            what = comm.level_id.name or "" if comm else ""
            channel = comm._channel_label() or "" if comm else ""
            if channel.lower() not in what.lower():
                what = f"{what}, {channel}" if what else channel
            top.append({
                "partner_id": partner.id, "name": partner.display_name,
                "overdue": overdue, "overdue_text": money(overdue),
                "oldest_due": format_date(self.env, oldest) if oldest else "",
                "days_late": (fields.Date.context_today(self) - oldest).days if oldest else 0,
                "last_contact": format_date(self.env, comm.sent_at) if comm else "",
                "last_what": what, "last_channel": channel,
                "last_id": comm.id if comm else False,
            })
        return {"top": top, "count": count}
