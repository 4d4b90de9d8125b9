from odoo import api, fields, models
from odoo.exceptions import UserError

EVENT_KINDS = [
    ("delivery", "Delivery"),
    ("failure", "Not delivered"),
    ("tracking", "Tracking reference"),
    ("proof", "Proof"),
    ("call", "Call outcome"),
    ("case", "Agency case"),
]


class DunningCommunicationEvent(models.Model):
    """What was learnt about a sent communication after it left (delivery, bounce, tracking
    reference, proof document, the outcome of a call, the agency's progress), appended in order and chained to the communication's seal: it is part
    of the record and never changes."""

    _name = "dunning.communication.event"
    _description = "Dunning Communication Event"
    _order = "id"
    _log_access = False

    communication_id = fields.Many2one("dunning.communication", required=True, readonly=True,
                                       index=True, ondelete="restrict")
    company_id = fields.Many2one(related="communication_id.company_id", store=True, index=True)
    at = fields.Datetime(string="When", required=True, readonly=True)
    kind = fields.Selection(EVENT_KINDS, required=True, readonly=True)
    description = fields.Char(readonly=True)
    data = fields.Text(readonly=True, help="What the event recorded, as JSON.")
    previous_hash = fields.Char(readonly=True)
    hash = fields.Char(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("dunning_event_append") or not self.env.su:
            raise UserError(self.env._("Events of the record are appended by the record itself."))
        return super().create(vals_list)

    def write(self, vals):
        raise UserError(self.env._("Events of the record never change."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Events of the record are kept as evidence: they cannot be "
                                   "deleted."))
