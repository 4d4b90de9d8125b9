import base64

from odoo import api, fields, models


class DunningCertifiedPostingWizard(models.TransientModel):
    """Record Posting: a certified letter / burofax was handed to the post."""

    _name = "dunning.certified.posting.wizard"
    _description = "Record the posting of a certified letter"

    communication_id = fields.Many2one("dunning.communication", required=True, readonly=True,
                                       ondelete="cascade")
    partner_id = fields.Many2one(related="communication_id.partner_id")
    tracking_reference = fields.Char(
        required=True, compute="_compute_tracking_reference", store=True, readonly=False,
        help="The reference the post gave for the certified letter or burofax.")
    posted_on = fields.Date(string="Posted On", required=True,
                            default=fields.Date.context_today)

    @api.depends("communication_id")
    def _compute_tracking_reference(self):
        for wizard in self:
            wizard.tracking_reference = wizard.communication_id.tracking_reference

    def action_confirm(self):
        self.ensure_one()
        self.communication_id._dunning_certified_post(self.tracking_reference, self.posted_on)
        return {"type": "ir.actions.act_window_close"}


class DunningCertifiedResultWizard(models.TransientModel):
    """Record Delivery Result: delivered (with the proof), returned or refused."""

    _name = "dunning.certified.result.wizard"
    _description = "Record the delivery result of a certified letter"

    communication_id = fields.Many2one("dunning.communication", required=True, readonly=True,
                                       ondelete="cascade")
    partner_id = fields.Many2one(related="communication_id.partner_id")
    tracking_reference = fields.Char(related="communication_id.tracking_reference")
    result = fields.Selection([("delivered", "Delivered"), ("returned", "Returned to sender"),
                               ("refused", "Refused")], required=True, default="delivered")
    result_on = fields.Date(string="On", required=True, default=fields.Date.context_today)
    proof_file = fields.Binary(string="Proof of Delivery", attachment=False,
                               help="The proof the post gave (PDF or image): required when "
                                    "delivered; for a returned or refused letter, the notice.")
    proof_filename = fields.Char()

    def action_confirm(self):
        self.ensure_one()
        raw = base64.b64decode(self.proof_file) if self.proof_file else None
        self.communication_id._dunning_certified_result(self.result, self.result_on, raw,
                                                        self.proof_filename)
        return {"type": "ir.actions.act_window_close"}


class DunningProofWizard(models.TransientModel):
    """Add Proof: a document proving what happened to a sent communication."""

    _name = "dunning.proof.wizard"
    _description = "Add a proof document to a sent communication"

    communication_id = fields.Many2one("dunning.communication", required=True, readonly=True,
                                       ondelete="cascade")
    proof_file = fields.Binary(string="File", required=True, attachment=False)
    proof_filename = fields.Char()
    description = fields.Char(
        required=True, help="What the document proves, e.g. 'Receipt signed by the customer'.")

    def action_confirm(self):
        self.ensure_one()
        self.communication_id._dunning_add_proof(base64.b64decode(self.proof_file),
                                                 self.proof_filename, self.description)
        return {"type": "ir.actions.act_window_close"}
