from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools.mimetypes import guess_mimetype

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
