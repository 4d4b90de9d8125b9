from werkzeug.exceptions import NotFound

from odoo import Command, http
from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.tools import format_amount

from ..models.res_partner import valid_id
from .portal import MY_PREFIX, TOKEN_PREFIX, DunningPortal


class DunningPortalPay(DunningPortal):
    """Paying from the customer's page: one invoice, every overdue one (per company and
    currency), the next instalment of a payment plan. Odoo's payment form and transaction
    machinery, reached under the signed prefix (or /my/dunning): no invoice access token,
    and the amount is always the server's. Every pay page also says how to pay by bank
    transfer (the company's accounts, the exact amount, the reference, a SEPA QR code), and
    only that when no online payment provider is enabled for the company and currency."""

    # ------------------------------------------------------------------ ways to pay
    @staticmethod
    def _dunning_payer(partner):
        """Who pays, as Odoo's payment form sees it: the logged-in user, else the customer of
        the signed link (never the public user)."""
        user = request.env.user
        return partner if user._is_public() else user.partner_id

    def _dunning_pays_online(self, partner, company, currency, amount):
        """Whether Odoo's payment form has something to offer for this payment: a provider
        enabled for the company, currency and amount (Odoo's own lookup, published ones only
        for visitors), with a payment method or a saved token. Else the form would only say
        "No payment method available"."""
        payer = self._dunning_payer(partner).sudo()
        providers = request.env["payment.provider"].sudo()._get_compatible_providers(
            company.id, payer.id, amount, currency_id=currency.id)
        if not providers:
            return False
        return bool(
            request.env["payment.method"].sudo()._get_compatible_payment_methods(
                providers.ids, payer.id, currency_id=currency.id)
            or request.env["payment.token"].sudo()._get_available_tokens(
                providers.ids, payer.id))

    @staticmethod
    def _dunning_transfer(partner, moves, amount):
        """How to pay these invoices (of one company and currency) by bank transfer, from the
        statement's how-to-pay (dunning.statement._dunning_statement_payment) narrowed to
        them and to this amount: ``banks`` (the company's accounts: number, whether it is an
        IBAN, BIC, bank, holder), ``amount`` (formatted), ``reference`` (the invoices' payment references, or
        the customer's reference when they would not fit in a transfer), ``qr`` (an EPC /
        SEPA QR code as a data URI for exactly this amount in EUR, when an account allows
        it, else None)."""
        env = request.env
        company, currency = moves.company_id, moves.currency_id
        Statement = env["dunning.statement"].sudo()
        statement = Statement._dunning_statement(partner, company)
        rows = [row for row in statement["rows"] if row["move"] in moves]
        total = {"currency": currency, "residual": amount, "overdue": amount, "charges": 0.0,
                 "count": len(rows)}
        payment = Statement._dunning_statement_payment(
            dict(statement, rows=rows, totals=[total]))
        return {
            "company": company,
            "banks": [{
                "number": bank.acc_number,
                "iban": bank.acc_type == "iban",
                "bic": bank.bank_bic,
                "bank": bank.bank_id.name,
                "holder": bank.acc_holder_name or company.name,
            } for bank in payment["banks"]],
            "amount": format_amount(env, amount, currency),
            "reference": payment["reference"],
            "qr": payment["qr"],
        }

    # ------------------------------------------------------------------ the customer page
    def _dunning_page_values(self, partner, company, prefix):
        """The page says up front how each thing can be paid: online (a provider is enabled
        for the company and currency) and always by bank transfer (account and reference);
        a pay button without an online provider leads to the transfer details."""
        values = super()._dunning_page_values(partner, company, prefix)
        online_memo = {}

        def pays_online(moves, amount):
            key = (moves.company_id, moves.currency_id, moves.currency_id.round(amount))
            if key not in online_memo:
                online_memo[key] = self._dunning_pays_online(partner, *key)
            return online_memo[key]

        for row in values["rows"]:
            move = row["invoice"]
            row["online"] = row["can_pay"] and pays_online(move, move.amount_residual)
        for group in values["pay_groups"]:
            group["online"] = pays_online(group["moves"], group["amount"])
        for prow in values["plan_rows"]:
            plan = prow["plan"]
            prow["online"] = bool(prow["pay_url"]) and pays_online(
                plan.invoice_ids[:1], plan.amount_due_next)
        # the overdue invoices one payment settles (per company and currency): online, and
        # by transfer with the account to pay into and the reference to quote
        # (one invoice alone has no "pay all" button: its own Pay button says it all)
        pay_all = {group["url"]: group for group in values["pay_groups"]}
        values["pay_ways"] = [
            dict(self._dunning_transfer(partner, group["moves"], group["amount"]),
                 online=pays_online(group["moves"], group["amount"]), url=group["url"],
                 currency=group["currency"], pay_all=pay_all.get(group["url"]))
            for group in self._dunning_pay_groups(partner, company, prefix)
        ]
        return values

    # ------------------------------------------------------------------ pay several at once
    @staticmethod
    def _dunning_pay_group(groups, company_id, currency_id):
        """The group a URL names (by company and currency ids, or none: the only group)."""
        if company_id is None:
            return groups[0] if len(groups) == 1 else None
        return next((group for group in groups if (group["company"].id, group["currency"].id)
                     == (company_id, currency_id)), None)

    @staticmethod
    def _dunning_plan_to_pay(partner, company, plan_id):
        """A running payment plan of this customer (and of the link's company) with something
        to pay now, or 404."""
        plan_id = valid_id(plan_id)
        if not plan_id:
            raise NotFound()
        domain = [("id", "=", plan_id), ("partner_id", "=", partner.id), ("state", "=", "approved")]
        if company:
            domain.append(("company_id", "=", company.id))
        plan = request.env["dunning.instalment.plan"].sudo().search(domain)
        moves = plan.invoice_ids.filtered(lambda m: m._has_to_be_paid())
        if not plan or not moves or plan.currency_id.is_zero(plan.amount_due_next):
            raise NotFound()
        # the instalment is in the company's currency: the plan's invoices must be too
        if moves.currency_id != plan.currency_id:
            raise NotFound()
        return plan, moves, min(plan.amount_due_next, sum(moves.mapped("amount_residual")))

    def _dunning_invoice_to_pay(self, partner, company, invoice_id):
        """An open invoice of this customer that can be paid online, or 404."""
        move = self._dunning_invoice(partner, company, invoice_id)
        if not move._has_to_be_paid():
            raise NotFound()
        return move

    def _dunning_render_payment(self, partner, prefix, moves, amount, transaction_route, **kw):
        """The pay page of these invoices and this amount, under the signed link (Odoo's own
        pages need a login or an invoice access token): Odoo's payment form when a provider
        is enabled for the company and currency, and the bank transfer details always
        (account, exact amount, reference, SEPA QR code)."""
        company, currency = moves.company_id, moves.currency_id
        values = self._get_common_page_view_values(
            invoices_data={
                "partner": partner, "company": company, "total_amount": amount,
                "currency": currency, "amount_residual": amount,
                # back to the customer's page, which thanks them
                "landing_route": f"{prefix}?done=paid", "transaction_route": transaction_route,
            }, **kw)
        online = bool(values["providers_sudo"] and (values["payment_methods_sudo"]
                                                    or values["tokens_sudo"]))
        if online:
            # the prefix of the transaction's reference, as Odoo's overdue payment page does
            values["payment_reference"] = (company.get_next_batch_payment_communication()
                                           if len(moves) > 1 else moves.name)
        values.update({
            "partner": partner,
            "company": company,
            "prefix": prefix,
            "moves": moves,
            "amount": amount,
            "amount_text": format_amount(request.env, amount, currency),
            "online": online,
            "transfer": self._dunning_transfer(partner, moves, amount),
            "no_breadcrumbs": True,
        })
        return request.render("dunning_portal.dunning_pay_page", values)

    def _dunning_json_partner(self, partner_id, company_id, expires, signature):
        """(partner sudo, company or empty) behind a transaction route, else ValidationError."""
        if partner_id is None:
            if request.env.user._is_public():
                raise ValidationError(request.env._("Please log in to pay your invoices."))
            return (request.env.user.partner_id.commercial_partner_id.sudo(),
                    request.env["res.company"].sudo())
        status, partner, company = request.env["res.partner"]._dunning_portal_check(
            partner_id, company_id, expires, signature)
        if status != "ok":
            raise ValidationError(request.env._("This link is no longer valid."))
        return partner, company

    def _dunning_transaction(self, partner, moves, amount, payment_reference, kwargs):
        """Draft transaction for these invoices. The amount is the server's, whatever the
        browser sends."""
        self._validate_transaction_kwargs(kwargs)
        logged_in = not request.env.user._is_public()
        kwargs.update({
            "amount": amount,
            "currency_id": moves.currency_id.id,
            "partner_id": request.env.user.partner_id.id if logged_in else partner.id,
            "reference_prefix": payment_reference,
        })
        tx_sudo = self._create_transaction(
            custom_create_values={"invoice_ids": [Command.set(moves.ids)]}, **kwargs)
        return tx_sudo._get_processing_values()

    @http.route([f"{TOKEN_PREFIX}/pay", f"{MY_PREFIX}/pay",
                 f"{TOKEN_PREFIX}/pay/<int:group_company_id>/<int:currency_id>",
                 f"{MY_PREFIX}/pay/<int:group_company_id>/<int:currency_id>"],
                type="http", auth="public", methods=["GET"], website=True, sitemap=False)
    def dunning_pay_all(self, partner_id=None, company_id=None, expires=None, signature=None,
                        group_company_id=None, currency_id=None, **kw):
        """Pay every overdue invoice (of one company and currency) at once."""
        partner, company, prefix, response = self._dunning_resolve(
            partner_id, company_id, expires, signature)
        if response:
            return response
        groups = self._dunning_pay_groups(partner, company, prefix)
        group = self._dunning_pay_group(groups, group_company_id, currency_id)
        if group_company_id is None and len(groups) > 1:
            return self._dunning_render_page(partner, company, prefix, status=400, error=request.env._(
                "Your overdue invoices are in several currencies or companies: choose which "
                "ones to pay."))
        if not group:
            return request.redirect(prefix)
        return self._dunning_render_payment(partner, prefix, group["moves"], group["amount"],
                                            group["transaction_route"], **kw)

    @http.route([f"{TOKEN_PREFIX}/transaction", f"{MY_PREFIX}/transaction",
                 f"{TOKEN_PREFIX}/transaction/<int:group_company_id>/<int:currency_id>",
                 f"{MY_PREFIX}/transaction/<int:group_company_id>/<int:currency_id>"],
                type="jsonrpc", auth="public")
    def dunning_pay_all_transaction(self, partner_id=None, company_id=None, expires=None,
                                    signature=None, group_company_id=None, currency_id=None,
                                    payment_reference=None, access_token=None, **kwargs):
        partner, company = self._dunning_json_partner(partner_id, company_id, expires, signature)
        groups = self._dunning_pay_groups(partner, company, "")
        if not groups:
            raise ValidationError(request.env._("Nothing is overdue any more."))
        if group_company_id is None and len(groups) > 1:
            raise ValidationError(request.env._(
                "Your overdue invoices are in several currencies or companies: choose which "
                "ones to pay."))
        group = self._dunning_pay_group(groups, group_company_id, currency_id)
        if not group:
            raise ValidationError(request.env._("Nothing is overdue any more in this currency."))
        return self._dunning_transaction(partner, group["moves"], group["amount"],
                                         payment_reference, kwargs)

    # ------------------------------------------------------------------ one invoice
    @http.route([f"{TOKEN_PREFIX}/invoice/<int:invoice_id>/pay",
                 f"{MY_PREFIX}/invoice/<int:invoice_id>/pay"],
                type="http", auth="public", methods=["GET"], website=True, sitemap=False)
    def dunning_pay_invoice(self, invoice_id, partner_id=None, company_id=None, expires=None,
                            signature=None, **kw):
        """Pay one invoice: what it still owes, computed by the server."""
        partner, company, prefix, response = self._dunning_resolve(
            partner_id, company_id, expires, signature)
        if response:
            return response
        move = self._dunning_invoice_to_pay(partner, company, invoice_id)
        return self._dunning_render_payment(partner, prefix, move, move.amount_residual,
                                            f"{prefix}/invoice/{move.id}/transaction", **kw)

    @http.route([f"{TOKEN_PREFIX}/invoice/<int:invoice_id>/transaction",
                 f"{MY_PREFIX}/invoice/<int:invoice_id>/transaction"], type="jsonrpc",
                auth="public")
    def dunning_pay_invoice_transaction(self, invoice_id, partner_id=None, company_id=None,
                                        expires=None, signature=None, payment_reference=None,
                                        access_token=None, **kwargs):
        partner, company = self._dunning_json_partner(partner_id, company_id, expires, signature)
        try:
            move = self._dunning_invoice_to_pay(partner, company, invoice_id)
        except NotFound:
            raise ValidationError(request.env._("Nothing is left to pay on this invoice."))
        return self._dunning_transaction(partner, move, move.amount_residual, payment_reference,
                                         kwargs)

    # ------------------------------------------------------------------ payment plans
    @http.route([f"{TOKEN_PREFIX}/plan/<int:plan_id>/pay", f"{MY_PREFIX}/plan/<int:plan_id>/pay"],
                type="http", auth="public", methods=["GET"], website=True, sitemap=False)
    def dunning_pay_instalment(self, plan_id, partner_id=None, company_id=None, expires=None,
                               signature=None, **kw):
        """Pay the next instalment of a running payment plan."""
        partner, company, prefix, response = self._dunning_resolve(
            partner_id, company_id, expires, signature)
        if response:
            return response
        plan, moves, amount = self._dunning_plan_to_pay(partner, company, plan_id)
        return self._dunning_render_payment(partner, prefix, moves, amount,
                                            f"{prefix}/plan/{plan.id}/transaction", **kw)

    @http.route([f"{TOKEN_PREFIX}/plan/<int:plan_id>/transaction",
                 f"{MY_PREFIX}/plan/<int:plan_id>/transaction"], type="jsonrpc", auth="public")
    def dunning_pay_instalment_transaction(self, plan_id, partner_id=None, company_id=None,
                                           expires=None, signature=None, payment_reference=None,
                                           access_token=None, **kwargs):
        partner, company = self._dunning_json_partner(partner_id, company_id, expires, signature)
        try:
            _plan, moves, amount = self._dunning_plan_to_pay(partner, company, plan_id)
        except NotFound:
            raise ValidationError(request.env._("Nothing is left to pay for this instalment."))
        return self._dunning_transaction(partner, moves, amount, payment_reference, kwargs)
