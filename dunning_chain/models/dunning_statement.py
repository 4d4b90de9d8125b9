"""The statement of account: everything a customer owes one company, as plain data.

Every debt summary (e-mail, letter, SMS short form, customer page) and the statement PDF read
it from here, so they all say the same: each open invoice (and open credit note) with its due
date, days late, amount, the charges applied so far, the payments received since a date, totals
and aging buckets per currency.
"""
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from odoo.addons.base.models.ir_actions_report import _wkhtml

from ..tools.qr import qr_data_uri

STATEMENT_REPORT = "dunning_chain.action_report_dunning_statement"
#: the statement PDF lists the payments of this many days
STATEMENT_PAYMENT_DAYS = 90
#: an EPC (SEPA) QR code carries at most 140 characters of free remittance text
EPC_REMITTANCE_MAX = 140

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
    def _dunning_open_items_domain(self, partner, company=None):
        """The domain of the customer's open posted invoices and credit notes with one
        company (an empty company: none), or with every company when ``company`` is None."""
        domain = [
            ("commercial_partner_id", "=", partner.commercial_partner_id.id),
            ("state", "=", "posted"),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("payment_state", "in", ("not_paid", "partial")),
        ]
        if company is not None:
            domain.append(("company_id", "=", company.id))
        return domain

    @api.model
    def _dunning_open_items(self, partner, company):
        """Open posted invoices and credit notes of the customer with the company."""
        return self.env["account.move"].sudo().search(
            self._dunning_open_items_domain(partner, company))

    @api.model
    def _dunning_statement_prefetch(self, comms):
        """Read at once, for the customers of these communications, what their statements
        read customer by customer (open items, their instalments, the charges on them): a
        send batch renders them one after the other. Only fills the cache."""
        if not comms:
            return
        partners = comms.partner_id.commercial_partner_id
        moves = self.env["account.move"].sudo().search([
            ("commercial_partner_id", "in", partners.ids),
            ("company_id", "in", comms.company_id.ids),
            ("state", "=", "posted"),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("payment_state", "in", ("not_paid", "partial")),
        ])
        moves.fetch(["name", "move_type", "invoice_date", "invoice_date_due", "currency_id",
                     "amount_total", "amount_residual", "payment_reference", "line_ids",
                     "dunning_is_fee_invoice", "dunning_dispute_state",
                     "dunning_promise_state", "dunning_promise_date"])
        moves.line_ids.fetch(["display_type", "reconciled", "date_maturity",
                              "amount_residual_currency"])
        self.env["dunning.charge"].sudo().search_fetch(
            [("move_id", "in", moves.ids), ("state", "in", OWED_CHARGE_STATES)],
            ["move_id", "amount"])

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
        """Payments (and credit notes) reconciled with the customer's invoices from ``since``.
        One query on the receivable lines of the customer (they carry the commercial partner,
        indexed), not the ORM's nested subqueries through invoices: every message reads it."""
        self.env["account.partial.reconcile"].flush_model()
        self.env["account.move.line"].flush_model(["partner_id", "company_id", "move_id"])
        self.env.cr.execute(SQL("""
            SELECT p.id
              FROM account_partial_reconcile p
              JOIN account_move_line l ON l.id = p.debit_move_id
              JOIN account_move m ON m.id = l.move_id
             WHERE l.partner_id = %(partner)s AND l.company_id = %(company)s
               AND m.move_type = 'out_invoice' AND p.max_date >= %(since)s
             ORDER BY p.max_date, p.id
        """, partner=partner.id, company=company.id, since=since))
        partials = self.env["account.partial.reconcile"].sudo().browse(
            [row[0] for row in self.env.cr.fetchall()])
        return [{
            "date": partial.max_date,
            "amount": partial.debit_amount_currency,
            "currency": partial.debit_currency_id,
            "invoice": partial.debit_move_id.move_id,
        } for partial in partials]

    @api.model
    def _dunning_qr_image(self, value):
        """A QR code of ``value`` as a PNG data URI at error correction M (what the EPC's QR
        guidelines ask): the ``qrcode`` library's image (an Odoo requirement), drawn by
        tools/qr.py in about 4 ms (the library: 10 to 13; Odoo's barcode route, reportlab,
        about a third of a second), paid twice per letter."""
        return qr_data_uri(value)

    @api.model
    def _dunning_epc_qr(self, bank, amount, reference, currency, partner):
        """The EPC / SEPA credit transfer QR code of a bank account for an amount, as Odoo's
        account_qr_code_sepa would encode it (its checks and payload), drawn by
        _dunning_qr_image; None when the account cannot take one."""
        vals = bank._build_qr_code_vals(amount, reference, None, currency, partner,
                                        qr_method="sct_qr", silent_errors=True)
        params = vals and bank._get_qr_code_generation_params(**vals)
        return self._dunning_qr_image(params["value"]) if params else None

    # ------------------------------------------------------------------ the PDF
    @api.model
    def _dunning_statement_payment(self, statement):
        """How to pay a statement, as data: ``banks`` (the company's bank accounts),
        ``reference`` (what to quote: the open invoices' payment references, else the
        customer's reference when they would not fit in a bank transfer), ``qr`` (an EPC /
        SEPA QR code as a data URI for the total due in EUR, when a bank account of the
        company allows it, else None), ``qr_amount``, ``qr_currency``, ``qr_bank`` and
        ``qr_reference`` (the reference it carries: the invoices in EUR)."""
        partner, company = statement["partner"], statement["company"]
        banks = company.sudo().partner_id.bank_ids
        lang = partner.lang or self.env.lang

        def reference_of(rows):
            refs = []
            for row in rows:
                ref = row["move"].payment_reference or row["name"]
                if row["residual"] > 0 and ref and ref not in refs:
                    refs.append(ref)
            reference = ", ".join(refs)
            if not reference or len(reference) > EPC_REMITTANCE_MAX:
                reference = self.with_context(lang=lang).env._(
                    "Customer %s", partner.ref or partner.id)[:EPC_REMITTANCE_MAX]
            return reference

        result = {"banks": banks, "reference": reference_of(statement["rows"]), "qr": None,
                  "qr_amount": 0.0, "qr_currency": False, "qr_bank": banks.browse(),
                  "qr_reference": False}
        eur = next((total for total in statement["totals"]
                    if total["currency"].name == "EUR"), None)
        if not eur or eur["currency"].compare_amounts(eur["residual"], 0) <= 0:
            return result
        amount = eur["currency"].round(eur["residual"])
        # the transfer the code fills in pays the invoices in euros only
        qr_reference = reference_of([row for row in statement["rows"]
                                     if row["currency"] == eur["currency"]])
        for bank in banks:
            qr = self._dunning_epc_qr(bank, amount, qr_reference, eur["currency"], partner)
            if qr:
                result.update(qr=qr, qr_amount=amount, qr_currency=eur["currency"],
                              qr_bank=bank, qr_reference=qr_reference)
                break
        return result

    @api.model
    def _dunning_statement_pdf(self, partner, company, highlight=None):
        """The statement of account of ``partner`` with ``company`` as a file: (content,
        file name), rendered in the customer's language; ``highlight``: invoices to stress.
        A PDF, except in tests that do not ask for one (``force_report_rendering``), where
        Odoo's report machinery gives HTML (the file name says which).

        Internal: the caller decides who may see it (the report itself checks the user)."""
        partner = partner.commercial_partner_id
        lang = partner.lang or self.env.lang
        report = self.env["ir.actions.report"].sudo().with_context(
            lang=lang, dunning_company_id=company.id)
        data = {"highlight_ids": highlight.ids} if highlight else None
        content, fmt = report._render_qweb_pdf(STATEMENT_REPORT, [partner.id], data=data)
        today = fields.Date.context_today(self)
        name = self.with_context(lang=lang).env._(
            "Statement of account %(customer)s %(date)s",
            customer=partner.name or "", date=today.isoformat())
        for char in '/\\:*?"<>|':
            name = name.replace(char, "-")
        return content, f"{name}.{fmt}"


class ReportDunningStatement(models.AbstractModel):
    """Values of the statement of account (report on res.partner): for the company of the
    context (``dunning_company_id``, else the current one), payments of the last
    STATEMENT_PAYMENT_DAYS days. Builds of wkhtmltopdf without Odoo's patched Qt (Debian's)
    draw no header and cannot join several documents: there the statement uses a server
    font, carries the sender in its body, takes the header's margin and renders every
    customer printed at once in one document (see report/dunning_letter.py)."""

    _name = "report.dunning_chain.report_dunning_statement"
    _description = "Dunning Statement of Account Report"

    @api.model
    def _dunning_company(self):
        company_id = self.env.context.get("dunning_company_id")
        if not company_id:
            return self.env.company
        company = self.env["res.company"].browse(
            company_id if isinstance(company_id, int) else 0).exists()
        if not company or not (self.env.su or company in self.env.user.company_ids):
            raise AccessError(self.env._("You cannot print a statement of this company."))
        return company

    @api.model
    def _get_report_values(self, docids, data=None):
        if not (self.env.su or self.env.user.has_group("account.group_account_invoice")):
            raise AccessError(self.env._(
                "Only invoicing users may print a customer's statement of account."))
        partners = self.env["res.partner"].browse(docids)
        partners.check_access("read")
        company = self._dunning_company()
        today = fields.Date.context_today(self)
        raw_ids = (data or {}).get("highlight_ids") or []
        highlight = self.env["account.move"].browse(
            [i for i in raw_ids if isinstance(i, int) and not isinstance(i, bool)])
        Statement = self.env["dunning.statement"]
        statements = {}
        for partner in partners:
            statement = Statement._dunning_statement(
                partner, company, highlight=highlight,
                since=today - timedelta(days=STATEMENT_PAYMENT_DAYS), today=today)
            statement["payment"] = Statement._dunning_statement_payment(statement)
            statement["has_charges"] = any(row["charges"] for row in statement["rows"])
            statements[partner.id] = statement
        local_font = not _wkhtml().is_patched_qt
        values = {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": partners,
            "statements": statements,
            "company": company,
            "dunning_local_font": local_font,
        }
        if local_font:
            # no header nor footer is drawn: the page uses their margins
            values.update(data_report_margin_top=12, data_report_margin_bottom=12,
                          data_report_header_spacing=0)
        return values
