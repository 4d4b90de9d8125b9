"""What we tell the customer holds: a promise, a dispute, an exclusion or a pause takes the
invoice out of every message already planned for it."""
from datetime import timedelta

import lxml.html

from odoo.tests import freeze_time, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningWithdraw(DunningCommon):

    def _plan_evening(self, day):
        """Plan at 20:00: the messages wait for the next morning's window."""
        with freeze_time(f"{day.isoformat()} 20:00:00"):
            self.env["dunning.plan"]._dunning_thank_paid()
            return self.env["dunning.plan"]._dunning_plan()

    def test_promise_cancels_the_planned_call(self):
        invoice = self._invoice(self.START)
        for offset in (0, 7):
            self._run(self.START + timedelta(days=offset))
        call_day = self.START + timedelta(days=15)
        planned = self._plan_evening(call_day)
        self.assertEqual(planned.channel, "call")
        self.assertEqual(planned.state, "scheduled")
        self.assertEqual(invoice.dunning_level_id, self.levels[15])
        with freeze_time(f"{call_day.isoformat()} 20:30:00"):
            invoice._dunning_promise(call_day + timedelta(days=10), "paying on the 10th")
        self.assertEqual(planned.state, "cancelled")
        self.assertIn(invoice.name, planned.failure_reason)
        self.assertIn("promised", planned.failure_reason)
        self.assertEqual(invoice.dunning_level_id, self.levels[7], "back where it stood")
        # the next morning nothing leaves, and no activity asks anyone to call
        self._run(call_day + timedelta(days=1), hour=9)
        self.assertFalse(self._comms(state="sent", channel="call"))
        self.assertFalse(self.customer.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref(
                "dunning_chain.mail_activity_type_dunning_call")))

    def test_debt_summary_goes_out_without_the_disputed_invoice(self):
        kept = self._invoice(self.START, amount=500.0)
        disputed = self._invoice(self.START, amount=700.0)
        self._run(self.START)
        planned = self._plan_evening(self.START + timedelta(days=7))
        self.assertEqual(planned.invoice_ids, kept | disputed)
        disputed._dunning_dispute("Goods never arrived")
        self.assertEqual(planned.state, "scheduled")
        self.assertEqual(planned.invoice_ids, kept)
        self.assertEqual(planned.amount_total, 500.0)
        self._run(self.START + timedelta(days=8), hour=10)
        self.assertEqual(planned.state, "sent")
        self.assertEqual(planned.line_ids.move_id, kept)
        # the summary lists the customer's whole account: the disputed invoice is there as
        # on hold, not among the invoices the message is about (highlighted)
        rows = {" ".join(row.text_content().split()): "background-color:#fff4ce" in
                (row.get("style") or "").replace(" ", "")
                for row in lxml.html.fromstring(planned.body).xpath("//table[1]//tr[td]")}
        self.assertTrue(rows[next(text for text in rows if kept.name in text)])
        disputed_row = next(text for text in rows if disputed.name in text)
        self.assertFalse(rows[disputed_row])
        self.assertIn("(in dispute: on hold)", disputed_row)

    def test_rejected_dispute_resumes_with_a_new_plan(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        stale = self._plan_evening(self.START + timedelta(days=7))
        invoice._dunning_dispute("Wrong amount")
        self.assertEqual(stale.state, "cancelled")
        with freeze_time(f"{(self.START + timedelta(days=9)).isoformat()} 10:00:00"):
            invoice._dunning_resolve_dispute(False, "The amount is right", notify=False)
        self._run(self.START + timedelta(days=9))
        fresh = self._comms(state="sent", level_id=self.levels[7].id)
        self.assertTrue(fresh)
        self.assertNotEqual(fresh, stale, "a new plan, not the stale one")
        self.assertEqual(stale.state, "cancelled")

    def test_exclusion_and_pause_withdraw_and_the_sender_rechecks(self):
        excluded = self._invoice(self.START, amount=100.0)
        paused = self._invoice(self.START, amount=200.0)
        self._run(self.START)
        planned = self._plan_evening(self.START + timedelta(days=7))
        self.assertEqual(planned.invoice_ids, excluded | paused)
        excluded.write({"dunning_excluded": True, "dunning_exclusion_reason": "Settled by phone"})
        self.assertEqual(planned.invoice_ids, paused)
        # a pause written behind the ORM's back (an import, a script): the sender re-checks
        # every invoice under the lock before sending
        self.env.cr.execute("UPDATE account_move SET dunning_paused_until = %s WHERE id = %s",
                            [self.START + timedelta(days=30), paused.id])
        self.env.invalidate_all()
        self._run(self.START + timedelta(days=8), hour=10)
        self.assertEqual(planned.state, "cancelled")
        self.assertIn("paused", planned.failure_reason)
        self.assertFalse(self._comms(state="sent", level_id=self.levels[7].id))
