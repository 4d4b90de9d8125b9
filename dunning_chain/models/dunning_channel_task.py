from odoo import fields, models
from odoo.exceptions import UserError


class DunningChannelTask(models.AbstractModel):
    """Channels that are tasks for staff, inherited by dunning.communication: a phone call,
    a certified letter / burofax to post (with the letter), a hand-off to an agency or lawyer
    (with a debt summary). The task goes to the level's assignee, else the customer's
    salesperson, else the policy's collector."""

    _name = "dunning.channel.task"
    _description = "Dunning Channel: Staff Task"

    def _dunning_task_user(self):
        """Who gets a call or posting task; an archived salesperson is a failure to fix."""
        config = self.channel_config_id
        if config.activity_user_id:
            user = config.activity_user_id
        elif self.partner_id.user_id:
            user = self.partner_id.user_id
        else:
            user = self.policy_id.collector_id  # then the customer's responsible, below
        if user and not user.active:
            raise UserError(self.env._(
                "%(user)s, who should handle %(customer)s, is archived: assign another "
                "salesperson or collector.", user=user.name, customer=self.partner_id.display_name))
        return user or self._dunning_responsible_user()

    def _dunning_task(self, activity_xmlid, summary, intro, attachments=None):
        user = self._dunning_task_user()
        body = self.env["ir.qweb"]._render("dunning_chain.dunning_task_note",
                                           {"comm": self, "intro": intro})
        activity = self.partner_id.activity_schedule(
            activity_xmlid, summary=summary, note=body, user_id=user.id,
            date_deadline=fields.Date.context_today(self),
        )
        return {"subject": summary, "body": body, "recipients": user.name,
                "activity_id": activity.id, "delivery_state": "task",
                "attachment_ids": attachments.ids if attachments else []}

    def _dunning_send_call(self):
        return self._dunning_task(
            "mail.mail_activity_data_call",
            self.env._("Call %s about overdue invoices", self.partner_id.display_name),
            self.env._("Please call the customer: the invoices below are overdue."))

    def _dunning_send_certified(self):
        letter = self._dunning_letter_attachment(self.env._("Final notice"))
        return self._dunning_task(
            "mail.mail_activity_data_todo",
            self.env._("Send certified letter to %s", self.partner_id.display_name),
            self.env._("Post the attached letter by certified mail (burofax) with proof of "
                       "delivery, then record the tracking reference on %s.", self.name),
            attachments=letter)

    def _dunning_send_handoff(self):
        summary = self._dunning_letter_attachment(self.env._("Debt summary"))
        agency = self.channel_config_id.handoff_partner_id
        intro = self.env._("Hand the debt over to %s with the attached summary.",
                           agency.display_name) if agency else self.env._(
            "Hand the debt over to the collection agency or lawyer with the attached summary.")
        return self._dunning_task(
            "mail.mail_activity_data_todo",
            self.env._("Hand-off: %s", self.partner_id.display_name), intro, attachments=summary)
