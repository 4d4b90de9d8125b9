from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# what a file is: an attachment of a sent communication keeps it (its checksum is sealed)
CONTENT_FIELDS = {"datas", "raw", "db_datas", "store_fname", "checksum", "url", "type"}


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _dunning_sealed(self):
        """The attachments of these that a sent communication carries (part of its seal) or
        that a proof event of the record names."""
        if not self.ids:
            return self.browse()
        field = self.env["dunning.communication"]._fields["attachment_ids"]
        self.env["dunning.communication"].flush_model(["attachment_ids", "state"])
        self.env.cr.execute(SQL(
            """SELECT DISTINCT rel.%(att)s FROM %(rel)s rel
                 JOIN dunning_communication c ON c.id = rel.%(comm)s
                WHERE c.state = 'sent' AND rel.%(att)s = ANY(%(ids)s)""",
            att=SQL.identifier(field.column2), comm=SQL.identifier(field.column1),
            rel=SQL.identifier(field.relation), ids=self.ids))
        sealed = {row[0] for row in self.env.cr.fetchall()}
        return self.browse(sorted(sealed | self._dunning_proof_ids()))

    def _dunning_proof_ids(self):
        """The ids of these attachments that a proof event of the record names (their
        SHA-256 is sealed: dunning_proof.py)."""
        self.env["dunning.communication.event"].flush_model(["kind", "data"])
        self.env.cr.execute(SQL(
            """SELECT DISTINCT (e.data::jsonb ->> 'attachment_id')::int
                 FROM dunning_communication_event e
                WHERE e.kind = 'proof' AND e.data::jsonb ->> 'attachment_id' = ANY(%(ids)s)""",
            ids=[str(att_id) for att_id in self.ids]))
        return {row[0] for row in self.env.cr.fetchall()}

    def write(self, vals):
        if CONTENT_FIELDS.intersection(vals) and self._dunning_sealed():
            raise UserError(self.env._("This file was sent to a customer by a dunning "
                                       "communication, or recorded as a proof of one: it is "
                                       "part of the record and cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_dunning_evidence(self):
        sealed = self._dunning_sealed()
        if sealed:
            raise UserError(self.env._(
                "%s was sent to a customer by a dunning communication, or recorded as a proof of "
                "one: it is part of the record and cannot be deleted.",
                ", ".join(sealed.mapped("name"))))
