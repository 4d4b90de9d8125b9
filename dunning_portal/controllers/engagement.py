"""Engagement of the customer page, per message: the signed link of a sent message names it
(res.partner._dunning_portal_path); every route reached through such a link knows it
(``_dunning_resolve`` keeps it for the request, on the cursor) and logs what the customer did
(dunning.engagement): a visit (once per browser session), Pay clicked (a pay page opened), a
payment started (the transaction names the message; its outcome is logged by the transaction
hooks), a dispute, a promise, a plan request. Links that name no message (sent before, a
staff preview, /my/dunning) log nothing."""
from odoo import http
from odoo.http import request

from odoo.addons.dunning_chain.models.dunning_fact_refresh import LINK_KEY
from odoo.addons.dunning_chain.models.dunning_send import batch_store

from ..models.res_partner import valid_id
from .pay import DunningPortalPay

SESSION_KEY = "dunning_visited_links"
# a browser session remembers at most this many messages (the oldest are forgotten)
SESSION_MAX = 50
ACTIONS = {"dispute": "dispute", "promise": "promise", "instalments": "plan_request"}


class DunningPortalEngagement(DunningPortalPay):

    @staticmethod
    def _dunning_link_comm():
        """The message whose link this request came through (sudo), or an empty recordset."""
        comm_id = batch_store(request.env.cr).get(LINK_KEY)
        return request.env["dunning.communication"].sudo().browse(comm_id or ())

    @staticmethod
    def _dunning_remember_link(partner, company, signature):
        comm = request.env["res.partner"]._dunning_portal_link_communication(
            partner, company, signature)
        batch_store(request.env.cr)[LINK_KEY] = comm.id or None

    def _dunning_resolve(self, partner_id=None, company_id=None, expires=None, signature=None):
        result = super()._dunning_resolve(partner_id, company_id, expires, signature)
        batch_store(request.env.cr).pop(LINK_KEY, None)
        partner, company, _prefix, response = result
        if response is None and partner_id is not None:
            self._dunning_remember_link(partner, company, signature)
        return result

    def _dunning_json_partner(self, partner_id, company_id, expires, signature):
        partner, company = super()._dunning_json_partner(partner_id, company_id, expires,
                                                         signature)
        batch_store(request.env.cr).pop(LINK_KEY, None)
        if partner_id is not None:
            self._dunning_remember_link(partner, company, signature)
        return partner, company

    # ------------------------------------------------------------------ visits
    @http.route()
    def dunning_page(self, partner_id, company_id, expires, signature, done=None, invoice=None,
                     **kw):
        response = super().dunning_page(partner_id, company_id, expires, signature, done=done,
                                        invoice=invoice, **kw)
        comm = self._dunning_link_comm()
        if comm and getattr(response, "status_code", 200) == 200:
            seen = list(request.session.get(SESSION_KEY) or [])
            if comm.id not in seen:
                request.env["dunning.engagement"]._dunning_log(comm, "visit")
                request.session[SESSION_KEY] = (seen + [comm.id])[-SESSION_MAX:]
        return response

    # ------------------------------------------------------------------ pay
    def _dunning_render_payment(self, partner, prefix, moves, amount, transaction_route, **kw):
        response = super()._dunning_render_payment(partner, prefix, moves, amount,
                                                   transaction_route, **kw)
        request.env["dunning.engagement"]._dunning_log(self._dunning_link_comm(), "pay_click",
                                                       moves=moves)
        return response

    # ------------------------------------------------------------------ answers
    def _dunning_action(self, partner_id, company_id, expires, signature, invoice_id, action,
                        done):
        """A dispute, a promise or a plan request made from a message's link: logged for it
        (the facts of disputes and promises are marked by the invoice's own hook, which reads
        the message from the cursor)."""
        response = super()._dunning_action(partner_id, company_id, expires, signature,
                                           invoice_id, action, done)
        comm = self._dunning_link_comm()
        kind = ACTIONS.get(done)
        if comm and kind and getattr(response, "status_code", 0) in (302, 303):
            Move = request.env["account.move"].sudo()
            ids = [invoice_id] if invoice_id is not None else \
                request.httprequest.form.getlist("invoice_ids")
            moves = Move.browse([valid_id(i) for i in ids if valid_id(i)]).exists()
            request.env["dunning.engagement"]._dunning_log(comm, kind, moves=moves)
        batch_store(request.env.cr).pop(LINK_KEY, None)
        return response
