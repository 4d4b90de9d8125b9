import re
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import DunningPortalCommon


@tagged("post_install", "-at_install")
class TestDunningPortalPlans(DunningPortalCommon):
    """After the customer's request: the accountant's answers reach the customer, an approved
    payment plan is followed instalment by instalment, a missed one is reminded at once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_dummy_provider()

    def setUp(self):
        super().setUp()
        self._visit_anonymously()
        self.first = self.today + timedelta(days=7)

    def _approved_plan(self, count=3):
        plan = self.env["dunning.instalment.plan"]._dunning_request(
            self.customer, self.inv_old | self.inv_new, count, self.first, "Tight quarter")
        plan.answer = "Agreed, thank you for telling us."
        plan.action_approve()
        return plan

    def _mails_to_customer(self, record):
        return record.message_ids.filtered(
            lambda m: self.customer in m.partner_ids and m.message_type == "comment")

    # ------------------------------------------------------------------ the plan's schedule
    def test_approval_splits_the_debt_and_tells_the_customer(self):
        plan = self._approved_plan()
        self.assertEqual(plan.state, "approved")
        self.assertAlmostEqual(plan.amount_agreed, 1500.0)
        self.assertEqual(plan.line_ids.mapped("date"), [
            self.first, self.first + relativedelta(months=1), self.first + relativedelta(months=2)])
        self.assertEqual(plan.line_ids.mapped("amount"), [500.0, 500.0, 500.0])
        self.assertEqual(plan.line_ids.mapped("amount_cumulative"), [500.0, 1000.0, 1500.0])
        self.assertEqual(self.inv_old.dunning_paused_until, self.first)
        mail = self._mails_to_customer(plan)
        self.assertEqual(len(mail), 1, "the customer is told")
        self.assertIn("approved", mail.subject)
        self.assertIn("Agreed, thank you", mail.body)
        self.assertIn("500.00", mail.body, "with the schedule")
        # the signed link in the e-mail opens the page with the schedule and the next payment
        link = re.search(r'href="([^"]+/dunning/[^"]+)"', mail.body).group(1)
        page = self.url_open(link).text
        self.assertIn("o_dunning_plan_schedule", page)
        self.assertIn("Pay instalment 1", page)
        self.assertNotIn("o_dunning_promise_form", page, "the plan says when: no promise needed")

    def test_uneven_amount_rounding_goes_to_the_last_instalment(self):
        self.inv_new.button_draft()
        self.inv_new.invoice_line_ids.price_unit = 300.01
        self.inv_new.action_post()
        plan = self._approved_plan()
        self.assertEqual(plan.line_ids.mapped("amount"), [500.0, 500.0, 500.01])
        self.assertAlmostEqual(sum(plan.line_ids.mapped("amount")), plan.amount_agreed)

    def test_refusal_tells_the_customer(self):
        plan = self.env["dunning.instalment.plan"]._dunning_request(
            self.customer, self.inv_old, 2, self.first)
        plan.action_refuse()
        mail = self._mails_to_customer(plan)
        self.assertEqual(len(mail), 1)
        self.assertIn("cannot accept", mail.body)
        self.assertFalse(self.inv_old.dunning_paused_until)

    # ------------------------------------------------------------------ following it
    def test_kept_instalments_keep_the_chain_quiet_until_the_plan_ends(self):
        plan = self._approved_plan(count=2)
        second = self.first + relativedelta(months=1)
        self._pay(self.inv_old, amount=750.0, day=self.first)
        self._run(self.first + timedelta(days=1))
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "pending"])
        self.assertEqual(plan.state, "approved")
        self.assertEqual(self.inv_old.dunning_paused_until, second,
                         "paused until the next instalment")
        self.assertFalse(self._comms(), "no reminder while the plan is kept")
        self.assertTrue(plan.message_ids.filtered(
            lambda m: "Instalment 1 of 2 received" in (m.body or "")))
        self._pay(self.inv_old, amount=450.0, day=second)
        self._pay(self.inv_new, day=second)
        self._run(second + timedelta(days=1))
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "paid"])
        self.assertEqual(plan.state, "done")
        reminders = self._comms().filtered(lambda c: c.kind == "reminder")
        self.assertFalse(reminders, "never reminded: the plan was kept")

    def test_missed_instalment_is_reminded_at_once(self):
        plan = self._approved_plan()
        second = self.first + relativedelta(months=1)
        self._pay(self.inv_old, amount=500.0, day=self.first)
        self._run(self.first + timedelta(days=1))
        self._run(second)
        self.assertFalse(self._comms(), "the second instalment is due today: still in time")
        self._run(second + timedelta(days=1))
        self.assertEqual(plan.state, "broken")
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "missed", "pending"])
        comms = self._comms()
        self.assertTrue(comms, "the next reminder goes at once")
        self.assertEqual(comms.invoice_ids, self.inv_old | self.inv_new)
        self.assertIn("instalment 2 of 3", comms[0].reason)
        self.assertIn("500.00", comms[0].reason)
        self.assertTrue(plan.activity_ids.filtered(lambda a: "not kept" in a.summary))
        self.assertFalse(self.inv_old.dunning_remind_reason, "reminded once, not every hour")
        count = len(comms)
        self._run(second + timedelta(days=1), hour=11)
        self.assertEqual(len(self._comms()), count, "the next hourly run reminds nothing more")

        def missed():
            return self._comms().filtered(lambda c: "instalment 2 of 3" in (c.reason or ""))
        reminded = missed()
        # the next day (the calendar may move an invoice to its next level that day: not this)
        self._run(second + timedelta(days=2))
        self.assertEqual(missed(), reminded, "the missed instalment is reminded once")

    # ------------------------------------------------------------------ paying an instalment
    def test_pay_next_instalment_from_the_page(self):
        plan = self._approved_plan()
        self._pay(self.inv_old, amount=200.0)
        page = self.url_open(self.link).text
        self.assertIn(f"{self.link}/plan/{plan.id}/pay", page)
        res = self.url_open(f"{self.link}/plan/{plan.id}/pay")
        self.assertEqual(res.status_code, 200)
        self.assertIn("300.00", res.text, "what is left of the first instalment")
        result = self.make_jsonrpc_request(f"{self.link}/plan/{plan.id}/transaction",
                                           self._tx_params("PLAN1"))
        tx = self.env["payment.transaction"].sudo().search(
            [("reference", "=", result["reference"])])
        self.assertAlmostEqual(tx.amount, 300.0, msg="the server's amount, not the browser's")
        self.assertEqual(tx.invoice_ids, self.inv_old | self.inv_new)
        # another customer cannot pay (or see) this plan
        other = self._link(self.customer2)
        self.assertEqual(self.url_open(f"{other}/plan/{plan.id}/pay").status_code, 404)
        with self.assertRaises(JsonRpcException), mute_logger("odoo.http"):
            self.make_jsonrpc_request(f"{other}/plan/{plan.id}/transaction",
                                      self._tx_params("PLAN2"))

    # ------------------------------------------------------------------ disputes answered
    def test_dispute_answer_shows_on_the_page_through_the_mailed_link(self):
        self.inv_old._dunning_dispute("Wrong quantity")
        self.inv_old._dunning_resolve_dispute(False, "We delivered 12 units: see the signed note.")
        mail = self.inv_old.message_ids.filtered(
            lambda m: self.customer in m.partner_ids and m.message_type == "comment")
        link = re.search(r'href="([^"]+/dunning/[^"]+)"', mail.body).group(1)
        page = self.url_open(link).text
        self.assertIn("Our answer to your dispute", page)
        self.assertIn(str(Markup.escape("We delivered 12 units: see the signed note.")), page)

    # ------------------------------------------------------------------ several currencies
    def test_pay_all_per_currency(self):
        eur = self.setup_other_currency("EUR")
        euro_inv = self._invoice(self.today - timedelta(days=3), 90.0, currency_id=eur.id)
        page = self.url_open(self.link).text
        company = self.env.company
        usd_url = f"{self.link}/pay/{company.id}/{company.currency_id.id}"
        eur_url = f"{self.link}/pay/{company.id}/{eur.id}"
        self.assertIn(usd_url, page)
        self.assertIn(eur_url, page)
        res = self.url_open(f"{self.link}/pay")
        self.assertEqual(res.status_code, 400, "one payment has one currency: choose")
        self.assertIn("choose which ones to pay", res.text)
        self.assertIn("90.00", self.url_open(eur_url).text)
        result = self.make_jsonrpc_request(
            f"{self.link}/transaction/{company.id}/{eur.id}", self._tx_params("EUR"))
        tx = self.env["payment.transaction"].sudo().search(
            [("reference", "=", result["reference"])])
        self.assertEqual(tx.invoice_ids, euro_inv)
        self.assertEqual(tx.currency_id, eur)
        self.assertAlmostEqual(tx.amount, 90.0)
