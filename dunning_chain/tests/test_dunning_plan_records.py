from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningPlanRecords(DunningCommon):
    """The planner writes its messages in bulk (one COPY per batch, not the ORM's create): the
    records must be the ones create() would have made, field by field."""

    def _plan_and_capture(self, day):
        """Plan on ``day``; returns (the planned records, the values the planner wrote)."""
        Model = type(self.Comm)
        original = Model._dunning_insert_planned
        written = []

        def spy(model, vals_list, **kwargs):
            written.extend(dict(vals) for vals in vals_list)
            return original(model, vals_list, **kwargs)

        with patch.object(Model, "_dunning_insert_planned", spy), \
                freeze_time(f"{day.isoformat()} 10:00:00"):
            planned = self.env["dunning.plan"]._dunning_plan()
        return planned, written

    def test_bulk_records_equal_what_create_makes(self):
        # one invoice at each step of the shipped chain: e-mail, call, letter, certified
        # letter with its e-mail, hand-off (the steps with stored computed fields included)
        invoices = self.env["account.move"].union(*(
            self._invoice(self.START - timedelta(days=days), amount=100.0 + days)
            for days in (7, 15, 30, 45, 60)))
        self.policy.grouping = "invoice"
        planned, written = self._plan_and_capture(self.START)
        self.assertEqual(len(planned), len(written))
        self.assertEqual(set(planned.mapped("channel")),
                         {"email", "call", "letter", "certified", "handoff"})
        twins = self.Comm.with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True,
        ).create(written)
        stored = [name for name, field in self.Comm._fields.items()
                  if field.store and field.column_type
                  and name not in ("id", "name", "create_date", "write_date")]
        for comm, twin in zip(planned, twins):
            mine, theirs = comm.read(stored)[0], twin.read(stored)[0]
            mine.pop("id"), theirs.pop("id")
            self.assertEqual(mine, theirs, f"{comm.channel} written in bulk differs")
            self.assertEqual(comm.name, f"DUN/2026/{comm.id:06d}")
            self.assertEqual(twin.name, f"DUN/2026/{twin.id:06d}")
        # the records hold their invoices and read as planned in the views
        self.assertEqual(planned.line_ids.move_id, invoices)
        self.assertEqual(len(planned.line_ids), 6)  # the certified letter and its e-mail
        self.assertTrue(all(planned.mapped("scheduled_local")))
        self.assertEqual(planned.create_uid, self.env.user)

    def test_bulk_records_are_checked_like_create(self):
        """What create() refuses, the bulk path refuses too (sent records, sender fields)."""
        invoice = self._invoice(self.START - timedelta(days=7))
        planned, written = self._plan_and_capture(self.START)
        self.assertEqual(planned.line_ids.move_id, invoice)
        Comm = self.Comm
        with self.assertRaisesRegex(UserError, "created planned"):
            Comm._dunning_insert_planned([dict(written[0], state="sent")])
        with self.assertRaisesRegex(UserError, "written by sending"):
            Comm._dunning_insert_planned([dict(written[0], subject="Pay now")])
        with self.assertRaises(ValueError):
            Comm._dunning_insert_planned([dict(written[0], invoice_count=3)])
