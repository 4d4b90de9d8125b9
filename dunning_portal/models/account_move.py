from datetime import timedelta

from odoo import Command, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import format_amount
from odoo.tools.mimetypes import guess_mimetype

from .res_partner import DUNNING_USER

DISPUTE_CATEGORIES = [
    ("not_received", "Not received"),
    ("wrong_amount", "Wrong amount"),
    ("quality", "Quality problem"),
    ("already_paid", "Already paid"),
    ("other", "Other"),
]
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# What a customer may attach to a dispute, recognised by content (not by name or by what the
# browser says): PDF, pictures, office documents, plain text.
DISPUTE_MIMETYPES = {
    "application/pdf",
    "image/png", "image/jpeg", "image/gif", "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/msword", "application/vnd.ms-excel",
    "text/plain",
}
MAX_DISPUTE_MESSAGE = 4000
MAX_NOTE = 1000
MAX_ATTACHMENT_NAME = 200


class AccountMove(models.Model):
    _inherit = "account.move"

    dunning_dispute_category = fields.Selection(
        DISPUTE_CATEGORIES, string="Dispute Reason", copy=False, tracking=True)
    dunning_payment_token_label = fields.Char(
        string="Saved Payment Method", compute="_compute_dunning_payment_token_label",
        groups=DUNNING_USER,
        help="The customer's saved payment method (a card or mandate saved with a payment "
             "provider) that Retry the Charge uses.")

    def _compute_dunning_payment_token_label(self):
        for move in self:
            token = move._dunning_payment_token() if move._origin.id and move._dunning_is_open() \
                else False
            move.dunning_payment_token_label = (
                f"{token.provider_id.name}: {token.display_name}" if token else False)

    # ------------------------------------------------------------------ saved payment methods
    def _dunning_payment_token(self):
        """The customer's saved payment method for this invoice's company (the latest one a
        provider still takes): the commercial partner's or one of its contacts', never another
        customer's."""
        self.ensure_one()
        Token = self.env["payment.token"].sudo()
        return Token.search(
            Domain("partner_id", "child_of", self.commercial_partner_id.id)
            & Token._check_company_domain(self.company_id)
            & Domain("provider_id.state", "in", ("enabled", "test")),
            order="id desc", limit=1)

    def action_dunning_retry_charge(self):
        """Charge the customer's saved payment method again for what each invoice still owes
        (one transaction per invoice, the amount the server's). Dunning users only."""
        if not self.env.user.has_group(DUNNING_USER):
            raise AccessError(self.env._("Only dunning users retry a charge."))
        self.check_access("write")
        txs = self.env["payment.transaction"].sudo()
        for move in self:
            if not move._dunning_is_open() or move.currency_id.is_zero(move.amount_residual):
                raise UserError(self.env._("Invoice %s has nothing left to pay.", move.name))
            if move.sudo().transaction_ids.filtered(
                    lambda tx: tx.state in ("pending", "authorized")
                    and tx.operation == "offline"):
                raise UserError(self.env._(
                    "A charge of invoice %s is already under way: wait for its outcome.",
                    move.name))
            token = move._dunning_payment_token()
            if not token:
                raise UserError(self.env._(
                    "%(customer)s has no saved payment method with %(company)s.",
                    customer=move.commercial_partner_id.display_name,
                    company=move.company_id.name))
            txs |= move._dunning_charge_token(token, self.env._("Retry the Charge by %s",
                                                                self.env.user.name))
        states = dict(txs._fields["state"]._description_selection(self.env))
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success" if all(tx.state != "error" for tx in txs) else "warning",
            "title": self.env._("Charge requested"),
            "message": ", ".join(f"{tx.reference}: {states[tx.state]}" for tx in txs),
            "next": {"type": "ir.actions.client", "tag": "soft_reload"},
        }}

    def _dunning_charge_token(self, token, why):
        """Create and send a charge of this invoice's residual with a saved payment method
        (Odoo's 'offline' operation: the customer is not there), as account_payment does for a
        payment by token. The attempt is recorded; its outcome too, when the provider tells
        (payment.transaction hooks). Returns the transaction."""
        self.ensure_one()
        Tx = self.env["payment.transaction"].sudo()
        tx = Tx.create({
            "provider_id": token.provider_id.id,
            "payment_method_id": token.payment_method_id.id,
            "reference": Tx._compute_reference(token.provider_id.code, prefix=self.name),
            "amount": self.amount_residual,
            "currency_id": self.currency_id.id,
            "partner_id": self.commercial_partner_id.id,
            "token_id": token.id,
            "operation": "offline",
            "invoice_ids": [Command.set(self.ids)],
        })
        self._dunning_log_charge(tx, why)
        tx._charge_with_token()
        if tx.state == "done":
            tx._post_process()
        return tx

    def _dunning_auto_retry(self):
        """The retry step of a failed-payment episode whose policy retries the charge: charge
        the saved payment method once per episode. True when a charge is under way or went
        through (the reminder waits), False when there is nothing to charge, it was tried
        already this episode or it failed at once."""
        self.ensure_one()
        if self.dunning_payment_retried_at or not self._dunning_is_open():
            return False
        token = self._dunning_payment_token()
        if not token:
            return False
        self._dunning_set_state(dunning_payment_retried_at=fields.Datetime.now())
        tx = self._dunning_charge_token(token, self.env._(
            "automatic retry of the failed-payment policy"))
        return tx.state not in ("error", "cancel")

    def _dunning_log_charge(self, tx, why=None):
        """A charge of a saved payment method, as it stands: a note on each invoice and on the
        failed-payment message it follows (if any)."""
        states = dict(tx._fields["state"]._description_selection(self.env))
        body = self.env._(
            "Charge %(tx)s of %(amount)s with the saved payment method %(token)s: "
            "%(state)s%(message)s%(why)s", tx=tx.reference,
            amount=format_amount(self.env, tx.amount, tx.currency_id),
            token=tx.token_id.display_name or "", state=states.get(tx.state, tx.state),
            message=f" ({tx.state_message})" if tx.state_message else "",
            why=f" - {why}" if why else "")
        Line = self.env["dunning.communication.line"].sudo()
        for move in self:
            move._message_log(body=body)
            line = Line.search([("move_id", "=", move.id),
                                ("communication_id.policy_id.kind", "=", "failed_payment"),
                                ("communication_id.state", "=", "sent")],
                               order="id desc", limit=1)
            if line:
                line.communication_id._message_log(body=body)

    def _dunning_customer_link(self):
        """The customer's signed dunning page (no login needed)."""
        self.ensure_one()
        return self.commercial_partner_id._dunning_portal_url(self.company_id)

    def _dunning_portal_open_domain(self, partner, company=None):
        """Open customer invoices of a commercial partner (of one company when given: the
        signed link's), as the portal page lists them."""
        domain = self._dunning_open_domain(partner)
        if company:
            domain.append(("company_id", "=", company.id))
        return domain

    def _dunning_portal_days_late(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        due = self.invoice_date_due
        return max(0, (today - due).days) if due else 0

    def _dunning_portal_customer_post(self, partner, messages, attachment=None):
        """The message the core just posted (a dispute, a promise) becomes the customer's:
        authored by them, carrying their attachment."""
        self.ensure_one()
        messages = messages.sudo()
        vals = {"author_id": partner.id}
        if attachment:
            attachment.sudo().write({"res_model": self._name, "res_id": self.id})
            vals["attachment_ids"] = [fields.Command.link(attachment.id)]
        if messages:
            messages.write(vals)
        elif attachment:
            self.sudo().message_post(author_id=partner.id, attachment_ids=attachment.ids,
                                     body=self.env._("Attachment sent with the dispute."))

    def _dunning_portal_dispute(self, category, message, attachment_name=None,
                                attachment_data=None, partner=None):
        """A dispute from the customer's page: core dispute (pauses the chain, activity for the
        collector, chatter) plus the reason category and the optional attachment."""
        self.ensure_one()
        categories = dict(self._fields["dunning_dispute_category"]._description_selection(self.env))
        if category not in categories:
            raise UserError(self.env._("Choose why you dispute the invoice."))
        message = (message or "").strip()
        if not message:
            raise UserError(self.env._("Tell us what is wrong with the invoice."))
        if len(message) > MAX_DISPUTE_MESSAGE:
            raise UserError(self.env._("Your message is too long: %s characters at most.",
                                       MAX_DISPUTE_MESSAGE))
        mimetype = None
        if attachment_data:
            if len(attachment_data) > MAX_ATTACHMENT_BYTES:
                raise UserError(self.env._(
                    "The attachment is too large (%(size)s MB): the limit is %(max)s MB.",
                    size=round(len(attachment_data) / 1024 / 1024, 1),
                    max=MAX_ATTACHMENT_BYTES // 1024 // 1024))
            mimetype = guess_mimetype(attachment_data)
            if mimetype not in DISPUTE_MIMETYPES:
                raise UserError(self.env._(
                    "We cannot accept this type of file: please send a PDF, a picture (PNG, "
                    "JPEG, GIF, WebP), an office document (Word, Excel, OpenDocument) or plain "
                    "text."))
        if self.dunning_dispute_state == "open":
            raise UserError(self.env._("Invoice %s is already disputed: we are looking into it.",
                                       self.name))
        if self.dunning_dispute_state == "rejected":
            raise UserError(self.env._(
                "We already rejected a dispute about invoice %s and answered you: please "
                "contact us directly if something new came up.", self.name))
        posted = self._dunning_dispute(f"{categories[category]}: {message}")
        self.dunning_dispute_category = category
        attachment = None
        if attachment_data:
            # on the invoice, not public, no access token: the company's users read it (and the
            # customer through their signed page)
            attachment = self.env["ir.attachment"].sudo().create({
                "name": (attachment_name or "attachment")[:MAX_ATTACHMENT_NAME],
                "raw": attachment_data, "mimetype": mimetype,
                "res_model": self._name, "res_id": self.id, "public": False,
            })
        if partner:
            self._dunning_portal_customer_post(partner, posted, attachment)

    def _dunning_portal_promise(self, promise_date, note="", partner=None):
        """A promise from the customer's page: the core pauses the chain until the date; the
        collector gets a reminder to check the payment on that date."""
        self.ensure_one()
        if self.dunning_dispute_state == "open":
            raise UserError(self.env._("Invoice %s is disputed: no promise is needed while we "
                                       "look into it.", self.name))
        if len(note or "") > MAX_NOTE:
            raise UserError(self.env._("Your message is too long: %s characters at most.",
                                       MAX_NOTE))
        if self.dunning_promise_state == "broken":
            raise UserError(self.env._(
                "Your previous promise to pay invoice %s was not kept: please pay it or contact "
                "us to agree on a date.", self.name))
        today = fields.Date.context_today(self)
        if (self.dunning_promise_state == "open" and self.dunning_promise_date
                and self.dunning_promise_date >= today):
            raise UserError(self.env._(
                "You already promised to pay invoice %(invoice)s on %(date)s: please contact us "
                "to change the date.", invoice=self.name, date=self.dunning_promise_date))
        posted = self._dunning_promise(promise_date, note)
        if partner:
            self._dunning_portal_customer_post(partner, posted)
        self.activity_schedule(
            "mail.mail_activity_data_todo", date_deadline=promise_date + timedelta(days=1),
            user_id=self._dunning_responsible().id, summary=self.env._("Check the payment promised for %s", promise_date),
            note=note or "")
