from odoo import api, fields, models
from odoo.exceptions import ValidationError

# The channels of this addon. Another addon adds one by extending the selection of
# ``dunning.level.channel.channel`` and ``dunning.communication.channel`` (selection_add) and
# defining ``dunning.communication._dunning_send_<channel>``.
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
    activity_user_id = fields.Many2one(
        "res.users", string="Assign To",
        help="For calls, certified letters and hand-offs: who gets the task. Default: the "
             "customer's salesperson, else the policy's collector.",
    )
    handoff_partner_id = fields.Many2one(
        "res.partner", string="Agency / Lawyer",
        help="Collection agency or lawyer the debt is handed to.",
    )

    @api.constrains("channel", "mail_template_id")
    def _check_template(self):
        for line in self:
            if line.channel == "email" and not line.mail_template_id:
                raise ValidationError(self.env._(
                    "The e-mail channel of level '%s' needs an e-mail template.", line.level_id.name))
