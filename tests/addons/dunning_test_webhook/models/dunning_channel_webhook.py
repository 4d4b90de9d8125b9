"""A channel in one extension: the level's channel selection, its traits, one sender.

The "webhook" posts the debt to the customer's accounting system. Nothing leaves the machine in
tests: the calls are kept in dunning.test.webhook.call, as a real one would keep its outbox.
"""
import json

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.dunning_chain.models.dunning_level_channel import ChannelTraits


class DunningLevelChannel(models.Model):
    _inherit = "dunning.level.channel"

    channel = fields.Selection(selection_add=[("webhook", "Webhook")],
                               ondelete={"webhook": "cascade"})
    webhook_url = fields.Char(string="Webhook URL")

    def _dunning_channel_traits(self):
        traits = super()._dunning_channel_traits()
        traits["webhook"] = ChannelTraits(cap_field=None)
        return traits


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    def _dunning_send_webhook(self):
        url = self.channel_config_id.webhook_url
        if not url:
            raise UserError(self.env._("The webhook of level '%s' has no URL.", self.level_id.name))
        payload = {
            "customer": self.partner_id.name, "reference": self.name,
            "invoices": [[line.move_id.name, line.amount_residual]
                         for line in self.line_ids.filtered("is_open")],
            "link": self.sudo().customer_url,
        }
        call = self.env["dunning.test.webhook.call"].sudo().create(
            {"url": url, "payload": json.dumps(payload, sort_keys=True), "communication_id": self.id})
        return {"subject": self.env._("Webhook to %s", url), "recipients": url,
                "body": Markup("<pre>%s</pre>") % call.payload, "delivery_state": "delivered"}


class DunningTestWebhookCall(models.Model):
    _name = "dunning.test.webhook.call"
    _description = "Webhook call (test outbox)"

    url = fields.Char()
    payload = fields.Text()
    communication_id = fields.Many2one("dunning.communication")
