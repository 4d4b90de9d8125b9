from datetime import date, timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.service import model as rpc
from odoo.tests import HttpCase, freeze_time, new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningInsight(DunningCommon):
    """Effectiveness facts: which step and channel got paid, refreshed for the rows concerned
    only; the dashboard's DSO and CEI."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Fact = cls.env["dunning.fact"]

    def _facts(self, invoice):
        self.env.cr.flush()  # what the end of the transaction does: pending refreshes run
        return self.Fact.search([("move_id", "=", invoice.id)], order="sent_at, id")

    def _fact(self, invoice, offset):
        return self._facts(invoice).filtered(lambda f: f.level_id == self.levels[offset])

    def _chain(self, invoice, *offsets, due=None):
        for offset in offsets:
            self._run((due or self.START) + timedelta(days=offset))

    # ------------------------------------------------------------------ worked examples
    def test_paid_two_days_after_the_first_email_counts_for_it_within_3_days(self):
        invoice = self._invoice(self.START, amount=1000.0)
        self._chain(invoice, 0, 7)
        self._pay(invoice, day=self.START + timedelta(days=9))
        first = self._fact(invoice, 7)
        self.assertEqual((first.channel, first.amount_asked), ("email", 1000.0))
        self.assertEqual((first.paid_3, first.paid_7, first.paid_30), (1000.0, 1000.0, 1000.0))
        self.assertEqual((first.recovery_3, first.days_to_pay), (100.0, 2))
        self.assertEqual(first.paid_on, self.START + timedelta(days=9))
        # sent on Monday 9 March at 10:00 UTC: 11:00 in Madrid, the customer's time
        self.assertEqual((first.sent_weekday, first.sent_hour), ("0", "11"))
        due_today = self._fact(invoice, 0)
        self.assertEqual(due_today.next_step_date, self.START + timedelta(days=7))
        self.assertEqual(due_today.paid_30, 0.0, "the next step closed its window")
        self.assertEqual(due_today.days_to_pay, 9)
        # the pivot, by step and channel, within 3 days
        groups = dict(((level, channel), rate) for level, channel, rate in self.Fact._read_group(
            [("move_id", "=", invoice.id)], ["level_id", "channel"], ["recovery_3:avg"]))
        self.assertEqual(groups[(self.levels[7], "email")], 100.0)
        self.assertEqual(groups[(self.levels[0], "email")], 0.0)

    def test_the_customer_rating_when_sent(self):
        """Facts keep the customer's payer rating of the moment the message left."""
        self.env["dunning.payer.rating"].sudo().create({
            "partner_id": self.customer.id, "company_id": self.env.company.id, "rating": "B"})
        invoice = self._invoice(self.START, amount=100.0)
        self._chain(invoice, 0)
        self.assertEqual(self._fact(invoice, 0).payer_rating, "B")
        by_rating = dict(self.Fact._read_group([("move_id", "=", invoice.id)], ["payer_rating"],
                                               ["amount_asked:sum"]))
        self.assertEqual(by_rating, {"B": 100.0})

    def test_the_customer_segment_when_sent(self):
        """Facts keep the first of the customer's segments when the message left (pivot by
        segment); a customer in none has none."""
        self.env["dunning.payer.rating"].sudo().create({
            "partner_id": self.customer.id, "company_id": self.env.company.id, "rating": "C"})
        Segment = self.env["dunning.segment"]
        Segment.create({"name": "Japan", "sequence": 5,
                        "country_ids": [Command.link(self.env.ref("base.jp").id)]})
        needs_calls = Segment.create({"name": "Needs calls", "sequence": 10, "rating_c": True})
        Segment.create({"name": "Late payers", "sequence": 20, "rating_c": True,
                        "rating_d": True})
        invoice = self._invoice(self.START, amount=100.0)
        self._chain(invoice, 0)
        self.assertEqual(self._fact(invoice, 0).segment_id, needs_calls)
        by_segment = dict(self.Fact._read_group([("move_id", "=", invoice.id)], ["segment_id"],
                                                ["amount_asked:sum"]))
        self.assertEqual(by_segment, {needs_calls: 100.0})
        # out of every segment: no segment on the next step's fact
        self.env["dunning.payer.rating"].sudo().search(
            [("partner_id", "=", self.customer.id)]).rating = "A"
        self._chain(invoice, 7)
        self.assertFalse(self._fact(invoice, 7).segment_id)

    def test_paid_after_a_call_counts_for_the_call(self):
        invoice = self._invoice(self.START, amount=800.0)
        self._chain(invoice, 0, 7, 15)
        self._pay(invoice, day=self.START + timedelta(days=16))
        call, email = self._fact(invoice, 15), self._fact(invoice, 7)
        self.assertEqual(call.channel, "call")
        self.assertEqual((call.paid_3, call.recovery_3, call.days_to_pay), (800.0, 100.0, 1))
        self.assertEqual((email.paid_30, email.days_to_pay), (0.0, 9))
        by_channel = dict(self.Fact._read_group([("move_id", "=", invoice.id)], ["channel"],
                                                ["paid_30:sum"]))
        self.assertEqual(by_channel, {"call": 800.0, "email": 0.0})

    def test_partial_payment_and_a_payment_before_the_message(self):
        invoice = self._invoice(self.START, amount=1000.0)
        self._chain(invoice, 0)
        self._pay(invoice, amount=300.0, day=self.START + timedelta(days=5))
        self._chain(invoice, 7)
        self._pay(invoice, amount=200.0, day=self.START + timedelta(days=20))
        first = self._fact(invoice, 7)
        self.assertEqual(first.amount_asked, 700.0, "what was still owed when it left")
        self.assertEqual((first.paid_7, first.paid_14, first.paid_30), (0.0, 200.0, 200.0))
        self.assertEqual(first.recovery_14, 28.57)
        self.assertFalse(first.paid_on, "not fully paid")
        self.assertEqual(self._fact(invoice, 0).paid_7, 300.0)

    def test_group_measures_are_ratios_of_sums_medians_and_distinct_customers(self):
        """The pivot's recovery rate is Σ paid / Σ asked (not an average of rows), days to pay
        the median, customers who paid a share of distinct customers."""
        paid_soon = self._invoice(self.START, amount=1000.0)
        unpaid = self._invoice(self.START, amount=3000.0, partner=self.customer2)
        paid_late = self._invoice(self.START, amount=500.0)
        self._chain(paid_soon, 0)
        self._pay(paid_soon, day=self.START + timedelta(days=2))
        self._pay(paid_late, day=self.START + timedelta(days=6))
        facts = self._facts(paid_soon) | self._facts(unpaid) | self._facts(paid_late)
        self.assertEqual(len(facts), 3, "one row per invoice of the +0 messages")
        result = self.Fact.formatted_read_group(
            [("id", "in", facts.ids)], [], ["recovery_3:avg", "recovery_7:avg",
                                            "days_to_pay:avg", "customers_paid:avg"])[0]
        self.assertEqual(result["recovery_3:avg"], 22.2)  # 1000 / 4500
        self.assertEqual(result["recovery_7:avg"], 33.3)  # 1500 / 4500
        self.assertEqual(result["days_to_pay:avg"], 4.0)  # median of 2 and 6
        self.assertEqual(result["customers_paid:avg"], 50.0)  # 1 of 2 customers

    def test_dispute_and_promise_count_for_the_step_they_followed(self):
        disputed = self._invoice(self.START, amount=400.0)
        promised = self._invoice(self.START, amount=600.0, partner=self.customer2)
        self._chain(disputed, 0, 7)
        with freeze_time(self.START + timedelta(days=8)):
            disputed._dunning_dispute("Goods damaged")
            promised._dunning_promise(self.START + timedelta(days=20))
        self.assertEqual(self._fact(disputed, 7).disputed, 1)
        self.assertEqual(self._fact(disputed, 0).disputed, 0)
        self.assertEqual(self._fact(promised, 7).promised, 1)

    # ------------------------------------------------------------------ incremental
    def test_a_payment_refreshes_only_that_invoice_rows(self):
        invoices = [self._invoice(self.START, amount=100.0 * (i + 1),
                                  partner=(self.customer, self.customer2)[i % 2])
                    for i in range(4)]
        self._chain(invoices[0], 0, 7)
        self.env.cr.flush()
        before = dict(self.Fact.search([]).mapped(lambda f: (f.id, f.refreshed_at)))
        self.assertEqual(len(before), 8)
        calls = []
        refresh = type(self.Fact)._dunning_fact_refresh

        def spy(model, move_ids):
            written = refresh(model, move_ids)
            calls.append((sorted(move_ids), written))
            return written

        with patch.object(type(self.Fact), "_dunning_fact_refresh", spy), \
                freeze_time(self.START + timedelta(days=8)):
            self._pay(invoices[2], day=self.START + timedelta(days=8))
            self.env.cr.flush()
        own = self._facts(invoices[2])
        self.assertEqual(len(own), 2)
        self.assertEqual([(ids, sorted(written)) for ids, written in calls],
                         [([invoices[2].id], own.sorted("id").ids)],
                         "one refresh, of that invoice's rows only")
        self.assertFalse([f for f in self.Fact.search([("id", "not in", own.ids)])
                          if f.refreshed_at != before[f.id]], "no other row written")

    def test_unreconciling_takes_the_payment_back(self):
        invoice = self._invoice(self.START, amount=500.0)
        self._chain(invoice, 0)
        payment = self._pay(invoice, day=self.START + timedelta(days=1))
        self.assertEqual(self._fact(invoice, 0).paid_3, 500.0)
        payment.move_id.line_ids.remove_move_reconcile()
        fact = self._fact(invoice, 0)
        self.assertEqual((fact.paid_3, fact.days_to_pay, fact.paid_on), (0.0, 0, False))

    def test_a_credit_note_is_not_a_payment(self):
        invoice = self._invoice(self.START, amount=500.0)
        self._chain(invoice, 0)
        with freeze_time(self.START + timedelta(days=1)):
            reversal = invoice._reverse_moves([{"invoice_date": self.START + timedelta(days=1)}])
            reversal.action_post()  # matched with the invoice on posting
        self.assertEqual(invoice.payment_state, "reversed")
        fact = self._fact(invoice, 0)
        self.assertEqual((fact.paid_30, fact.paid_on), (0.0, False))

    def test_nightly_backfill_adds_rows_of_messages_sent_before(self):
        invoice = self._invoice(self.START, amount=250.0)
        self._chain(invoice, 0, 7)
        self._pay(invoice, day=self.START + timedelta(days=8))
        self.assertEqual(len(self._facts(invoice)), 2)
        self.env.cr.execute("DELETE FROM dunning_fact")
        self.env.invalidate_all()
        with self.enter_registry_test_mode():
            self.env.ref("dunning_chain.ir_cron_dunning_fact_backfill").method_direct_trigger()
        facts = self._facts(invoice)
        self.assertEqual(len(facts), 2)
        self.assertEqual(self._fact(invoice, 7).paid_3, 250.0)

    # ------------------------------------------------------------------ DSO and CEI
    def test_dso_and_cei_worked_example(self):
        """December: invoice A (1,000, due 31 Dec). January: invoice B (2,000, due 4 Feb) and
        C (500, due 20 Jan), A paid 600 on 15 Jan; C paid on 3 Feb (after the month).
        Beginning receivables 1,000; credit sales 2,500; ending 2,900 of which 2,000 current
        (B): DSO = 2,900 / 2,500 × 31 = 35.96; CEI = (1,000 + 2,500 − 2,900) /
        (1,000 + 2,500 − 2,000) × 100 = 40 %; overdue on 31 Jan: 400 (A) + 500 (C)."""
        def invoice(day, due, amount):
            move = self._create_invoice_one_line(
                price_unit=amount, partner_id=self.customer.id, invoice_date=day, tax_ids=[],
                invoice_payment_term_id=False)
            move.invoice_date_due = due
            move.action_post()
            return move

        a = invoice(date(2025, 12, 10), date(2025, 12, 31), 1000.0)
        b = invoice(date(2026, 1, 5), date(2026, 2, 4), 2000.0)
        c = invoice(date(2026, 1, 10), date(2026, 1, 20), 500.0)
        self.assertEqual((a.date, b.date, c.date), (date(2025, 12, 10), date(2026, 1, 5),
                                                    date(2026, 1, 10)))
        self._pay(a, amount=600.0, day=date(2026, 1, 15))
        self._pay(c, day=date(2026, 2, 3))
        dec, jan = self.env["dunning.insight"]._dunning_months(
            self.env.company, date(2026, 1, 31), 2)
        self.assertEqual((dec["ar_end"], dec["sales"], dec["dso"]), (1000.0, 1000.0, 31.0))
        self.assertEqual((jan["ar_begin"], jan["sales"], jan["ar_end"], jan["current"]),
                         (1000.0, 2500.0, 2900.0, 2000.0))
        self.assertEqual((jan["dso"], jan["cei"], jan["overdue"]), (36.0, 40.0, 900.0))
        # the running month ends today: February up to the 3rd, C paid
        feb = self.env["dunning.insight"]._dunning_months(self.env.company, date(2026, 2, 3), 1)[0]
        self.assertEqual((feb["days"], feb["sales"], feb["ar_end"]), (3, 0.0, 2400.0))
        self.assertIsNone(feb["dso"], "no sales: no DSO")

    def test_dashboard_figures(self):
        invoice = self._invoice(self.START, amount=1500.0)
        self._chain(invoice, 0, 7)
        self._pay(invoice, amount=500.0, day=self.START + timedelta(days=10))
        self.env.cr.flush()
        with freeze_time(self.START + timedelta(days=20)):
            data = self.env["dunning.insight"].dunning_dashboard_data()
        self.assertEqual(len(data["months"]), 12)
        running = data["months"][-1]
        self.assertIn("(to date)", running["label"])
        self.assertEqual((running["dso"], running["cei"]), (None, None),
                         "a month of a few days has no DSO or CEI on the chart")
        self.assertIsNotNone(running["overdue"])
        self.assertEqual(data["top"][0]["partner_id"], self.customer.id)
        self.assertIn("E-mail", data["top"][0]["last_channel"])
        first = next(row for row in data["levels"] if row["level"] == self.levels[7].name)
        self.assertEqual((first["asked"], first["recovered"], first["rate"]),
                         (1500.0, 500.0, 33.3))
        due_day = next(row for row in data["levels"] if row["level"] == self.levels[0].name)
        self.assertEqual((due_day["recovered"], due_day["median_days"]), (0.0, None),
                         "nothing recovered after a step: no days to pay ('–'), not 0")
        self.assertEqual(data["kpi"]["recovered_rate"], 0.0, "no step sent 30 days ago or more")

    # ------------------------------------------------------------------ rights
    def test_rights(self):
        invoice = self._invoice(self.START)
        self._chain(invoice, 0)
        fact = self._facts(invoice)
        billing = new_test_user(self.env, login="ins_billing", groups="account.group_account_invoice")
        portal = new_test_user(self.env, login="ins_portal", groups="base.group_portal")
        employee = new_test_user(self.env, login="ins_employee", groups="base.group_user")
        collector = new_test_user(self.env, login="ins_user", groups="dunning_chain.group_dunning_user")
        for user in (billing, portal, employee):
            with self.assertRaises(AccessError):
                self.Fact.with_user(user).search([])
            with self.assertRaises(AccessError):
                self.env["dunning.insight"].with_user(user).dunning_dashboard_data()
            env = self.env(user=user.id, context={})
            with self.assertRaises(AccessError, msg=f"{user.login} dashboard over RPC"):
                rpc.call_kw(env["dunning.insight"], "dunning_dashboard_data", [], {})
            # the fact refresh flushed as superuser is no RPC entry point
            with self.assertRaises(AccessError, msg=f"{user.login} flush_model over RPC"):
                rpc.call_kw(env["dunning.fact"], "flush_model", [[]], {})
        self.assertEqual(self.Fact.with_user(collector).search([("move_id", "=", invoice.id)]), fact)
        self.assertTrue(self.env["dunning.insight"].with_user(collector).dunning_dashboard_data())
        with self.assertRaises(AccessError):
            fact.with_user(collector).write({"paid_3": 5})
        with self.assertRaises(AccessError):
            fact.with_user(collector).unlink()
        # another company's collector sees none of it
        other = self.setup_other_company()["company"]
        collector_b = new_test_user(
            self.env, login="ins_user_b", groups="dunning_chain.group_dunning_user",
            company_id=other.id, company_ids=[Command.set(other.ids)])
        self.assertFalse(self.Fact.with_user(collector_b).search([]))


@tagged("post_install", "-at_install")
class TestDunningInsightTour(HttpCase):
    """In a real browser: the dashboard reads in a minute, and opens the analysis behind it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        admin = cls.env.ref("base.user_admin")
        admin.group_ids = [Command.link(cls.env.ref("dunning_chain.group_dunning_user").id)]
        policy = cls.env.ref("dunning_chain.policy_default")
        level = cls.env["dunning.level"].create({
            "name": "Tour Insight Step", "policy_id": policy.id, "offset_days": 9})
        customer = cls.env["res.partner"].create({
            "name": "Tour Insight Customer", "email": "ap@tourinsight.example.com",
            "is_company": True, "tz": "Europe/Madrid"})
        today = fields.Date.context_today(cls.env["account.move"])
        invoice = cls.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": customer.id,
            "invoice_date": today - timedelta(days=40),
            "invoice_line_ids": [Command.create({"name": "Service", "quantity": 1,
                                                 "price_unit": 1600.0, "tax_ids": []})],
        })
        invoice.invoice_date_due = today - timedelta(days=10)
        invoice.action_post()
        comm = cls.env["dunning.communication"].create({
            "partner_id": customer.id, "policy_id": policy.id, "level_id": level.id,
            "channel": "email", "company_id": invoice.company_id.id,
            "scheduled_at": fields.Datetime.now()})
        cls.env["dunning.communication.line"].create(dict(
            cls.env["dunning.communication.line"]._dunning_amounts(invoice, today),
            communication_id=comm.id, move_id=invoice.id, due_date=invoice.invoice_date_due))
        cls.env["dunning.send"]._dunning_mark_sent(comm, {})
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids).create(
            {"amount": 600.0, "payment_date": today})._create_payments()

    def test_dashboard(self):
        self.start_tour("/odoo/action-dunning_chain.action_dunning_insight_dashboard",
                        "dunning_insight_dashboard_tour", login="admin")
