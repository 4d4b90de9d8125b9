from odoo import api, models

from odoo.addons.base.models.ir_actions_report import _wkhtml


class ReportDunningLetter(models.AbstractModel):
    """Values of the reminder letter. wkhtmltopdf builds without Odoo's patched Qt (Debian's,
    for one) draw web fonts as shapes, glyph by glyph: about ten times the CPU, PDFs of a
    megabyte per letter and no text to select or search. There the letter uses a font
    installed on the server, which they embed as real text."""

    _name = "report.dunning_chain.report_dunning_letter"
    _description = "Dunning Reminder Letter"

    @api.model
    def _get_report_values(self, docids, data=None):
        return {
            "doc_ids": docids,
            "doc_model": "dunning.communication",
            "docs": self.env["dunning.communication"].browse(docids),
            "dunning_local_font": not _wkhtml().is_patched_qt,
        }
