from odoo import api, fields, models
from odoo.tools import SQL


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

    _move_uniq = models.Constraint("UNIQUE(move_id)", "An invoice has one place in its chain.")

    COLUMNS = {"dunning_level_id": "level_id", "dunning_due_date": "due_date",
               "dunning_last_date": "last_date", "dunning_remind_reason": "remind_reason"}

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
