import base64
import logging
from collections import defaultdict

from werkzeug.exceptions import NotFound

from odoo import Command, fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request
from odoo.tools import format_amount, format_date

from odoo.addons.account_payment.controllers.portal import PortalAccount

_logger = logging.getLogger(__name__)

TOKEN_PREFIX = "/dunning/<int:partner_id>/<int:expires>/<string:signature>"
MY_PREFIX = "/my/dunning"
# Channels whose record is a task for our staff (its text is an internal instruction): the
# customer sees that the step happened, not the instruction.
TASK_CHANNELS = ("call", "certified", "handoff")


class DunningPortal(PortalAccount):

    # ------------------------------------------------------------------ /my home card
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "dunning_open_count" in counters:
            partner = request.env.user.partner_id.commercial_partner_id
            values["dunning_open_count"] = request.env["account.move"].sudo().search_count(
                request.env["account.move"]._dunning_portal_open_domain(partner))
        return values

    # ------------------------------------------------------------------ resolving who
    def _dunning_resolve(self, partner_id=None, expires=None, signature=None):
        """(partner sudo, url prefix, None) when the visitor may see the page, else
        (None, None, response to return)."""
        if partner_id is None:
            if request.env.user._is_public():
                return None, None, request.redirect(f"/web/login?redirect={MY_PREFIX}")
            partner = request.env.user.partner_id.commercial_partner_id.sudo()
            return partner, MY_PREFIX, None
        status, partner = request.env["res.partner"]._dunning_portal_check(
            partner_id, expires, signature)
        if status != "ok":
            return None, None, self._dunning_render_link_problem(
                f"/dunning/{partner_id}/{expires}/{signature}")
        return partner, f"/dunning/{partner.id}/{int(expires)}/{signature}", None

    def _dunning_render_link_problem(self, prefix, sent=False):
        """The same friendly page for an expired and for a tampered link: no data at all."""
        return request.render("dunning_portal.dunning_link_problem", {
            "prefix": prefix, "sent": sent, "no_breadcrumbs": True,
        }, status=403)

    def _dunning_invoice(self, partner, invoice_id):
        """An open invoice of this customer, or 404 (never 403: ids are not enumerable)."""
        Move = request.env["account.move"].sudo()
        move = Move.search(Move._dunning_portal_open_domain(partner) + [("id", "=", invoice_id)])
        if not move:
            raise NotFound()
        return move

    @staticmethod
    def _dunning_actor(move):
        """Whom the core's fallbacks (activity owner) should see as the current user: the
        collector, else the salesperson, else the administrator; never the public user."""
        policy = move.commercial_partner_id._dunning_policy(move.company_id)
        for user in (policy.collector_id if policy else None, move.invoice_user_id):
            if user and user.active:
                return user
        return request.env.ref("base.user_admin").sudo()

    # ------------------------------------------------------------------ the page
    def _dunning_page_values(self, partner, prefix):
        env = request.env
        Move = env["account.move"].sudo()
        today = fields.Date.context_today(Move)
        invoices = Move.search(Move._dunning_portal_open_domain(partner),
                               order="invoice_date_due, id")
        company = invoices[:1].company_id or partner.company_id or env.company
        policy = partner._dunning_policy(company)
        max_promise = policy.max_promise_days if policy else 30
        plans = env["dunning.instalment.plan"].sudo().search(
            [("partner_id", "=", partner.id), ("state", "in", ("requested", "approved"))],
            order="first_date, id")
        rows = []
        overdue_totals = defaultdict(float)
        for inv in invoices:
            days_late = inv._dunning_portal_days_late()
            overdue = bool(inv.invoice_date_due and inv.invoice_date_due < today)
            if overdue:
                overdue_totals[inv.currency_id] += inv.amount_residual
            inv_plans = plans.filtered(lambda p, inv=inv: inv in p.invoice_ids)
            rows.append({
                "invoice": inv,
                "days_late": days_late,
                "days_to_due": (inv.invoice_date_due - today).days if inv.invoice_date_due else 0,
                "overdue": overdue,
                "residual": format_amount(env, inv.amount_residual, inv.currency_id),
                "pay_url": inv.get_portal_url(anchor="portal_pay", query_string="&payment=True"),
                "pdf_url": inv.get_portal_url(report_type="pdf", download=True),
                "disputed": inv.dunning_dispute_state == "open",
                "dispute_answer": (inv.dunning_dispute_state in ("accepted", "rejected")
                                   and inv.dunning_dispute_answer),
                "promised": inv.dunning_promise_state == "open" and inv.dunning_promise_date,
                "paused": inv.dunning_paused_until and inv.dunning_paused_until >= today,
                "plan": inv_plans[:1],
                "can_pay": inv._has_to_be_paid(),
            })
        channels = dict(env["dunning.communication"]._fields["channel"]._description_selection(env))
        comms = env["dunning.communication"].sudo().search(
            [("partner_id", "=", partner.id), ("state", "=", "sent")], order="sent_at desc, id desc")
        history = [{
            "comm": comm,
            "channel": channels.get(comm.channel, comm.channel),
            "is_task": comm.channel in TASK_CHANNELS,
        } for comm in comms]
        overdue_moves = invoices.filtered(lambda m: m.invoice_date_due and m.invoice_date_due < today)
        pay_groups = self._dunning_pay_groups(partner, prefix)
        if len(pay_groups) == 1 and len(pay_groups[0]["moves"]) < 2:
            pay_groups = []  # one invoice: its own Pay button says it all
        for group in pay_groups:
            group["amount_text"] = format_amount(env, group["amount"], group["currency"])
        plan_rows = [{
            "plan": plan,
            "amount_due_next": format_amount(env, plan.amount_due_next, plan.currency_id),
            "pay_url": (f"{prefix}/plan/{plan.id}/pay" if plan.state == "approved"
                        and not plan.currency_id.is_zero(plan.amount_due_next) else False),
            "lines": [{
                "line": line, "amount": format_amount(env, line.amount, plan.currency_id),
                "state": dict(line._fields["state"]._description_selection(env))[line.state],
            } for line in plan.line_ids],
        } for plan in plans]
        return {
            "partner": partner,
            "company": company,
            "prefix": prefix,
            "rows": rows,
            "overdue_totals": [format_amount(env, amount, cur)
                               for cur, amount in overdue_totals.items()],
            "overdue_count": len(overdue_moves),
            "history": history,
            "today": today,
            "promise_max": fields.Date.add(today, days=max_promise),
            "max_promise_days": max_promise,
            "max_instalments": policy.max_instalments if policy else 3,
            "pay_groups": pay_groups,
            "plan_rows": plan_rows,
            "dispute_categories": Move._fields["dunning_dispute_category"]._description_selection(env),
            "fmt_date": lambda d: format_date(env, d) if d else "",
            "no_breadcrumbs": True,
        }

    def _dunning_render_page(self, partner, prefix, error=None, done=None, invoice_id=None,
                             status=200):
        values = self._dunning_page_values(partner, prefix)
        values.update({"error": error, "done": done, "focus_invoice_id": invoice_id})
        return request.render("dunning_portal.dunning_page", values, status=status)

    @http.route([TOKEN_PREFIX], type="http", auth="public", methods=["GET"], website=True,
                sitemap=False)
    def dunning_page(self, partner_id, expires, signature, done=None, invoice=None, **kw):
        partner, prefix, response = self._dunning_resolve(partner_id, expires, signature)
        if response:
            return response
        return self._dunning_render_page(partner, prefix, done=done,
                                         invoice_id=int(invoice) if (invoice or "").isdigit() else None)

    @http.route([MY_PREFIX], type="http", auth="user", methods=["GET"], website=True)
    def dunning_my_page(self, done=None, invoice=None, **kw):
        partner, prefix, response = self._dunning_resolve()
        if response:
            return response
        return self._dunning_render_page(partner, prefix, done=done,
                                         invoice_id=int(invoice) if (invoice or "").isdigit() else None)

    @http.route([f"{TOKEN_PREFIX}/fresh-link"], type="http", auth="public", methods=["POST"],
                website=True, csrf=True, sitemap=False)
    def dunning_fresh_link(self, partner_id, expires, signature, **kw):
        """Mail a fresh link to the address on file. Only an authentic (expired) link
        triggers a mail; the answer is the same either way (nothing to learn)."""
        status, partner = request.env["res.partner"]._dunning_portal_check(
            partner_id, expires, signature)
        if status in ("ok", "expired") and partner:
            partner._dunning_portal_send_fresh_link()
        return self._dunning_render_link_problem(f"/dunning/{partner_id}/{expires}/{signature}",
                                                 sent=True)

    # ------------------------------------------------------------------ actions
    def _dunning_action(self, partner_id, expires, signature, invoice_id, action, done):
        partner, prefix, response = self._dunning_resolve(partner_id, expires, signature)
        if response:
            return response
        move = self._dunning_invoice(partner, invoice_id) if invoice_id else None
        try:
            with request.env.cr.savepoint():
                action(partner, move)
        except (UserError, ValidationError) as exc:
            return self._dunning_render_page(partner, prefix, error=exc.args[0],
                                             invoice_id=invoice_id, status=400)
        anchor = f"&invoice={invoice_id}#invoice-{invoice_id}" if invoice_id else ""
        return request.redirect(f"{prefix}?done={done}{anchor}", code=303)

    @staticmethod
    def _dunning_date(value):
        try:
            day = fields.Date.to_date(value) if value else None
        except ValueError:
            day = None
        if not day:
            raise UserError(request.env._("Choose a valid date."))
        return day

    @http.route([f"{TOKEN_PREFIX}/invoice/<int:invoice_id>/dispute",
                 f"{MY_PREFIX}/invoice/<int:invoice_id>/dispute"],
                type="http", auth="public", methods=["POST"], website=True, csrf=True,
                sitemap=False)
    def dunning_dispute(self, invoice_id, partner_id=None, expires=None, signature=None,
                        category=None, message=None, attachment=None, **kw):
        def action(partner, move):
            name = data = None
            if attachment is not None and getattr(attachment, "filename", None):
                data = attachment.read()
                name = attachment.filename
            actor = self._dunning_actor(move)
            move.with_user(actor).sudo()._dunning_portal_dispute(
                category, message, attachment_name=name, attachment_data=data, partner=partner)
        return self._dunning_action(partner_id, expires, signature, invoice_id, action, "dispute")

    @http.route([f"{TOKEN_PREFIX}/invoice/<int:invoice_id>/promise",
                 f"{MY_PREFIX}/invoice/<int:invoice_id>/promise"],
                type="http", auth="public", methods=["POST"], website=True, csrf=True,
                sitemap=False)
    def dunning_promise(self, invoice_id, partner_id=None, expires=None, signature=None,
                        promise_date=None, note=None, **kw):
        def action(partner, move):
            day = self._dunning_date(promise_date)
            actor = self._dunning_actor(move)
            move.with_user(actor).sudo()._dunning_portal_promise(day, (note or "").strip(),
                                                                 partner=partner)
        return self._dunning_action(partner_id, expires, signature, invoice_id, action, "promise")

    @http.route([f"{TOKEN_PREFIX}/instalments", f"{MY_PREFIX}/instalments"],
                type="http", auth="public", methods=["POST"], website=True, csrf=True,
                sitemap=False)
    def dunning_instalments(self, partner_id=None, expires=None, signature=None,
                            instalment_count=None, first_date=None, note=None, **kw):
        invoice_ids = request.httprequest.form.getlist("invoice_ids")

        def action(partner, move):
            moves = request.env["account.move"].sudo()
            for raw in invoice_ids:
                if not str(raw).isdigit():
                    raise NotFound()
                moves |= self._dunning_invoice(partner, int(raw))
            try:
                count = int(instalment_count or 0)
            except ValueError:
                count = 0
            day = self._dunning_date(first_date)
            actor = self._dunning_actor(moves[:1]) if moves else request.env.ref("base.user_admin")
            request.env["dunning.instalment.plan"].with_user(actor).sudo()._dunning_request(
                partner, moves, count, day, (note or "").strip())
        return self._dunning_action(partner_id, expires, signature, None, action, "instalments")

    # ------------------------------------------------------------------ pay several at once
    def _dunning_overdue_payable(self, partner):
        Move = request.env["account.move"].sudo()
        today = fields.Date.context_today(Move)
        moves = Move.search(Move._dunning_portal_open_domain(partner)
                            + [("invoice_date_due", "<", today)], order="invoice_date_due, id")
        # a disputed invoice is not asked for while we look into it
        return moves.filtered(lambda m: m._has_to_be_paid() and m.dunning_dispute_state != "open")

    def _dunning_pay_groups(self, partner, prefix):
        """The overdue invoices one payment can settle: one group per company and currency
        (a payment has one of each). One group keeps the short URLs."""
        groups = self._dunning_overdue_payable(partner).grouped(
            lambda m: (m.company_id, m.currency_id))
        result = []
        for (company, currency), moves in groups.items():
            suffix = "" if len(groups) == 1 else f"/{company.id}/{currency.id}"
            result.append({
                "moves": moves, "company": company, "currency": currency,
                "amount": sum(moves.mapped("amount_residual")),
                "url": f"{prefix}/pay{suffix}", "transaction_route": f"{prefix}/transaction{suffix}",
            })
        return result

    @staticmethod
    def _dunning_pay_group(groups, company_id, currency_id):
        """The group a URL names (by company and currency ids, or none: the only group)."""
        if company_id is None:
            return groups[0] if len(groups) == 1 else None
        return next((group for group in groups if (group["company"].id, group["currency"].id)
                     == (company_id, currency_id)), None)

    def _dunning_plan_to_pay(self, partner, plan_id):
        """A running payment plan of this customer with something to pay now, or 404."""
        plan = request.env["dunning.instalment.plan"].sudo().search([
            ("id", "=", plan_id), ("partner_id", "=", partner.id), ("state", "=", "approved")])
        moves = plan.invoice_ids.filtered(lambda m: m._has_to_be_paid())
        if not plan or not moves or plan.currency_id.is_zero(plan.amount_due_next):
            raise NotFound()
        # the instalment is in the company's currency: the plan's invoices must be too
        if moves.currency_id != plan.currency_id:
            raise NotFound()
        return plan, moves, min(plan.amount_due_next, sum(moves.mapped("amount_residual")))

    def _dunning_render_payment(self, partner, prefix, moves, amount, transaction_route, **kw):
        """Odoo's overdue payment page (account_payment) for these invoices and this amount,
        reachable from the signed link too (Odoo's own needs a login)."""
        company, currency = moves.company_id, moves.currency_id
        reference = (company.get_next_batch_payment_communication() if len(moves) > 1
                     else moves.name)
        values = {
            "page_name": "overdue_invoices",
            "payment": {"date": fields.Date.today(), "reference": reference, "amount": amount,
                        "currency": currency},
            "amount": amount,
            "no_breadcrumbs": True,
        }
        values |= self._get_common_page_view_values(
            invoices_data={
                "partner": partner, "company": company, "total_amount": amount,
                "currency": currency, "amount_residual": amount,
                "payment_reference": reference, "landing_route": prefix,
                "transaction_route": transaction_route,
            }, **kw)
        return request.render("account_payment.portal_overdue_invoices_page", values)

    def _dunning_json_partner(self, partner_id, expires, signature):
        if partner_id is None:
            if request.env.user._is_public():
                raise ValidationError(request.env._("Please log in to pay your invoices."))
            return request.env.user.partner_id.commercial_partner_id.sudo()
        status, partner = request.env["res.partner"]._dunning_portal_check(
            partner_id, expires, signature)
        if status != "ok":
            raise ValidationError(request.env._("This link is no longer valid."))
        return partner

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
                 f"{TOKEN_PREFIX}/pay/<int:company_id>/<int:currency_id>",
                 f"{MY_PREFIX}/pay/<int:company_id>/<int:currency_id>"],
                type="http", auth="public", methods=["GET"], website=True, sitemap=False)
    def dunning_pay_all(self, partner_id=None, expires=None, signature=None, company_id=None,
                        currency_id=None, **kw):
        """Pay every overdue invoice (of one company and currency) at once."""
        partner, prefix, response = self._dunning_resolve(partner_id, expires, signature)
        if response:
            return response
        groups = self._dunning_pay_groups(partner, prefix)
        group = self._dunning_pay_group(groups, company_id, currency_id)
        if company_id is None and len(groups) > 1:
            return self._dunning_render_page(partner, prefix, status=400, error=request.env._(
                "Your overdue invoices are in several currencies or companies: choose which "
                "ones to pay."))
        if not group:
            return request.redirect(prefix)
        return self._dunning_render_payment(partner, prefix, group["moves"], group["amount"],
                                            group["transaction_route"], **kw)

    @http.route([f"{TOKEN_PREFIX}/transaction", f"{MY_PREFIX}/transaction",
                 f"{TOKEN_PREFIX}/transaction/<int:company_id>/<int:currency_id>",
                 f"{MY_PREFIX}/transaction/<int:company_id>/<int:currency_id>"],
                type="jsonrpc", auth="public")
    def dunning_pay_all_transaction(self, partner_id=None, expires=None, signature=None,
                                    company_id=None, currency_id=None, payment_reference=None,
                                    access_token=None, **kwargs):
        partner = self._dunning_json_partner(partner_id, expires, signature)
        groups = self._dunning_pay_groups(partner, "")
        if not groups:
            raise ValidationError(request.env._("Nothing is overdue any more."))
        if company_id is None and len(groups) > 1:
            raise ValidationError(request.env._(
                "Your overdue invoices are in several currencies or companies: choose which "
                "ones to pay."))
        group = self._dunning_pay_group(groups, company_id, currency_id)
        if not group:
            raise ValidationError(request.env._("Nothing is overdue any more in this currency."))
        return self._dunning_transaction(partner, group["moves"], group["amount"],
                                         payment_reference, kwargs)

    @http.route([f"{TOKEN_PREFIX}/plan/<int:plan_id>/pay", f"{MY_PREFIX}/plan/<int:plan_id>/pay"],
                type="http", auth="public", methods=["GET"], website=True, sitemap=False)
    def dunning_pay_instalment(self, plan_id, partner_id=None, expires=None, signature=None,
                               **kw):
        """Pay the next instalment of a running payment plan."""
        partner, prefix, response = self._dunning_resolve(partner_id, expires, signature)
        if response:
            return response
        _plan, moves, amount = self._dunning_plan_to_pay(partner, plan_id)
        return self._dunning_render_payment(partner, prefix, moves, amount,
                                            f"{prefix}/plan/{plan_id}/transaction", **kw)

    @http.route([f"{TOKEN_PREFIX}/plan/<int:plan_id>/transaction",
                 f"{MY_PREFIX}/plan/<int:plan_id>/transaction"], type="jsonrpc", auth="public")
    def dunning_pay_instalment_transaction(self, plan_id, partner_id=None, expires=None,
                                           signature=None, payment_reference=None,
                                           access_token=None, **kwargs):
        partner = self._dunning_json_partner(partner_id, expires, signature)
        try:
            _plan, moves, amount = self._dunning_plan_to_pay(partner, plan_id)
        except NotFound:
            raise ValidationError(request.env._("Nothing is left to pay for this instalment."))
        return self._dunning_transaction(partner, moves, amount, payment_reference, kwargs)
