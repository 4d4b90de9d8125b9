from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# what a file is: an attachment of a sent communication keeps it (its checksum is sealed)
CONTENT_FIELDS = {"datas", "raw", "db_datas", "store_fname", "checksum", "url", "type"}


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _dunning_sealed(self):
        """The attachments of these that a sent communication carries (part of its seal)."""
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
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def write(self, vals):
        if CONTENT_FIELDS.intersection(vals) and self._dunning_sealed():
            raise UserError(self.env._("This file was sent to a customer by a dunning "
                                       "communication: it is part of the record and cannot be "
                                       "changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_dunning_evidence(self):
        sealed = self._dunning_sealed()
        if sealed:
            raise UserError(self.env._(
                "%s was sent to a customer by a dunning communication: it is part of the record "
                "and cannot be deleted.", ", ".join(sealed.mapped("name"))))
