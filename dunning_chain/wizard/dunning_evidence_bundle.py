from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..tools.casefile import sha256


class DunningEvidenceBundle(models.TransientModel):
    """The evidence bundle of a customer (or of some invoices) for the company's lawyer: the
    same PDF and ZIP as an agency's case file (dunning.casefile), built when asked, to
    download. Its files belong to this transient record: only the user who asked reads them,
    and they go when it is vacuumed."""

    _name = "dunning.evidence.bundle"
    _description = "Dunning Evidence Bundle"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    move_ids = fields.Many2many("account.move", string="Invoices", readonly=True,
                                help="Only these invoices' communications (empty: every "
                                     "communication of the customer).")
    pdf_id = fields.Many2one("ir.attachment", string="PDF", readonly=True)
    zip_id = fields.Many2one("ir.attachment", string="ZIP", readonly=True)
    pdf_name = fields.Char(related="pdf_id.name", string="PDF File")
    zip_name = fields.Char(related="zip_id.name", string="ZIP File")
    zip_sha256 = fields.Char(string="ZIP SHA-256", readonly=True)
    communication_count = fields.Integer(string="Communications", readonly=True)
    document_count = fields.Integer(string="Files", readonly=True)
    record_ok = fields.Boolean(string="Record Verified", readonly=True)

    @api.model
    def _dunning_open(self, partner, company, moves=None):
        """Build the bundle and show it (a dialog with its files to download)."""
        self.env["dunning.casefile"]._dunning_check_user()
        bundle = self.create({"partner_id": partner.id, "company_id": company.id,
                              "move_ids": [fields.Command.set(moves.ids if moves else [])]})
        bundle._dunning_build()
        return {
            "type": "ir.actions.act_window", "res_model": self._name, "res_id": bundle.id,
            "view_mode": "form", "target": "new", "name": self.env._("Evidence Bundle"),
        }

    def _dunning_build(self):
        self.ensure_one()
        reference = ", ".join(self.move_ids.mapped("name")) if self.move_ids else None
        built = self.env["dunning.casefile"]._dunning_build(
            self.partner_id, self.company_id, moves=self.move_ids or None,
            title=self.env._("Evidence bundle"), reference=reference)
        Attachment = self.env["ir.attachment"]
        pdf = Attachment.create({
            "name": built["pdf_name"], "raw": built["pdf"], "res_model": self._name,
            "res_id": self.id,
            "mimetype": "application/pdf" if built["pdf_name"].endswith(".pdf") else "text/html"})
        archive = Attachment.create({
            "name": built["zip_name"], "raw": built["zip"], "res_model": self._name,
            "res_id": self.id, "mimetype": "application/zip"})
        record = self.env["dunning.casefile"]._dunning_record_state(
            built["scope"]["partner"], self.company_id, built["scope"]["comms"], "UTC")
        self.write({"pdf_id": pdf.id, "zip_id": archive.id, "zip_sha256": sha256(built["zip"]),
                    "communication_count": len(built["scope"]["comms"]),
                    "document_count": len(built["files"]), "record_ok": record["ok"]})

    def _dunning_download(self, attachment):
        if not (self.env.su or self.env.user.has_group("dunning_chain.group_dunning_user")):
            raise AccessError(self.env._("Only dunning users gather the evidence of a debt."))
        self.ensure_one()
        return {"type": "ir.actions.act_url", "target": "self",
                "url": f"/web/content/{attachment.id}?download=true"}

    def action_download_zip(self):
        return self._dunning_download(self.zip_id)

    def action_download_pdf(self):
        return self._dunning_download(self.pdf_id)
