from collections import namedtuple

from odoo import api, fields, models
from odoo.exceptions import ValidationError

#: What the core needs to know of a channel (see _dunning_channel_traits):
#: - mail_template: "required" / "optional" / False: the level's e-mail template it sends
#: - letter: it renders the letter report (PDF)
#: - task: its record is a task for staff (the customer sees that it happened, not its text)
#: - notification: the mail.notification type that tells its delivery ("email", ...)
#: - cap_field: the policy's field with its maximum per customer in 7 days
ChannelTraits = namedtuple("ChannelTraits", ["mail_template", "letter", "task", "notification",
                                             "cap_field"], defaults=[False, False, False, None, None])

# The channels of this addon. Another addon adds one with ``selection_add`` on this field (the
# communication's channel takes its selection from here), its traits in
# ``_dunning_channel_traits`` and ``dunning.communication._dunning_send_<channel>`` (see
# dunning_send.py for what it returns).
CHANNELS = [
    ("email", "E-mail"),
    ("letter", "Letter (PDF)"),
    ("call", "Phone call"),
    ("certified", "Certified letter / burofax"),
    ("handoff", "Hand-off (agency / lawyer)"),
]


class DunningLevelChannel(models.Model):
    _name = "dunning.level.channel"
    _description = "Dunning Level Channel"
    _order = "level_id, sequence, id"

    sequence = fields.Integer(default=10)
    level_id = fields.Many2one("dunning.level", required=True, ondelete="cascade", index=True)
    channel = fields.Selection(CHANNELS, required=True, default="email")
    mail_template_id = fields.Many2one(
        "mail.template", string="E-mail Template",
        domain=[("model", "=", "dunning.communication")],
        help="The message sent by e-mail; for letters, the covering e-mail (optional).",
    )
    attach_invoices = fields.Boolean(
        string="Attach Invoices", help="Attach the PDF of every invoice the message covers.")
    attach_statement = fields.Boolean(
        string="Attach the statement of account (PDF)",
        help="Attach the customer's statement of account with the company: every open "
             "invoice and credit note, the charges applied, the payments of the last 90 days, "
             "the totals and aging per currency and how to pay. For e-mails and the covering "
             "e-mail of letters; kept with the message like its other attachments.")
    activity_user_id = fields.Many2one(
        "res.users", string="Assign To",
        help="For calls, certified letters and hand-offs: who gets the task. Default: the "
             "customer's salesperson, else the policy's collector.",
    )
    handoff_partner_id = fields.Many2one(
        "res.partner", string="Agency / Lawyer",
        help="Collection agency or lawyer the debt is handed to.",
    )

    @api.model
    def _dunning_channel_traits(self):
        """{channel: ChannelTraits} of every channel (an addon adding a channel adds its own)."""
        return {
            "email": ChannelTraits(mail_template="required", notification="email",
                                   cap_field="cap_email"),
            "letter": ChannelTraits(mail_template="optional", letter=True, notification="email"),
            "call": ChannelTraits(task=True, cap_field="cap_call"),
            "certified": ChannelTraits(letter=True, task=True),
            "handoff": ChannelTraits(letter=True, task=True),
        }

    @api.model
    def _dunning_traits_of(self, channel):
        return self._dunning_channel_traits().get(channel) or ChannelTraits()

    @api.constrains("channel", "mail_template_id")
    def _check_template(self):
        for line in self:
            if (self._dunning_traits_of(line.channel).mail_template == "required"
                    and not line.mail_template_id):
                raise ValidationError(self.env._(
                    "The e-mail channel of level '%s' needs an e-mail template.", line.level_id.name))
