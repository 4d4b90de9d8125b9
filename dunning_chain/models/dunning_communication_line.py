from odoo import api, fields, models

from ..tools.bulk import writing


class DunningCommunicationLine(models.Model):
    """An invoice covered by a communication, with its amounts at the moment it was sent."""

    _name = "dunning.communication.line"
    _description = "Dunning Communication Invoice"
    _order = "due_date, id"
    # written in bulk by the planner (one row per invoice and channel): no per-row bookkeeping
    # columns and foreign keys beyond what the record needs (the communication has its own log)
    _log_access = False

    communication_id = fields.Many2one("dunning.communication", required=True,
                                       ondelete="cascade", index=True)
    company_id = fields.Many2one(related="communication_id.company_id")
    # an invoice that was reminded cannot take its record with it when deleted
    move_id = fields.Many2one("account.move", string="Invoice", required=True, ondelete="restrict",
                              index=True)
    previous_level_id = fields.Many2one("dunning.level", ondelete="set null",
                                        help="The invoice's level before this step was planned.")
    invoice_date = fields.Date(related="move_id.invoice_date")
    due_date = fields.Date(help="Due date of the oldest unpaid instalment when planned.")
    days_overdue = fields.Integer(compute="_compute_days_overdue")
    currency_id = fields.Many2one("res.currency", readonly=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    amount_total = fields.Monetary(string="Invoice Total", currency_field="currency_id")
    amount_residual = fields.Monetary(string="Amount Due", currency_field="currency_id")
    amount_overdue = fields.Monetary(string="Overdue", currency_field="currency_id",
                                     help="Instalments already due.")
    amount_residual_company = fields.Monetary(string="Amount Due (company currency)",
                                              currency_field="company_currency_id")
    payment_reference = fields.Char()
    is_open = fields.Boolean(default=True, help="Still unpaid when last checked.")

    @api.model_create_multi
    def create(self, vals_list):
        comm_ids = {vals.get("communication_id") for vals in vals_list}
        self.env["dunning.communication"].browse(comm_ids - {None, False})._dunning_check_lines_open()
        return super().create(vals_list)

    def write(self, vals):
        self.communication_id._dunning_check_lines_open()
        if "communication_id" in vals:
            self.env["dunning.communication"].browse(vals["communication_id"])._dunning_check_lines_open()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sent(self):
        self.communication_id._dunning_check_lines_open()

    @api.depends("due_date", "communication_id.sent_at", "communication_id.scheduled_at")
    def _compute_days_overdue(self):
        today = fields.Date.context_today(self)
        for line in self:
            ref = line.communication_id.sent_at or line.communication_id.scheduled_at
            ref_date = ref.date() if ref else today
            line.days_overdue = (ref_date - line.due_date).days if line.due_date else 0

    #: the columns of _dunning_insert's rows, in order
    INSERT_COLUMNS = ("communication_id", "move_id", "previous_level_id", "due_date",
                      "currency_id", "amount_total", "amount_residual", "amount_overdue",
                      "amount_residual_company", "payment_reference", "is_open")

    @api.model
    def _dunning_insert(self, rows, writer=None):
        """Create many lines at once (the planner writes one per invoice and channel): a COPY,
        which PostgreSQL takes in far less time than an INSERT of as many rows. ``rows``:
        tuples of plain column values in the order of INSERT_COLUMNS (None for NULL); nothing
        is computed. ``writer``: a ``tools.bulk.BulkWriter`` writes them instead."""
        if rows:
            self.flush_model()
            with writing(self.env.cr, writer) as rows_writer:
                rows_writer.insert(self._table, self.INSERT_COLUMNS, rows)

    @api.model
    def _dunning_amounts(self, move, today):
        """The invoice's amounts now (a partial payment lowers what is asked)."""
        overdue = sum(line.amount_residual_currency for line in move.line_ids
                      if line.display_type == "payment_term" and not line.reconciled
                      and line.date_maturity and line.date_maturity <= today)
        return {
            "currency_id": move.currency_id.id,
            "amount_total": move.amount_total,
            "amount_residual": move.amount_residual,
            "amount_overdue": overdue,
            "amount_residual_company": move.amount_residual_signed,
            "payment_reference": move.payment_reference or move.name,
            "is_open": move._dunning_is_open() and not move.currency_id.is_zero(move.amount_residual),
        }

    def _dunning_refresh_amounts(self):
        """Take the invoices' current amounts, writing only what changed."""
        today = fields.Date.context_today(self)
        for line in self:
            values = self._dunning_amounts(line.move_id, today)
            changed = {k: v for k, v in values.items()
                       if (line[k].id if k == "currency_id" else line[k]) != v}
            if changed:
                line.write(changed)
