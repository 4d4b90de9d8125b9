import logging
import time
from collections import defaultdict

from markupsafe import Markup
from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.http import content_disposition, request
from odoo.tools import format_amount, format_date, html_sanitize

from odoo.addons.account.controllers.download_docs import _build_zip_from_data, _get_headers
from odoo.addons.account_payment.controllers.portal import PortalAccount

from ..models.account_move import MAX_ATTACHMENT_BYTES
from ..models.res_partner import DAY, valid_id
from .statement import statement_blocks, statement_companies

_logger = logging.getLogger(__name__)

TOKEN_PREFIX = "/dunning/<int:partner_id>/<int:company_id>/<int:expires>/<string:signature>"
# Links of the first shape (before they were bound to a company): they only offer a fresh link.
LEGACY_PREFIX = "/dunning/<int:partner_id>/<int:expires>/<string:signature>"
MY_PREFIX = "/my/dunning"
# A letter the company printed and posted keeps an internal "print and post" summary as its
# body: the customer sees its subject (they got the letter itself).
POSTED_LETTER_STATES = ("to_post", "posted")
# The dispute form (a message and one attachment): anything larger is refused with 413
# before its body is read.
DISPUTE_MAX_CONTENT_LENGTH = MAX_ATTACHMENT_BYTES + 256 * 1024
DEFAULT_FRESH_LINK_MAX_AGE_DAYS = 180


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
    def _dunning_resolve(self, partner_id=None, company_id=None, expires=None, signature=None):
        """(partner sudo, company, url prefix, None) when the visitor may see the page, else
        (None, None, None, response to return). A signed link shows one company's records
        (the company is signed); a logged-in portal user sees all theirs (company empty)."""
        if partner_id is None:
            if request.env.user._is_public():
                return None, None, None, request.redirect(f"/web/login?redirect={MY_PREFIX}")
            partner = request.env.user.partner_id.commercial_partner_id.sudo()
            return partner, request.env["res.company"].sudo(), MY_PREFIX, None
        status, partner, company = request.env["res.partner"]._dunning_portal_check(
            partner_id, company_id, expires, signature)
        if status != "ok":
            return None, None, None, self._dunning_render_link_problem(
                partner_id, company_id, expires, signature)
        self._dunning_speak_to(partner)
        return partner, company, f"/dunning/{partner.id}/{company.id}/{expires}/{signature}", None

    @staticmethod
    def _dunning_speak_to(partner):
        """A visitor of a signed link reads the page in the customer's language (the one of
        the reminders), when it is installed; a logged-in user keeps theirs."""
        lang = partner.lang
        if (request.env.user._is_public() and lang and lang != request.env.lang
                and request.env["res.lang"]._get_data(code=lang).code):
            request.update_context(lang=lang)

    @staticmethod
    def _dunning_fresh_link_max_age_days():
        return request.env["ir.config_parameter"]._dunning_int_param(
            "dunning_portal.fresh_link_max_age_days", DEFAULT_FRESH_LINK_MAX_AGE_DAYS)

    def _dunning_link_too_old(self, expires):
        """A link that expired long ago gets no fresh link: the customer is asked to contact
        the company. Decided on the expiry written in the URL only (nothing to learn about
        the signature)."""
        return expires < time.time() - self._dunning_fresh_link_max_age_days() * DAY

    def _dunning_render_link_problem(self, partner_id, company_id, expires, signature,
                                     sent=False, prefix=None):
        """The same friendly page for an expired, a revoked and a tampered link: no data at
        all. Whatever the signature, a link that expired long ago (by its URL) asks the
        customer to contact the company named by the URL instead of offering a fresh link."""
        too_old = self._dunning_link_too_old(expires)
        contact = request.env["res.company"].sudo()
        if too_old:
            contact = (contact.browse(valid_id(company_id)).exists() if valid_id(company_id)
                       else contact) or request.env.company.sudo()
        return request.render("dunning_portal.dunning_link_problem", {
            "prefix": prefix or f"/dunning/{partner_id}/{company_id}/{expires}/{signature}",
            "sent": sent and not too_old, "too_old": too_old, "contact": contact,
            "no_breadcrumbs": True,
        }, status=403)

    @staticmethod
    def _dunning_invoice(partner, company, invoice_id):
        """An open invoice of this customer (and of the link's company), or 404 (never 403:
        ids are not enumerable)."""
        invoice_id = valid_id(invoice_id)
        if not invoice_id:
            raise NotFound()
        Move = request.env["account.move"].sudo()
        move = Move.search(Move._dunning_portal_open_domain(partner, company)
                           + [("id", "=", invoice_id)])
        if not move:
            raise NotFound()
        return move

    @staticmethod
    def _dunning_actor(move):
        """Whom the core's fallbacks (activity owner) should see as the current user: the
        invoice's responsible (never the public user)."""
        return move.sudo()._dunning_responsible().sudo()

    # ------------------------------------------------------------------ the page
    def _dunning_page_values(self, partner, company, prefix):
        env = request.env
        Move = env["account.move"].sudo()
        today = fields.Date.context_today(Move)
        invoices = Move.search(Move._dunning_portal_open_domain(partner, company),
                               order="invoice_date_due, id")
        link_company = company
        scope = [("company_id", "=", company.id)] if company else []
        company = company or invoices[:1].company_id or partner.company_id or env.company
        policy = partner._dunning_policy(company)
        max_promise = policy.max_promise_days if policy else 30
        plans = env["dunning.instalment.plan"].sudo().search(
            [("partner_id", "=", partner.id), ("state", "in", ("requested", "approved"))]
            + scope, order="first_date, id")
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
                # under the signed prefix: no permanent access token is handed out
                "pay_url": f"{prefix}/invoice/{inv.id}/pay",
                "pdf_url": f"{prefix}/invoice/{inv.id}/pdf",
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
            [("partner_id", "=", partner.id), ("state", "=", "sent")] + scope,
            order="sent_at desc, id desc")
        history = [self._dunning_history_item(comm, channels) for comm in comms]
        overdue_moves = invoices.filtered(lambda m: m.invoice_date_due and m.invoice_date_due < today)
        pay_groups = self._dunning_pay_groups(partner, link_company, prefix)
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
            "statements": statement_blocks(partner, link_company, prefix),
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

    @staticmethod
    def _dunning_history_item(comm, channels):
        """A sent message as the page shows it: the body sanitised whatever is stored, and
        no internal instruction (a staff task, a letter's "print and post" summary)."""
        # a channel whose record is a task for our staff (its text is an internal
        # instruction): the customer sees that the step happened, not the instruction
        is_task = comm.env["dunning.level.channel"]._dunning_traits_of(comm.channel).task
        posted_letter = comm.channel == "letter" and (
            comm.delivery_state in POSTED_LETTER_STATES or not comm.mail_template_id)
        internal = is_task or posted_letter
        return {
            "comm": comm,
            "channel": channels.get(comm.channel, comm.channel),
            "is_task": is_task,
            "subject": comm.subject or comm.level_id.name,
            "body": False if internal else Markup(html_sanitize(comm.body or "")),
        }

    def _dunning_render_page(self, partner, company, prefix, error=None, done=None,
                             invoice_id=None, status=200):
        values = self._dunning_page_values(partner, company, prefix)
        values.update({"error": error, "done": done, "focus_invoice_id": invoice_id})
        return request.render("dunning_portal.dunning_page", values, status=status)

    @http.route([TOKEN_PREFIX], type="http", auth="public", methods=["GET"], website=True,
                sitemap=False)
    def dunning_page(self, partner_id, company_id, expires, signature, done=None, invoice=None,
                     **kw):
        partner, company, prefix, response = self._dunning_resolve(
            partner_id, company_id, expires, signature)
        if response:
            return response
        return self._dunning_render_page(partner, company, prefix, done=done,
                                         invoice_id=valid_id(invoice))

    @http.route([MY_PREFIX], type="http", auth="user", methods=["GET"], website=True)
    def dunning_my_page(self, done=None, invoice=None, **kw):
        partner, company, prefix, response = self._dunning_resolve()
        if response:
            return response
        return self._dunning_render_page(partner, company, prefix, done=done,
                                         invoice_id=valid_id(invoice))

    @http.route([f"{TOKEN_PREFIX}/fresh-link"], type="http", auth="public", methods=["POST"],
                website=True, csrf=True, sitemap=False)
    def dunning_fresh_link(self, partner_id, company_id, expires, signature, **kw):
        """Mail a fresh link to the address on file. Only an authentic (expired) link of an
        active customer that expired less than dunning_portal.fresh_link_max_age_days ago
        triggers a mail, within the day's maximum per customer and per client address; the
        answer is the same either way (nothing to learn)."""
        if not self._dunning_link_too_old(expires):
            status, partner, company = request.env["res.partner"]._dunning_portal_check(
                partner_id, company_id, expires, signature)
            if status in ("ok", "expired") and partner:
                partner._dunning_portal_send_fresh_link(
                    company, ip=request.httprequest.remote_addr)
        return self._dunning_render_link_problem(partner_id, company_id, expires, signature,
                                                 sent=True)

    @http.route([LEGACY_PREFIX], type="http", auth="public", methods=["GET"], website=True,
                sitemap=False)
    def dunning_legacy_page(self, partner_id, expires, signature, **kw):
        """A link of the first shape (sent before links were bound to a company): the
        friendly page of an expired link, whatever its signature."""
        return self._dunning_render_link_problem(
            partner_id, None, expires, signature,
            prefix=f"/dunning/{partner_id}/{expires}/{signature}")

    @http.route([f"{LEGACY_PREFIX}/fresh-link"], type="http", auth="public", methods=["POST"],
                website=True, csrf=True, sitemap=False)
    def dunning_legacy_fresh_link(self, partner_id, expires, signature, **kw):
        """A fresh link (for the company of the customer's oldest open invoice) for an
        authentic link of the first shape, with the same limits and the same answer."""
        prefix = f"/dunning/{partner_id}/{expires}/{signature}"
        if not self._dunning_link_too_old(expires):
            partner = request.env["res.partner"]._dunning_portal_check_legacy(
                partner_id, expires, signature)
            if partner and partner.active:
                Move = request.env["account.move"].sudo()
                company = (Move.search(Move._dunning_portal_open_domain(partner),
                                       order="invoice_date_due, id", limit=1).company_id
                           or partner.company_id or request.env.company)
                partner._dunning_portal_send_fresh_link(
                    company, ip=request.httprequest.remote_addr)
        return self._dunning_render_link_problem(partner_id, None, expires, signature,
                                                 sent=True, prefix=prefix)

    # ------------------------------------------------------------------ actions
    def _dunning_action(self, partner_id, company_id, expires, signature, invoice_id, action,
                        done):
        partner, company, prefix, response = self._dunning_resolve(
            partner_id, company_id, expires, signature)
        if response:
            return response
        move = self._dunning_invoice(partner, company, invoice_id) if invoice_id is not None \
            else None
        try:
            with request.env.cr.savepoint():
                action(partner, company, move)
        except (UserError, ValidationError) as exc:
            return self._dunning_render_page(partner, company, prefix, error=exc.args[0],
                                             invoice_id=move.id if move else None, status=400)
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
                sitemap=False, max_content_length=DISPUTE_MAX_CONTENT_LENGTH)
    def dunning_dispute(self, invoice_id, partner_id=None, company_id=None, expires=None,
                        signature=None, category=None, message=None, attachment=None, **kw):
        def action(partner, company, move):
            name = data = None
            if attachment is not None and getattr(attachment, "filename", None):
                data = attachment.read()
                name = attachment.filename
            actor = self._dunning_actor(move)
            move.with_user(actor).sudo()._dunning_portal_dispute(
                category, message, attachment_name=name, attachment_data=data, partner=partner)
        return self._dunning_action(partner_id, company_id, expires, signature, invoice_id,
                                    action, "dispute")

    @http.route([f"{TOKEN_PREFIX}/invoice/<int:invoice_id>/promise",
                 f"{MY_PREFIX}/invoice/<int:invoice_id>/promise"],
                type="http", auth="public", methods=["POST"], website=True, csrf=True,
                sitemap=False)
    def dunning_promise(self, invoice_id, partner_id=None, company_id=None, expires=None,
                        signature=None, promise_date=None, note=None, **kw):
        def action(partner, company, move):
            day = self._dunning_date(promise_date)
            actor = self._dunning_actor(move)
            move.with_user(actor).sudo()._dunning_portal_promise(day, (note or "").strip(),
                                                                 partner=partner)
        return self._dunning_action(partner_id, company_id, expires, signature, invoice_id,
                                    action, "promise")

    @http.route([f"{TOKEN_PREFIX}/instalments", f"{MY_PREFIX}/instalments"],
                type="http", auth="public", methods=["POST"], website=True, csrf=True,
                sitemap=False)
    def dunning_instalments(self, partner_id=None, company_id=None, expires=None, signature=None,
                            instalment_count=None, first_date=None, note=None, **kw):
        invoice_ids = request.httprequest.form.getlist("invoice_ids")

        def action(partner, company, move):
            moves = request.env["account.move"].sudo()
            for raw in invoice_ids:
                moves |= self._dunning_invoice(partner, company, raw)
            count = instalment_count if isinstance(instalment_count, str) else ""
            count = int(count) if count.isascii() and count.isdecimal() and len(count) < 4 else 0
            day = self._dunning_date(first_date)
            actor = self._dunning_actor(moves[:1]) if moves else request.env.ref("base.user_admin")
            request.env["dunning.instalment.plan"].with_user(actor).sudo()._dunning_request(
                partner, moves, count, day, (note or "").strip())
        return self._dunning_action(partner_id, company_id, expires, signature, None, action,
                                    "instalments")

    # ------------------------------------------------------------------ pay several at once
    def _dunning_overdue_payable(self, partner, company=None):
        Move = request.env["account.move"].sudo()
        today = fields.Date.context_today(Move)
        moves = Move.search(Move._dunning_portal_open_domain(partner, company)
                            + [("invoice_date_due", "<", today)], order="invoice_date_due, id")
        # a disputed invoice is not asked for while we look into it
        return moves.filtered(lambda m: m._has_to_be_paid() and m.dunning_dispute_state != "open")

    def _dunning_pay_groups(self, partner, company, prefix):
        """The overdue invoices one payment can settle: one group per company and currency
        (a payment has one of each). One group keeps the short URLs."""
        groups = self._dunning_overdue_payable(partner, company).grouped(
            lambda m: (m.company_id, m.currency_id))
        result = []
        for (group_company, currency), moves in groups.items():
            suffix = "" if len(groups) == 1 else f"/{group_company.id}/{currency.id}"
            result.append({
                "moves": moves, "company": group_company, "currency": currency,
                "amount": sum(moves.mapped("amount_residual")),
                "url": f"{prefix}/pay{suffix}", "transaction_route": f"{prefix}/transaction{suffix}",
            })
        return result

    # ------------------------------------------------------------------ documents
    @http.route([f"{TOKEN_PREFIX}/statement.pdf", f"{MY_PREFIX}/statement.pdf"],
                type="http", auth="public", methods=["GET"], website=True, sitemap=False)
    def dunning_statement_pdf(self, partner_id=None, company_id=None, expires=None,
                              signature=None, company=None, **kw):
        """The customer's statement of account as a PDF, under the signed prefix (the link's
        company) or for a logged-in customer (``company``: one they have open items with)."""
        partner, link_company, _prefix, response = self._dunning_resolve(
            partner_id, company_id, expires, signature)
        if response:
            return response
        companies = statement_companies(partner, link_company)
        if not link_company and company is not None:
            wanted = valid_id(company)
            companies = companies.filtered(lambda c: c.id == wanted) if wanted else None
            if not companies:
                raise NotFound()
        # a download is a PDF, always (in test mode Odoo's reports give HTML unless asked)
        content, filename = request.env["dunning.statement"].sudo().with_context(
            force_report_rendering=True)._dunning_statement_pdf(partner, companies[:1])
        return request.make_response(content, [
            ("Content-Type", "application/pdf"),
            ("Content-Length", str(len(content))),
            ("Content-Disposition", content_disposition(filename)),
            ("X-Content-Type-Options", "nosniff"),
            ("Cache-Control", "private, no-store"),
        ])

    @http.route([f"{TOKEN_PREFIX}/invoice/<int:invoice_id>/pdf",
                 f"{MY_PREFIX}/invoice/<int:invoice_id>/pdf"],
                type="http", auth="public", methods=["GET"], website=True, sitemap=False)
    def dunning_invoice_pdf(self, invoice_id, partner_id=None, company_id=None, expires=None,
                            signature=None, **kw):
        """The invoice document (its official PDF, else the invoice report), under the signed
        prefix: no invoice access token is created."""
        partner, company, _prefix, response = self._dunning_resolve(
            partner_id, company_id, expires, signature)
        if response:
            return response
        move = self._dunning_invoice(partner, company, invoice_id)
        docs = move.with_company(move.company_id)._get_invoice_legal_documents_all(
            allow_fallback=True)
        if len(docs) == 1:
            headers = self._get_http_headers(move, "pdf", docs[0]["content"], True)
            return request.make_response(docs[0]["content"], list(headers.items()))
        filename = move._get_invoice_report_filename(extension="zip")
        content = _build_zip_from_data(docs)
        return request.make_response(content, _get_headers(filename, "zip", content))
