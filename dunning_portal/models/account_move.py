from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError

DISPUTE_CATEGORIES = [
    ("not_received", "Not received"),
    ("wrong_amount", "Wrong amount"),
    ("quality", "Quality problem"),
    ("already_paid", "Already paid"),
    ("other", "Other"),
]
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class AccountMove(models.Model):
    _inherit = "account.move"

    dunning_dispute_category = fields.Selection(
        DISPUTE_CATEGORIES, string="Dispute Reason", copy=False, tracking=True)

    def _dunning_customer_link(self):
        """The customer's signed dunning page (no login needed)."""
        self.ensure_one()
        return self.commercial_partner_id._dunning_portal_url(self.company_id)

    def _dunning_portal_open_domain(self, partner):
        """Open customer invoices of a commercial partner, as the portal page lists them."""
        return [("commercial_partner_id", "=", partner.id), ("state", "=", "posted"),
                ("move_type", "=", "out_invoice"),
                ("payment_state", "in", ("not_paid", "partial"))]

    def _dunning_portal_days_late(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        due = self.invoice_date_due
        return max(0, (today - due).days) if due else 0

    def _dunning_portal_customer_post(self, partner, since_message_id, attachment=None):
        """The message just posted by the core (a dispute, a promise) becomes the customer's:
        authored by them, carrying their attachment."""
        self.ensure_one()
        messages = self.env["mail.message"].sudo().search([
            ("model", "=", self._name), ("res_id", "=", self.id), ("id", ">", since_message_id),
            ("body", "!=", False), ("tracking_value_ids", "=", False),
        ], order="id desc", limit=1)
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
        if attachment_data and len(attachment_data) > MAX_ATTACHMENT_BYTES:
            raise UserError(self.env._(
                "The attachment is too large (%(size)s MB): the limit is %(max)s MB.",
                size=round(len(attachment_data) / 1024 / 1024, 1),
                max=MAX_ATTACHMENT_BYTES // 1024 // 1024))
        if self.dunning_dispute_state == "open":
            raise UserError(self.env._("Invoice %s is already disputed: we are looking into it.",
                                       self.name))
        last = self.env["mail.message"].sudo().search([], order="id desc", limit=1).id or 0
        self._dunning_dispute(f"{categories[category]}: {message}")
        self.dunning_dispute_category = category
        attachment = None
        if attachment_data:
            attachment = self.env["ir.attachment"].sudo().create({
                "name": attachment_name or "attachment", "raw": attachment_data,
                "res_model": self._name, "res_id": self.id,
            })
        if partner:
            self._dunning_portal_customer_post(partner, last, attachment)

    def _dunning_portal_promise(self, promise_date, note="", partner=None):
        """A promise from the customer's page: the core pauses the chain until the date; the
        collector gets a reminder to check the payment on that date."""
        self.ensure_one()
        if self.dunning_dispute_state == "open":
            raise UserError(self.env._("Invoice %s is disputed: no promise is needed while we "
                                       "look into it.", self.name))
        today = fields.Date.context_today(self)
        if (self.dunning_promise_state == "open" and self.dunning_promise_date
                and self.dunning_promise_date >= today):
            raise UserError(self.env._(
                "You already promised to pay invoice %(invoice)s on %(date)s: please contact us "
                "to change the date.", invoice=self.name, date=self.dunning_promise_date))
        last = self.env["mail.message"].sudo().search([], order="id desc", limit=1).id or 0
        self._dunning_promise(promise_date, note)
        if partner:
            self._dunning_portal_customer_post(partner, last)
        self.activity_schedule(
            "mail.mail_activity_data_todo", date_deadline=promise_date + timedelta(days=1),
            user_id=self._dunning_responsible().id, summary=self.env._("Check the payment promised for %s", promise_date),
            note=note or "")
