"""Proof documents of sent communications: a signed receipt, a proof of delivery, a validated
delivery... The file is kept as an attachment of the communication and a "proof" event of the
record seals what it was: its SHA-256 (of the file's bytes, not ir.attachment's SHA-1 checksum),
name, type and size. Nobody changes or deletes it through Odoo (ir_attachment.py); a file changed
or removed behind Odoo's back shows when the record is verified (_dunning_proof_problems).
"""
import hashlib
import json

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import human_size

PROOF_FIELDS = {"proof_event_ids"}


def _sha256(raw):
    return hashlib.sha256(raw or b"").hexdigest()


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    proof_event_ids = fields.One2many(
        "dunning.communication.event", "communication_id", string="Proofs", readonly=True,
        domain=[("kind", "=", "proof")],
        help="Proof documents recorded after sending (signed receipts, proofs of delivery...). "
             "The SHA-256 of each file is sealed in the record: Verify Record reports a file "
             "that changed or disappeared.")

    @api.model
    def _dunning_sender_fields(self):
        return super()._dunning_sender_fields() | PROOF_FIELDS

    def action_dunning_add_proof(self):
        """Open "Add Proof" (file and description) for a sent communication."""
        self._dunning_check_collector()
        self._dunning_check_sent_for_proof()
        return self._dunning_wizard_action("dunning.proof.wizard", self.env._("Add Proof"))

    def _dunning_check_sent_for_proof(self):
        self.ensure_one()
        if self.state != "sent":
            labels = dict(self._fields["state"]._description_selection(self.env))
            raise UserError(self.env._(
                "%(name)s is %(state)s: only a sent communication carries proof documents.",
                name=self.name, state=labels[self.state].lower()))

    def _dunning_add_proof(self, raw, name, description):
        """Keep ``raw`` (bytes) as a proof document of this sent communication and seal it in
        the record. Returns the attachment."""
        self._dunning_check_collector()
        self._dunning_check_sent_for_proof()
        if not raw:
            raise UserError(self.env._("The proof document is empty."))
        name = (name or "").strip() or self.env._("Proof")
        description = (description or "").strip()
        attachment = self.env["ir.attachment"].create({
            "name": name, "raw": raw, "description": description,
            "res_model": self._name, "res_id": self.id,
        })
        data = {"attachment_id": attachment.id, "name": name, "checksum": _sha256(raw),
                "algorithm": "sha256", "mimetype": attachment.mimetype, "size": len(raw),
                "description": description}
        words = self.env._("Proof: %(name)s", name=name)
        if description:
            words = self.env._("Proof: %(name)s (%(description)s)", name=name,
                               description=description)
        self._dunning_record_event("proof", words, data)
        self.message_post(body=Markup("<p>%s</p>") % self.env._(
            "%(what)s. Added to the record with its SHA-256: %(checksum)s", what=words,
            checksum=data["checksum"]), subtype_xmlid="mail.mt_note")
        return attachment

    def _dunning_proof_data(self):
        """[(event, data)] of the proof events of these communications, in order."""
        events = self.sudo().event_ids.filtered(lambda e: e.kind == "proof").sorted("id")
        return [(event, json.loads(event.data or "{}")) for event in events]

    def _dunning_proofs(self):
        """The proof attachments of these communications, in the order they were recorded
        (the agency case file and the evidence bundle take them from here)."""
        ids = [data["attachment_id"] for _event, data in self._dunning_proof_data()
               if data.get("attachment_id")]
        return self.env["ir.attachment"].browse(ids).exists()

    def _dunning_proof_problems(self):
        """Problem codes of this communication's proof documents: a file that is gone
        (proof_missing) or whose bytes no longer have the sealed SHA-256 (proof_changed)."""
        self.ensure_one()
        problems = []
        Attachment = self.env["ir.attachment"].sudo()
        for _event, data in self._dunning_proof_data():
            if not data.get("attachment_id"):
                continue
            attachment = Attachment.browse(data["attachment_id"]).exists()
            if not attachment:
                problems.append("proof_missing")
            elif _sha256(attachment.raw) != data.get("checksum"):
                problems.append("proof_changed")
        return list(dict.fromkeys(problems))


class DunningCommunicationEvent(models.Model):
    _inherit = "dunning.communication.event"

    # the attachments sealed as proofs (ir_attachment.py looks them up on every file change)
    _proof_idx = models.Index("(id) WHERE kind = 'proof'")

    proof_attachment_id = fields.Many2one("ir.attachment", string="File",
                                          compute="_compute_proof")
    proof_name = fields.Char(string="Document", compute="_compute_proof")
    proof_checksum = fields.Char(string="SHA-256", compute="_compute_proof")
    proof_size = fields.Char(string="Size", compute="_compute_proof")

    @api.depends("kind", "data")
    def _compute_proof(self):
        Attachment = self.env["ir.attachment"]
        for event in self:
            data = json.loads(event.data or "{}") if event.kind == "proof" else {}
            event.proof_attachment_id = Attachment.browse(data.get("attachment_id")).exists() \
                if data.get("attachment_id") else False
            event.proof_name = data.get("name", False)
            event.proof_checksum = data.get("checksum", False)
            event.proof_size = human_size(data["size"]) if data.get("size") else False

    def action_dunning_download_proof(self):
        """Download the file of a proof event (whoever may read the communication)."""
        self.ensure_one()
        self.check_access("read")
        self.communication_id.check_access("read")
        attachment = self.proof_attachment_id
        if self.kind != "proof" or not attachment:
            raise UserError(self.env._("This proof document is no longer in the database: "
                                       "verify the record."))
        return {"type": "ir.actions.act_url", "target": "self",
                "url": f"/web/content/{attachment.id}?download=true"}
