"""The planner's records (part of ``dunning.plan``): the plans decided by ``_compute_plans``
written as planned ``dunning.communication`` rows with their invoice lines, and the invoices'
places in their chains moved on.

A first run on a large ledger plans tens of thousands of messages: they are written by
batches, each in one statement for the messages, one for their lines and one for the invoices'
places, not one ORM ``create`` per batch (which costs about a millisecond per message: its
defaults, precomputes, company checks and cache). PostgreSQL writes a batch (mostly checking
its foreign keys) while Python works out the next one (``tools.bulk.BulkWriter``, on the
run's own connection and transaction). ``dunning.communication._dunning_insert_planned``
writes what ``create`` would (its checks on planned values, the defaults, the reference, the
bookkeeping columns); ``test_dunning_plan_records.py`` compares the two field by field.
"""
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, float_round

from ..tools.bulk import BulkWriter, writing
from .dunning_plan import PLAN_BATCH

#: Columns the ORM fills itself on create
LOG_COLUMNS = ("create_uid", "create_date", "write_uid", "write_date")


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    @api.model
    def _dunning_insert_planned(self, vals_list, writer=None):
        """Create planned communications from plain column values (no x2many), as ``create``
        does, in one statement: the values checked as ``create`` checks them, the defaults of the
        fields not given, the reference DUN/YYYY/000123 from the id. The stored computed fields
        (call desk, certified letter) are empty for a planned record; the caller keeps the
        values consistent (the customer, policy and level of the company): the planner takes
        them from the company's own invoices and policies. Returns the records (their ids are
        taken at once).

        ``writer``: a ``tools.bulk.BulkWriter``: the rows are written by it (in the background
        of the caller's next batch) and the records' access is checked once they are."""
        if not vals_list:
            return self.browse()
        self.check_access("create")
        self._dunning_check_planned_values(vals_list)
        given = sorted({name for vals in vals_list for name in vals})
        wrong = [name for name in given if not self._fields[name].column_type
                 or not self._fields[name].store
                 or (self._fields[name].compute and self._fields[name].readonly)]
        if wrong:
            raise ValueError(f"not plain column values of a planned communication: {wrong}")
        missing = [name for name, field in self._fields.items()
                   if field.store and field.column_type and not field.compute
                   and name not in given and name not in LOG_COLUMNS and name != "id"]
        defaults = self.default_get(missing)
        columns = ["id", *LOG_COLUMNS, *(name for name in given if name != "name"),
                   *(name for name in defaults if name not in given and name != "name"),
                   "name"]
        cr = self.env.cr
        self.flush_model()
        cr.execute(SQL("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                       "FROM generate_series(1, %s)", self._table, len(vals_list)))
        ids = [row[0] for row in cr.fetchall()]
        now, uid = cr.now(), self.env.uid
        currencies = {}

        def monetary(field):
            currency_field = field.get_currency_field(self)

            def convert(vals, value):
                currency_id = vals.get(currency_field)
                if not value or not currency_id:
                    return value or None
                if currency_id not in currencies:
                    currencies[currency_id] = self.env["res.currency"].browse(
                        currency_id).rounding
                return float_round(value, precision_rounding=currencies[currency_id])
            return convert

        def plain(field):
            # the column value of what the planner gives: ids, strings, dates and datetimes
            # (False is NULL, as the ORM writes it; a boolean stays a boolean)
            if field.type == "boolean":
                return lambda vals, value: bool(value)
            if field.type in ("many2one", "integer", "char", "text", "selection", "date",
                              "datetime", "float"):
                return lambda vals, value: None if value is False else value
            return lambda vals, value: field.convert_to_column(value, self, vals) \
                if value not in (None, False) else None

        converters = [(name, monetary(self._fields[name]) if self._fields[name].type == "monetary"
                       else plain(self._fields[name])) for name in columns[5:-1]]

        def rows():
            for comm_id, vals in zip(ids, vals_list):
                name = vals.get("name")
                if name in (None, False, "/"):
                    name = f"DUN/{now.year}/{comm_id:06d}"
                yield [comm_id, uid, now, uid, now,
                       *(convert(vals, vals[col] if col in vals else defaults.get(col))
                         for col, convert in converters), name]

        comms = self.browse(ids)
        with writing(cr, writer) as rows_writer:
            rows_writer.insert(self._table, columns, rows(),
                               after=lambda: comms.check_access("create"))
        return comms


class DunningPlanRecords(models.AbstractModel):
    _inherit = "dunning.plan"

    @api.model
    def _dunning_create_planned(self, plans, today):
        broken, reminded = [], []
        # from the start of the minute: a message allowed now is due in this very run
        now = fields.Datetime.now().replace(second=0, microsecond=0)
        planning = {}
        failed_levels = defaultdict(list)
        comm_ids = []
        # written by batches: the memory of a run stays that of a batch, however many messages
        # (a first run on a large ledger plans tens of thousands); the records written go
        # straight to the database (nothing of them in the cache), the customers' values read
        # once for the run stay in it
        steps = {}  # (level id, company id): what the loop needs of them, as plain values
        # PostgreSQL writes a batch (and checks its foreign keys) while Python works out the
        # next one (tools/bulk.py): nothing in the loop reads back what the batches write
        with BulkWriter(self.env.cr) as writer:
            for start in range(0, len(plans), PLAN_BATCH):
                vals_list = []
                move_levels = defaultdict(list)  # the batch's invoices: their new places
                for partner, company, policy, level, entries, refused in \
                        plans[start:start + PLAN_BATCH]:
                    if (level.id, company.id) not in steps:
                        steps[level.id, company.id] = (
                            "to_review" if level._needs_review() else "scheduled",
                            policy.kind == "failed_payment", level.count_from == "due",
                            company.currency_id.id)
                    state, failed_step, chain_step, currency_id = steps[level.id, company.id]
                    reason = "\n".join(f"{e.candidate.name}: {e.why}" for e in entries)
                    lines = []
                    for entry in entries:
                        c = entry.candidate
                        # the columns of dunning.communication.line's INSERT_COLUMNS after the
                        # communication's id
                        lines.append((c.move_id, c.level_id or None, c.due_date, c.currency_id,
                                      c.total, c.residual, c.overdue, c.residual_company,
                                      c.reference or None, True))
                        if failed_step:
                            # a step of the episode: the invoice keeps its place in its chain
                            failed_levels[level.id].append(c.move_id)
                            continue
                        if not chain_step:
                            continue  # a one-off step (invoice issued): the message is its record
                        move_levels[(level.id, c.due_date)].append(c.move_id)
                        if (c.promise_state == "open" and c.promise_date
                                and c.promise_date < today):
                            broken.append(c.move_id)
                        if c.remind_reason:
                            reminded.append(c.move_id)
                    amount = sum(e.candidate.residual_company for e in entries)
                    # the channels the customer refused stay out (dunning_plan_customer.py)
                    channels, left_out = self._dunning_plan_channels(partner, level, planning,
                                                                     refused)
                    if left_out:
                        reason = f"{reason}\n{left_out}"
                    for channel_id, channel, template_id in self._dunning_memo(
                            planning, ("channels", channels), lambda: [
                                (line.id, line.channel, line.mail_template_id.id)
                                for line in channels]):
                        scheduled_at, tz, why_then = self._dunning_plan_moment(
                            partner, company, policy, channel, now, planning)
                        vals_list.append({
                            "company_id": company.id,
                            "currency_id": currency_id,
                            "partner_id": partner.id,
                            "policy_id": policy.id,
                            "level_id": level.id,
                            "channel": channel,
                            "channel_config_id": channel_id,
                            "mail_template_id": template_id,
                            "state": state,
                            "scheduled_at": scheduled_at,
                            "partner_tz": tz,
                            "schedule_reason": why_then,
                            "reason": reason,
                            "amount_total": amount,
                            "line_ids": lines,
                        })
                # planned records log nothing in their chatter (sending them does): written as
                # create() would, in one statement (above)
                line_lists = [vals.pop("line_ids") for vals in vals_list]
                comms = self.env["dunning.communication"]._dunning_insert_planned(
                    vals_list, writer=writer)
                self.env["dunning.communication.line"]._dunning_insert(
                    [(comm_id, *line) for comm_id, lines in zip(comms.ids, line_lists)
                     for line in lines], writer=writer)
                self.env["account.move"]._dunning_set_states(
                    ["dunning_level_id", "dunning_due_date"],
                    [(move_id, level_id, due) for (level_id, due), move_ids
                     in move_levels.items() for move_id in move_ids], writer=writer)
                comm_ids += comms.ids
        comms = self.env["dunning.communication"].browse(comm_ids)
        comms.invalidate_recordset(["line_ids"])
        Move = self.env["account.move"]
        for level_id, move_ids in failed_levels.items():
            Move.browse(move_ids)._dunning_set_state(dunning_payment_failed_level_id=level_id)
        Move.browse(broken)._dunning_on_promise_broken()
        Move.browse(reminded)._dunning_set_state(dunning_remind_reason=None)
        return comms
