from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.bulk import writing


class DunningMoveState(models.Model):
    """Where an invoice stands in its chain: the level reached, for which due date, when it was
    last reminded. Bookkeeping of the run, kept off ``account_move`` on purpose: the planner
    moves thousands of invoices at once, and a narrow table takes that in a fraction of the
    time an UPDATE of the widest table of the database (and of its many indexes) needs. Read
    it through the ``dunning_*`` fields of the invoice; write it with
    ``account.move._dunning_set_state``."""

    _name = "dunning.move.state"
    _description = "Invoice's Place in the Dunning Chain"
    _log_access = False
    _rec_name = "move_id"

    move_id = fields.Many2one("account.move", required=True, ondelete="cascade", readonly=True)
    level_id = fields.Many2one("dunning.level", ondelete="set null", readonly=True,
                               index="btree_not_null")
    due_date = fields.Date(readonly=True)
    last_date = fields.Datetime(readonly=True)
    remind_reason = fields.Char(readonly=True)
    # the failed-payment episode: an online payment did not go through (set by
    # account.move._dunning_on_payment_failed, ended by a payment or after its last step); while
    # it lasts the invoice follows the company's failed-payment policy, not its overdue chain
    payment_failed_at = fields.Datetime(readonly=True, index="btree_not_null")
    payment_failed_reason = fields.Char(readonly=True)
    payment_failed_level_id = fields.Many2one("dunning.level", ondelete="set null", readonly=True)
    payment_retried_at = fields.Datetime(readonly=True)
    # paid by a payment: where it stood in the chain, kept should the payment come back
    # (a returned direct debit, a charge-back: _dunning_unpark puts it back there)
    paid_at = fields.Datetime(readonly=True, index="btree_not_null")
    paid_level_id = fields.Many2one("dunning.level", ondelete="set null", readonly=True)
    paid_due_date = fields.Date(readonly=True)

    _move_uniq = models.Constraint("UNIQUE(move_id)", "An invoice has one place in its chain.")

    COLUMNS = {"dunning_level_id": "level_id", "dunning_due_date": "due_date",
               "dunning_last_date": "last_date", "dunning_remind_reason": "remind_reason",
               "dunning_payment_failed_at": "payment_failed_at",
               "dunning_payment_failed_reason": "payment_failed_reason",
               "dunning_payment_failed_level_id": "payment_failed_level_id",
               "dunning_payment_retried_at": "payment_retried_at",
               "dunning_paid_at": "paid_at"}

    @api.model
    def _dunning_upsert(self, move_ids, values):
        """Set these columns (invoice field names) for these invoices, in one statement."""
        columns = [SQL.identifier(self.COLUMNS[name]) for name in values]
        self.env.cr.execute(SQL(
            """INSERT INTO dunning_move_state (move_id, %(columns)s)
               SELECT move_id, %(values)s FROM unnest(%(ids)s::int4[]) AS move_id
               ON CONFLICT (move_id) DO UPDATE SET %(updates)s""",
            columns=SQL(", ").join(columns),
            values=SQL(", ").join(SQL("%s", value) for value in values.values()),
            ids=list(move_ids),
            updates=SQL(", ").join(SQL("%s = EXCLUDED.%s", col, col) for col in columns)))

    @api.model
    def _dunning_upsert_rows(self, names, rows, writer=None, after=None):
        """Set these columns (invoice field names) per invoice, in one statement: ``rows`` of
        (invoice id, value of each column) (the planner moves each invoice to its own level and
        due date). ``writer``: a ``tools.bulk.BulkWriter`` writes them, then calls ``after``."""
        columns = [self.COLUMNS[name] for name in names]
        conflict = SQL("ON CONFLICT (move_id) DO UPDATE SET %s", SQL(", ").join(
            SQL("%s = EXCLUDED.%s", SQL.identifier(col), SQL.identifier(col))
            for col in columns))
        with writing(self.env.cr, writer) as rows_writer:
            rows_writer.insert(self._table, ["move_id", *columns], rows, after=after,
                               conflict=conflict)

    @api.model
    def _dunning_park(self, move_ids, paid_at):
        """Invoices paid by a payment leave the chain: where they stood (level, due date) is
        kept aside with the moment, in one statement."""
        self.env.cr.execute(SQL(
            """UPDATE dunning_move_state
                  SET paid_level_id = level_id, paid_due_date = due_date, paid_at = %(at)s,
                      level_id = NULL, due_date = NULL
                WHERE move_id = ANY(%(ids)s) AND level_id IS NOT NULL""",
            at=paid_at, ids=list(move_ids)))

    @api.model
    def _dunning_unpark(self, move_ids):
        """Invoices whose payment came back go back where they stood when it was received.
        Returns the ids of those that were parked."""
        self.env.cr.execute(SQL(
            """UPDATE dunning_move_state
                  SET level_id = paid_level_id, due_date = paid_due_date, paid_level_id = NULL,
                      paid_due_date = NULL, paid_at = NULL
                WHERE move_id = ANY(%(ids)s) AND paid_at IS NOT NULL
            RETURNING move_id""", ids=list(move_ids)))
        return [row[0] for row in self.env.cr.fetchall()]


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # the planner's way in: the unpaid instalments of open invoices by due date (small: paid
    # lines leave it), so a run costs what is due, not what is open
    _dunning_unpaid_due_idx = models.Index(
        "(date_maturity, move_id) WHERE display_type = 'payment_term' AND NOT reconciled "
        "AND amount_residual > 0")
