import re
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.service import model as rpc
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import format_date

from .common import DunningPortalCommon

WIZARD = "dunning.instalment.plan.wizard"


@tagged("post_install", "-at_install")
class TestDunningPortalPlansBackoffice(DunningPortalCommon):
    """The accountant agrees a payment plan with the customer (from the customer, from
    invoices, after a call): the schedule is shown, the plan runs at once, the customer gets
    it like an approved request, the chain follows it; a running plan is renegotiated."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_dummy_provider()
        cls.Plan = cls.env["dunning.instalment.plan"]
        # not due yet: not in a plan agreed from the customer unless chosen
        cls.inv_later = cls._invoice(cls.today + timedelta(days=10), 99.0)

    def setUp(self):
        super().setUp()
        self._visit_anonymously()
        self.first = self.today + timedelta(days=7)
        self.down_date = self.today + timedelta(days=2)

    def _form(self, **context):
        return Form(self.env[WIZARD].with_context(**context))

    def _confirm(self, form):
        wizard = form.save()
        result = wizard.action_confirm()
        self.assertEqual(result["res_model"], "dunning.instalment.plan")
        return self.Plan.browse(result["res_id"])

    def _weekly_with_down_payment(self):
        form = self._form(default_partner_id=self.customer.id)
        form.frequency = "weekly"
        form.instalment_count = 3
        form.first_date = self.first
        form.down_payment_amount = 300.0
        form.down_payment_date = self.down_date
        form.answer = "As agreed on the phone this morning."
        return form

    def _customer_messages(self, plan):
        return plan.message_ids.filtered(
            lambda m: self.customer in m.partner_ids and m.message_type == "comment")

    # ------------------------------------------------------------------ weekly, down payment
    def test_weekly_plan_with_down_payment_followed_by_the_chain(self):
        form = self._weekly_with_down_payment()
        self.assertAlmostEqual(form.amount_due, 1500.0, msg="the overdue invoices by default")
        self.assertFalse(form.schedule_problem)
        wizard = form.save()
        self.assertEqual(wizard.invoice_ids, self.inv_old | self.inv_new)
        week = timedelta(weeks=1)
        self.assertEqual(
            [(line.label, line.date, line.amount) for line in wizard.line_ids], [
                ("Down payment", self.down_date, 300.0),
                ("Instalment 1", self.first, 400.0),
                ("Instalment 2", self.first + week, 400.0),
                ("Instalment 3", self.first + 2 * week, 400.0)],
            "the schedule shown before confirming")
        plan = self.Plan.browse(wizard.action_confirm()["res_id"])
        self.assertEqual(plan.state, "approved", "running at once")
        self.assertEqual((plan.source, plan.agreed_by_id, plan.frequency),
                         ("backoffice", self.env.user, "weekly"))
        self.assertEqual((plan.down_payment_amount, plan.down_payment_date, plan.instalment_count),
                         (300.0, self.down_date, 3))
        self.assertEqual(plan.line_ids.mapped("sequence"), [0, 1, 2, 3])
        self.assertEqual(plan.line_ids.mapped("date"), wizard.line_ids.mapped("date"))
        self.assertEqual(plan.line_ids.mapped("amount_cumulative"), [300.0, 700.0, 1100.0, 1500.0])
        self.assertEqual(self.inv_old.dunning_paused_until, self.down_date)
        self.assertFalse(self.inv_later.dunning_paused_until)
        self.assertEqual(plan.next_line_id.display_name,
                         f"Down payment on {format_date(self.env, self.down_date)}")
        self.assertEqual(self.customer.dunning_plan_count, 1)
        # the down payment and the first instalment paid by real payments
        self._pay(self.inv_old, amount=300.0, day=self.down_date)
        self._run(self.down_date + timedelta(days=1))
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "pending", "pending", "pending"])
        self.assertEqual(self.inv_old.dunning_paused_until, self.first)
        self._pay(self.inv_old, amount=400.0, day=self.first)
        self._run(self.first + timedelta(days=1))
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "paid", "pending", "pending"])
        self.assertEqual((self.inv_old | self.inv_new).mapped("dunning_paused_until"),
                         [self.first + week] * 2, "paused until the next instalment")
        self.assertFalse(self._comms(), "no reminder while the plan is kept")
        bodies = " ".join(plan.message_ids.mapped("body"))
        self.assertIn("Down payment received.", bodies)
        self.assertIn("Instalment 1 of 3 received.", bodies)
        # the second instalment is missed: the plan is broken, the next reminder goes at once
        self._run(self.first + week)
        self.assertEqual(plan.state, "approved", "due today: still in time")
        self._run(self.first + week + timedelta(days=1))
        self.assertEqual(plan.state, "broken")
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "paid", "missed", "pending"])
        self.assertFalse(self.inv_old.dunning_paused_until)
        comms = self._comms().filtered(lambda c: self.inv_old in c.invoice_ids)
        self.assertTrue(comms, "reminded at once")
        self.assertIn("instalment 2 of 3", comms[0].reason, comms.mapped("reason"))
        self.assertIn("400.00", comms[0].reason)

    def test_missed_down_payment_breaks_the_plan(self):
        plan = self._confirm(self._weekly_with_down_payment())
        self._run(self.down_date + timedelta(days=1))
        self.assertEqual(plan.state, "broken")
        self.assertEqual(plan.line_ids.mapped("state"), ["missed", "pending", "pending", "pending"])
        self.assertIn("the down payment", self._comms()[0].reason)

    # ------------------------------------------------------------------ custom schedule
    def test_custom_dates_and_amounts(self):
        form = self._form(default_partner_id=self.customer.id)
        form.frequency = "custom"
        self.assertEqual(len(form.line_ids), 3, "starts from the monthly schedule")
        with form.line_ids.new() as line:
            line.date = self.today + timedelta(days=120)
            line.amount = 10.0
            self.assertEqual(line.label, "Instalment 4")
        form.line_ids.remove(3)
        days = [self.today, self.today + timedelta(days=10), self.today + timedelta(days=45)]
        for index, (day, amount) in enumerate(zip(days, (700.0, 500.0, 500.0))):
            with form.line_ids.edit(index) as line:
                line.date = day
                line.amount = amount
                line.is_down_payment = index == 0
        self.assertIn("add up to", form.schedule_problem)
        wizard = form.save()
        with self.assertRaisesRegex(UserError, "add up to .*1,700.00.* but .*1,500.00"):
            wizard.action_confirm()
        with form.line_ids.edit(2) as line:
            line.amount = 300.0
        self.assertFalse(form.schedule_problem)
        with form.line_ids.edit(1) as line:
            line.date = self.today - timedelta(days=1)
        self.assertIn("in the past", form.schedule_problem)
        with self.assertRaisesRegex(UserError, "in the past"):
            form.save().action_confirm()
        with form.line_ids.edit(1) as line:
            line.date = days[2]
        self.assertIn("must come after", form.schedule_problem, "dates in increasing order")
        with form.line_ids.edit(1) as line:
            line.date = days[1]
        with form.line_ids.edit(1) as line:
            line.is_down_payment = True
        self.assertIn("Only the first payment", form.schedule_problem)
        with form.line_ids.edit(1) as line:
            line.is_down_payment = False
        self.assertFalse(self.Plan.search([("partner_id", "=", self.customer.id)]),
                         "nothing was created by the refused schedules")
        plan = self._confirm(form)
        self.assertEqual((plan.frequency, plan.instalment_count, plan.down_payment_amount),
                         ("custom", 2, 700.0))
        self.assertEqual([(line.date, line.amount, line.is_down_payment) for line in plan.line_ids],
                         [(days[0], 700.0, True), (days[1], 500.0, False), (days[2], 300.0, False)])
        # a computed schedule starting in the past is refused too
        form = self._form(default_partner_id=self.customer2.id)
        form.first_date = self.today - timedelta(days=3)
        self.assertIn("in the past", form.schedule_problem)
        with self.assertRaisesRegex(UserError, "in the past"):
            form.save().action_confirm()

    # ------------------------------------------------------------------ from invoices
    def test_monthly_plan_from_selected_invoices(self):
        action = self.inv_new.action_dunning_instalment_plan()
        form = self._form(**action["context"])
        self.assertEqual(form.partner_id, self.customer)
        form.instalment_count = 2
        form.first_date = self.first
        plan = self._confirm(form)
        self.assertEqual(plan.invoice_ids, self.inv_new, "only the invoices selected")
        self.assertEqual(plan.line_ids.mapped("date"),
                         [self.first, self.first + relativedelta(months=1)])
        self.assertEqual(plan.line_ids.mapped("amount"), [150.0, 150.0])
        self.assertEqual(self.inv_new.dunning_paused_until, self.first)
        self.assertFalse(self.inv_old.dunning_paused_until)
        self.assertEqual(self.inv_new.dunning_instalment_plan_id, plan)
        # not for invoices of two customers, nor twice for the same invoice
        with self.assertRaisesRegex(UserError, "one customer"):
            (self.inv_old | self.inv_other).action_dunning_instalment_plan()
        form = self._form(default_invoice_ids=(self.inv_old | self.inv_new).ids,
                          default_source="call")
        self.assertEqual(form.partner_id, self.customer, "the customer of the invoices")
        with self.assertRaisesRegex(UserError, "already in"):
            form.save().action_confirm()
        # after a phone call, the other invoice
        form = self._form(default_partner_id=self.customer.id,
                          default_invoice_ids=self.inv_old.ids, default_source="call")
        call_plan = self._confirm(form)
        self.assertEqual((call_plan.source, call_plan.invoice_ids), ("call", self.inv_old))

    def test_other_company_invoices_stay_out(self):
        other = self.setup_other_company()["company"]
        journal = self.env["account.journal"].search(
            [("company_id", "=", other.id), ("type", "=", "sale")], limit=1)
        inv_b = self._invoice(self.today - timedelta(days=3), 400.0, company_id=other.id,
                              journal_id=journal.id)
        wizard = self._form(default_partner_id=self.customer.id).save()
        self.assertEqual(wizard.invoice_ids, self.inv_old | self.inv_new)
        with self.assertRaises(UserError):
            self.env[WIZARD].create({"partner_id": self.customer.id,
                                     "invoice_ids": [Command.set((self.inv_old | inv_b).ids)]})
        rows = [{"date": self.first, "amount": 800.0}, {"date": self.first + timedelta(days=30),
                                                         "amount": 800.0}]
        with self.assertRaisesRegex(UserError, "one company"):
            self.Plan._dunning_agree(self.customer, self.inv_old | inv_b, rows)
        with self.assertRaisesRegex(UserError, "one company"):
            (self.inv_old | inv_b).action_dunning_instalment_plan()

    # ------------------------------------------------------------------ the customer is told
    def test_customer_receives_the_schedule_and_sees_it_on_the_page(self):
        plan = self._confirm(self._weekly_with_down_payment())
        message = self._customer_messages(plan)
        self.assertEqual(len(message), 1, "the same e-mail as an approved request")
        self.assertIn("approved", message.subject)
        notified = message.notification_ids.filtered(lambda n: n.res_partner_id == self.customer)
        self.assertEqual(notified.notification_type, "email", "by e-mail")
        body = str(message.body).replace("&nbsp;", " ")
        self.assertIn(f"Down payment on {format_date(self.env, self.down_date)}: $ 300.00", body)
        for day in (self.first, self.first + timedelta(weeks=2)):
            self.assertIn(f"<li>{format_date(self.env, day)}: $ 400.00</li>", body)
        self.assertIn("As agreed on the phone this morning.", body)
        link = re.search(r'href="([^"]+/dunning/[^"]+)"', body).group(1)
        page = self.url_open(link).text
        self.assertIn("o_dunning_plan_schedule", page)
        self.assertIn("a down payment and 3 instalments", page)
        self.assertIn("Down payment, ", page)
        self.assertIn("Pay the down payment", page)
        self.assertIn(f"/plan/{plan.id}/pay", page)
        self.assertIn("$\xa0300.00, due", page, "the down payment first")

    def test_customer_reads_the_plan_in_their_language(self):
        """The accountant works in English; a Spanish customer gets the plan in Spanish, the
        invoice's note stays in the accountant's language."""
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"].search(
            [("name", "=", "dunning_portal")])._update_translations(["es_ES"])
        self.customer.lang = "es_ES"
        plan = self._confirm(self._weekly_with_down_payment())
        message = self._customer_messages(plan)
        self.assertEqual(message.subject, "Hemos aprobado su plan de pagos")
        self.assertIn("Consulte y pague sus facturas", str(message.body))
        notes = plan.invoice_ids.message_ids.filtered(lambda m: "Payment plan approved" in str(
            m.body))
        self.assertTrue(notes, "the invoices' notes are the accountant's, in English")

    # ------------------------------------------------------------------ renegotiation
    def test_renegotiation_keeps_both_plans(self):
        form = self._form(default_partner_id=self.customer.id)
        form.first_date = self.first
        old = self._confirm(form)
        self.assertEqual(old.line_ids.mapped("amount"), [500.0, 500.0, 500.0])
        self._pay(self.inv_old, amount=500.0)
        self._pay(self.inv_new)
        action = old.action_dunning_renegotiate()
        form = self._form(**action["context"])
        self.assertEqual((form.partner_id, form.replaces_id), (self.customer, old))
        self.assertAlmostEqual(form.amount_due, 700.0, msg="what is still owed")
        form.frequency = "weekly"
        form.instalment_count = 2
        form.first_date = self.today + timedelta(days=3)
        wizard = form.save()
        self.assertEqual(wizard.invoice_ids, self.inv_old, "the invoices still open")
        new = self.Plan.browse(wizard.action_confirm()["res_id"])
        self.assertEqual((old.state, old.replaced_by_id), ("renegotiated", new))
        self.assertFalse(old.next_line_id, "nothing more to pay under the old plan")
        self.assertEqual(old.line_ids.mapped("state"), ["paid", "replaced", "replaced"],
                         "800.00 paid covers the first instalment; the rest is the new plan's")
        self.assertEqual((new.state, new.replaces_id, new.amount_agreed), ("approved", old, 700.0))
        self.assertEqual(new.line_ids.mapped("amount"), [350.0, 350.0])
        self.assertEqual(self.inv_old.dunning_paused_until, self.today + timedelta(days=3),
                         "paused until the new plan's first instalment")
        self.assertEqual(self.Plan.search([("partner_id", "=", self.customer.id)]), new | old)
        self.assertTrue(old.message_ids.filtered(lambda m: "renegotiated" in (m.body or "")
                                                 and f'data-oe-id="{new.id}"' in m.body))
        self.assertTrue(new.message_ids.filtered(lambda m: "Replaces" in (m.body or "")))
        self.assertEqual(len(self._customer_messages(new)), 1, "the customer gets the new one")
        page = self.url_open(self.link).text
        self.assertEqual(page.count('data-plan-state="approved"'), 1, "the new plan only")
        with self.assertRaisesRegex(UserError, "Only a running"):
            old.action_dunning_renegotiate()
        self._run(self.today + timedelta(days=30))
        self.assertEqual((old.state, new.state), ("renegotiated", "broken"),
                         "the chain follows the new plan only")

    # ------------------------------------------------------------------ rights
    def test_only_dunning_users_agree_plans(self):
        plan = self._confirm(self._weekly_with_down_payment())
        wizard = self._form(default_partner_id=self.customer2.id).save()
        billing = new_test_user(self.env, login="plan_billing",
                                groups="account.group_account_invoice")
        calls = [
            (WIZARD, "create", [{"partner_id": self.customer2.id}]),
            (WIZARD, "action_confirm", [wizard.ids]),
            ("dunning.instalment.plan", "action_dunning_renegotiate", [plan.ids]),
            ("res.partner", "action_dunning_instalment_plan", [self.customer2.ids]),
            ("account.move", "action_dunning_instalment_plan", [self.inv_other.ids]),
        ]
        # a billing user may read the plans, not a portal user
        portal_calls = calls + [
            ("res.partner", "action_dunning_instalment_plans", [self.customer.ids])]
        for user, user_calls in ((billing, calls), (self.portal_user, portal_calls)):
            env = self.env(user=user.id, context={})
            for model, method, args in user_calls:
                with self.assertRaises(AccessError, msg=f"{user.login} {model}.{method}"):
                    rpc.call_kw(env[model], method, args, {})
        self.assertEqual(plan.state, "approved")
        self.assertFalse(self.Plan.search([("partner_id", "=", self.customer2.id)]))
        action = rpc.call_kw(self.env(user=billing.id, context={})["res.partner"],
                             "action_dunning_instalment_plans", [self.customer.ids], {})
        self.assertEqual(action["res_model"], "dunning.instalment.plan", "reading is fine")
        # a collector (dunning user, not an accountant) agrees one over RPC
        collector = new_test_user(self.env, login="plan_collector",
                                  groups="dunning_chain.group_dunning_user")
        env = self.env(user=collector.id, context={})
        wizard_id = rpc.call_kw(env[WIZARD], "create", [{
            "partner_id": self.customer2.id, "instalment_count": 2,
            "first_date": self.first.isoformat()}], {})
        result = rpc.call_kw(env[WIZARD], "action_confirm", [[wizard_id]], {})
        agreed = self.Plan.browse(result["res_id"])
        self.assertEqual((agreed.state, agreed.invoice_ids, agreed.agreed_by_id, agreed.create_uid),
                         ("approved", self.inv_other, collector, collector))
