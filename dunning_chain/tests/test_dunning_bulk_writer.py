import threading
from datetime import date, datetime

import psycopg2.errors

from odoo.exceptions import AccessError
from odoo.service import model as rpc
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from ..tools.bulk import BulkWriter, copy_rows

COLUMNS = ["communication_id", "move_id", "previous_level_id", "due_date", "currency_id",
           "amount_total", "amount_residual", "amount_overdue", "amount_residual_company",
           "payment_reference", "is_open"]


@tagged("post_install", "-at_install")
class TestDunningBulkWriter(TransactionCase):
    """The planner's batches are written in a thread of their own on the transaction's
    connection while it works out the next ones (tools/bulk.py): the rows must be those a COPY
    writes, in the caller's transaction, and a failed statement must stop the run with its own
    error, not with the errors it causes in the caller's queries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Zoë O'Brien \"Bulk\""})
        cls.level = cls.env.ref("dunning_chain.policy_default").level_ids[:1]
        cls.move = cls.env["account.move"].create({"move_type": "entry"})
        cls.currency = cls.env.company.currency_id

    def _communication(self):
        return self.env["dunning.communication"].create({
            "partner_id": self.partner.id, "policy_id": self.level.policy_id.id,
            "level_id": self.level.id, "channel": "email"})

    def _rows(self, comm, count):
        # what the planner writes: ids, NULLs, a date, amounts, text with quotes, commas, a
        # backslash, a new line and letters beyond ASCII, booleans
        return [(comm.id, self.move.id, self.level.id if i % 2 else None,
                 date(2026, 12, 1 + i % 28), self.currency.id, 1234.56 + i, 0.1 + 0.2,
                 -0.0 if i == 3 else 99.99, 1e-2, f'INV/2026/{i:05d}, "Zoë" \\ line\nnext',
                 i % 3 != 0) for i in range(count)]

    def _stored(self, comm):
        self.env.flush_all()
        self.env.cr.execute(SQL(
            "SELECT %s FROM dunning_communication_line WHERE communication_id = %s ORDER BY id",
            SQL(", ").join(SQL.identifier(c) for c in COLUMNS[1:]), comm.id))
        return self.env.cr.fetchall()

    def test_rows_written_as_copy_writes_them(self):
        by_copy, by_writer = self._communication(), self._communication()
        copy_rows(self.env.cr, "dunning_communication_line", COLUMNS, self._rows(by_copy, 30))
        with BulkWriter(self.env.cr) as writer:
            writer.insert("dunning_communication_line", COLUMNS, self._rows(by_writer, 30))
        self.assertEqual(len(self._stored(by_writer)), 30)
        self.assertEqual(self._stored(by_writer), self._stored(by_copy))
        by_writer.invalidate_recordset(["line_ids"])  # written in SQL
        self.assertIn('INV/2026/00009, "Zoë" \\ line\nnext',
                      by_writer.line_ids.mapped("payment_reference"))

    def test_batches_written_beside_the_callers_queries(self):
        comm = self._communication()
        seen, threads = [], set()

        def written():
            # after the batches are written, in the caller's thread
            threads.add(threading.get_ident())
            seen.append(len(self._stored(comm)))

        with BulkWriter(self.env.cr) as writer:
            for batch in range(20):
                writer.insert("dunning_communication_line", COLUMNS, self._rows(comm, 50),
                              after=written)
                # the caller's own queries (the ORM's too) meanwhile, on the same connection
                self.env.cr.execute("SELECT count(*) FROM res_partner WHERE id = %s",
                                    [self.partner.id])
                self.assertEqual(self.env.cr.fetchone()[0], 1)
                self.env["res.partner"].browse(self.partner.id).invalidate_recordset()
                self.assertIn("Bulk", self.partner.name)
            self.assertLessEqual(len(self._stored(comm)), 1000)
        self.assertEqual(seen, [1000] * 20, "each 'after' runs once everything is written")
        self.assertEqual(threads, {threading.get_ident()})
        # in the caller's transaction: what it rolls back goes
        with self.env.cr.savepoint(flush=False) as savepoint:
            with BulkWriter(self.env.cr) as writer:
                writer.insert("dunning_communication_line", COLUMNS, self._rows(comm, 5))
            self.assertEqual(len(self._stored(comm)), 1005)
            savepoint.rollback()
        self.assertEqual(len(self._stored(comm)), 1000)

    @mute_logger("odoo.sql_db")
    def test_a_failed_statement_stops_the_writer_with_its_own_error(self):
        comm = self._communication()
        good, bad = self._rows(comm, 3), self._rows(comm, 3)
        bad[1] = (comm.id, 2_000_000_000, *bad[1][2:])  # no such invoice
        called = []
        with self.assertRaises(psycopg2.errors.ForeignKeyViolation) as caught, \
                self.env.cr.savepoint():
            with BulkWriter(self.env.cr) as writer:
                writer.insert("dunning_communication_line", COLUMNS, good)
                writer.insert("dunning_communication_line", COLUMNS, bad,
                              after=lambda: called.append(1))
                writer.insert("dunning_communication_line", COLUMNS, good)
                # the caller goes on meanwhile: its next queries fail once the transaction is
                # aborted, with another error than the cause
                for _i in range(50):
                    self.env.cr.execute("SELECT 1")
        self.assertIn("dunning_communication_line_move_id_fkey", str(caught.exception))
        self.assertFalse(called, "nothing runs after a failed statement")
        self.assertEqual(self._stored(comm), [], "rolled back with the caller's savepoint")

    def test_without_background_each_statement_runs_at_once(self):
        comm = self._communication()
        writer = BulkWriter(self.env.cr, background=False)
        writer.insert("dunning_communication_line", COLUMNS, self._rows(comm, 4))
        self.assertEqual(len(self._stored(comm)), 4)
        writer.close()

    def test_planner_moves_its_invoices_in_the_writers_statement(self):
        # the upsert of the invoices' places, as the planner gives it to the writer
        Move = self.env["account.move"]
        moves = Move.create([{"move_type": "entry"} for _i in range(3)])
        moves[0]._dunning_set_state(dunning_last_date=datetime(2026, 11, 2, 9, 30))
        with BulkWriter(self.env.cr) as writer:
            Move._dunning_set_states(["dunning_level_id", "dunning_due_date"], [
                (move.id, self.level.id, date(2026, 11, i + 1)) for i, move in enumerate(moves)
            ], writer=writer)
        self.assertEqual(moves.mapped("dunning_level_id"), self.level)
        self.assertEqual(moves.mapped("dunning_due_date"),
                         [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)])
        self.assertEqual(moves[0].dunning_last_date, datetime(2026, 11, 2, 9, 30),
                         "the other columns of an invoice's place are kept")

    def test_nothing_of_it_is_reachable_over_rpc(self):
        """The writer is a plain class of tools/bulk.py, not a model: its insert / execute /
        wait / close exist on no model; the model methods that hand it rows are private.
        Called the way XML-RPC / JSON-RPC calls (odoo.service.model.call_kw) by a dunning
        manager, the user with the most rights of the addon: refused."""
        manager = new_test_user(self.env, login="bulk_writer_mgr",
                                groups="dunning_chain.group_dunning_manager")
        env = self.env(user=manager.id, context={})
        models = ["dunning.plan", "dunning.communication", "dunning.communication.line",
                  "dunning.move.state", "account.move"]
        for model in models:
            for method in ("insert", "execute", "wait", "close"):
                with self.assertRaisesRegex(AttributeError, "does not exist"):
                    rpc.call_kw(env[model], method, [[]], {})
        private = [("dunning.communication", "_dunning_insert_planned"),
                   ("dunning.communication.line", "_dunning_insert"),
                   ("dunning.move.state", "_dunning_upsert_rows"),
                   ("account.move", "_dunning_set_states"),
                   ("dunning.plan", "_dunning_create_planned")]
        for model, method in private:
            with self.assertRaisesRegex(AccessError, "cannot be called remotely"):
                rpc.call_kw(env[model], method, [[]], {})

    def test_crafted_text_is_a_value_not_sql(self):
        """Every value goes to PostgreSQL as part of one JSON parameter, never in the SQL."""
        comm = self._communication()
        crafted = ["x'); DELETE FROM dunning_communication_line; --",
                   '","move_id":1}]\'); DROP TABLE res_partner; --', "%s %(rows)s {}", "\u0041"]
        rows = [(comm.id, self.move.id, None, date(2026, 12, 1), self.currency.id, 1.0, 1.0,
                 1.0, 1.0, text, True) for text in crafted]
        with BulkWriter(self.env.cr) as writer:
            writer.insert("dunning_communication_line", COLUMNS, rows)
        self.assertEqual(sorted(row[-2] for row in self._stored(comm)), sorted(crafted))
        self.assertTrue(self.env["res.partner"].search_count([]))
