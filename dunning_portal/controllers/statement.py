"""The statement of account on the customer page: which companies' statements a visitor
may see, and each one formatted for the page (dunning.statement gives the data)."""
from odoo.http import request
from odoo.tools import format_amount


def statement_companies(partner, company=None):
    """The companies whose statement the visitor may see: the signed link's, else (a
    logged-in customer) every company the customer has open items with, else the
    customer's own or the current one."""
    if company:
        return company
    Move = request.env["account.move"].sudo()
    domain = request.env["dunning.statement"]._dunning_open_items_domain(partner)
    companies = Move.search(domain, order="company_id").company_id
    return companies or (partner.company_id or request.env.company).sudo()


def statement_blocks(partner, company, prefix):
    """The statement of account of each company the page covers (dunning.statement: all
    open invoices and credit notes, charges, totals per currency, the payments received
    since the company's last message when there was one), formatted for the page, with
    its PDF link under the same prefix."""
    env = request.env
    companies = statement_companies(partner, company)
    blocks = []

    def money(amount, currency):
        return format_amount(env, amount, currency)

    for stmt_company in companies:
        last = env["dunning.communication"].sudo().search([
            ("partner_id", "=", partner.id), ("company_id", "=", stmt_company.id),
            ("state", "=", "sent"), ("sent_at", "!=", False)],
            order="sent_at desc, id desc", limit=1)
        statement = env["dunning.statement"].sudo()._dunning_statement(
            partner, stmt_company, since=last.sent_at.date() if last else None)
        query = "" if company or len(companies) == 1 else f"?company={stmt_company.id}"
        blocks.append({
            "company": stmt_company,
            # payments since our last message (the statement PDF has 90 days)
            "since": statement["since"] if last else False,
            "rows": [{
                "row": row,
                "is_refund": row["move"].move_type == "out_refund",
                "residual": money(row["residual"], row["currency"]),
                "charges": money(row["charges"], row["currency"]) if row["charges"] else "",
            } for row in statement["rows"]],
            "has_charges": any(row["charges"] for row in statement["rows"]),
            "totals": [{
                "currency": total["currency"],
                "residual": money(total["residual"], total["currency"]),
                "overdue": money(total["overdue"], total["currency"]),
                "has_overdue": bool(total["overdue"]),
                "charges": money(total["charges"], total["currency"])
                if total["charges"] else "",
            } for total in statement["totals"]],
            "payments": [{
                "date": payment["date"], "invoice": payment["invoice"].name,
                "amount": money(payment["amount"], payment["currency"]),
            } for payment in (statement["payments"] if last else [])],
            "pdf_url": f"{prefix}/statement.pdf{query}",
        })
    return blocks
