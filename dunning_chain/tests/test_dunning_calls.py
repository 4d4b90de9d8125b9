"""The collector's desk, calls: what a call gave is logged (Call Outcome), kept in the sealed
record, said in the chatter, and the chain acts on it; the collector's day lists today's calls
in the order the customers' calling hours open."""
import json
from datetime import date, datetime, timedelta

from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.service import model as rpc
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import DunningCommon

CALL_DAY = DunningCommon.START + timedelta(days=15)  # Tuesday 17 Mar 2026


@tagged("post_install", "-at_install")
class TestDunningCalls(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector = new_test_user(cls.env, login="dun_call_collector", tz="Atlantic/Canary",
                                      groups="dunning_chain.group_dunning_user")
        cls.billing = new_test_user(cls.env, login="dun_call_billing",
                                    groups="account.group_account_invoice")
        cls.portal = new_test_user(cls.env, login="dun_call_portal", groups="base.group_portal")
        cls.customer.write({"user_id": cls.collector.id, "phone": "+34 910 000 001"})
        cls.call_type = cls.env.ref("dunning_chain.mail_activity_type_dunning_call")

    def _call(self, partner=None, hour=10, history=True):
        """An invoice 15 days late: the chain's call is made (its task assigned), after the
        reminders of the due day and +7 (``history``)."""
        invoice = self._invoice(self.START, partner=partner)
        for offset in (0, 7) if history else ():
            self._run(self.START + timedelta(days=offset))
        self._run(CALL_DAY, hour=hour)
        call = self._comms(partner=partner, channel="call")
        self.assertEqual((call.state, call.delivery_state), ("sent", "task"), [
            (c.level_id.name, c.state, c.scheduled_at, c.failure_reason)
            for c in self._comms(partner=partner)])
        return invoice, call

    def _log(self, call, outcome, at="2026-03-17 11:00:00", user=None, **values):
        """The collector fills the Call Outcome form and logs it."""
        with freeze_time(at):
            wizard = self.env["dunning.call.outcome"].with_user(user or self.collector).create(
                {"communication_id": call.id, "outcome": outcome, **values})
            return wizard.action_confirm()

    def _events(self, call):
        events = call.event_ids.filtered(lambda e: e.kind == "call").sorted("id")
        return [(e.description, json.loads(e.data)) for e in events]

    def _activity(self, activity_id):
        return self.env["mail.activity"].with_context(active_test=False).browse(activity_id)

    def _problems(self, comms):
        self.env.invalidate_all()
        keys = self.env["dunning.evidence"]._dunning_chain_keys(comms)
        return [(comm, code) for comm, code, _text
                in self.env["dunning.evidence"]._dunning_verify(keys)]

    def _rpc(self, user, model, method, *args):
        self.env.flush_all()
        env = self.env(user=user.id, context={})
        result = rpc.call_kw(env[model], method, list(args), {})
        env.flush_all()
        return result

    # ------------------------------------------------------------------ marking the task done
    def test_marking_the_call_done_opens_the_call_outcome_form(self):
        _invoice, call = self._call()
        task = call.activity_id
        self.assertEqual(task.activity_type_id, self.call_type)
        self.assertEqual(task.user_id, self.collector)
        mine = task.with_user(self.collector)
        self.assertTrue(mine.dunning_is_call)
        action = mine.action_done()
        self.assertEqual((action["res_model"], action["target"]), ("dunning.call.outcome", "new"))
        self.assertEqual(action["context"]["default_communication_id"], call.id)
        self.assertTrue(task.active, "not done until the outcome is logged")
        # the chatter's data tells the web client which tasks open the form
        store = mine._to_store_defaults(None)
        self.assertIn("dunning_is_call", store)
        # a user outside the dunning groups marks it done as any task
        self.assertFalse(task.with_user(self.billing).dunning_is_call)

    # ------------------------------------------------------------------ outcomes
    def test_promise_pauses_like_the_customer_page(self):
        invoice, call = self._call()
        task = call.activity_id
        with self.assertRaisesRegex(UserError, "at most 30 days"):
            self._log(call, "promise", promise_date=CALL_DAY + timedelta(days=40))
        self.assertFalse(self._events(call), "nothing recorded")
        self._log(call, "promise", promise_date=CALL_DAY + timedelta(days=10),
                  promise_amount=600.0, note="After their own customer pays them")
        self.assertEqual(invoice.dunning_promise_state, "open")
        self.assertEqual(invoice.dunning_promise_date, date(2026, 3, 27))
        self.assertEqual(invoice.dunning_paused_until, date(2026, 3, 27))
        [(description, data)] = self._events(call)
        self.assertIn("Promised to pay", description)
        self.assertIn("600.00", description)
        self.assertEqual((data["outcome"], data["promise_date"], data["promise_amount"]),
                         ("promise", "2026-03-27", 600.0))
        self.assertEqual(data["note"], "After their own customer pays them")
        # the task is done with the outcome as feedback, by the collector
        task = self._activity(task.id)
        self.assertFalse(task.active)
        self.assertIn("Promised to pay", task.feedback)
        done = self.customer.message_ids.filtered(
            lambda m: "Promised to pay" in (m.body or "")
            and m.author_id == self.collector.partner_id)
        self.assertTrue(done, "the customer's chatter says it (the task done)")
        note = invoice.message_ids.filtered(lambda m: "Call outcome" in (m.body or ""))
        self.assertIn(call.name, note.body)
        self.assertIn("After their own customer pays them", note.body)
        self.assertEqual(call.delivery_state, "done")
        # as from the customer page: a task to check the payment the day after the date
        check = invoice.activity_ids.filtered(lambda a: "Check the payment promised" in a.summary)
        self.assertEqual(check.date_deadline, date(2026, 3, 28))
        # paused: nothing planned until the date
        self._run(CALL_DAY + timedelta(days=5))
        self.assertEqual(len(self._comms()), 3)

    def test_dispute_pauses(self):
        invoice, call = self._call()
        with self.assertRaisesRegex(UserError, "Say why"):
            self._log(call, "dispute", dispute_reason="  ")
        self._log(call, "dispute", dispute_reason="The second delivery never arrived")
        self.assertEqual(invoice.dunning_dispute_state, "open")
        self.assertIn("second delivery", invoice.dunning_dispute_reason)
        dispute = invoice.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref(
                "dunning_chain.mail_activity_type_dispute"))
        self.assertTrue(dispute, "the responsible resolves it")
        [(description, data)] = self._events(call)
        self.assertEqual(data["outcome"], "dispute")
        self.assertIn("second delivery", description)
        self._run(CALL_DAY + timedelta(days=20))
        self.assertEqual(len(self._comms()), 3, "no letter while disputed")

    def test_two_no_answers_move_the_invoices_to_the_next_step_at_once(self):
        invoice, call = self._call()
        first = call.activity_id
        self._log(call, "no_answer")
        # another attempt on the next day the customer may be called
        retry = call.activity_id
        self.assertNotEqual(retry, first)
        self.assertFalse(self._activity(first.id).active)
        self.assertEqual((retry.activity_type_id, retry.user_id, retry.date_deadline),
                         (self.call_type, self.collector, date(2026, 3, 18)))
        self.assertIn("No answer", str(retry.note))
        self.assertEqual(call.delivery_state, "task")
        self.assertFalse(invoice.dunning_remind_reason)
        # the next day, no answer again: the next step (the letter at +30) goes at once
        self._log(call, "no_answer", at="2026-03-18 10:00:00")
        self.assertIn("no answer to 2 calls", invoice.dunning_remind_reason)
        self.assertFalse(self._activity(retry.id).active)
        self.assertEqual(call.delivery_state, "done")
        self.assertEqual([data["attempt"] for _d, data in self._events(call)], [1, 2])
        self._run(CALL_DAY + timedelta(days=1))
        letter = self._comms(level_id=self.levels[30].id)
        self.assertTrue(letter, "planned at once, 14 days before its day")
        self.assertIn("no answer to 2 calls", letter.reason)
        self.assertEqual(invoice.dunning_level_id, self.levels[30])

    def test_wrong_number_raises_a_task_to_fix_the_contact(self):
        _invoice, call = self._call()
        self._log(call, "wrong_number", note="A bakery answered")
        fix = self.customer.activity_ids.filtered(lambda a: "Fix the phone number" in a.summary)
        self.assertEqual(fix.user_id, self.collector, "the customer's responsible")
        self.assertIn("+34 910 000 001", str(fix.note))
        self.assertIn("A bakery answered", str(fix.note))
        [(description, data)] = self._events(call)
        self.assertEqual((data["outcome"], data["phone"]), ("wrong_number", "+34 910 000 001"))

    def test_call_back_schedules_the_call_at_that_moment(self):
        _invoice, call = self._call()
        first = call.activity_id
        # outside the window in Madrid, on a Saturday, in the past: refused, nothing recorded
        for moment, words in ((datetime(2026, 3, 18, 19, 0), "outside the hours"),
                              (datetime(2026, 3, 21, 10, 0), "outside the hours"),
                              (datetime(2026, 3, 17, 9, 0), "has passed")):
            with self.assertRaisesRegex(UserError, words):
                self._log(call, "call_back", callback_at=moment)
        with self.assertRaisesRegex(UserError, r"Wednesday 18 Mar 09:00 Europe/Madrid"):
            self._log(call, "call_back", callback_at=datetime(2026, 3, 17, 19, 0))
        self.assertFalse(self._events(call))
        self.assertTrue(first.active)
        # Wednesday 10:30 in Madrid (09:30 UTC, the collector's time in the Canaries)
        self._log(call, "call_back", callback_at=datetime(2026, 3, 18, 9, 30),
                  note="Ask for Marta, accounts payable")
        again = call.activity_id
        self.assertNotEqual(again, first)
        self.assertEqual((again.activity_type_id, again.date_deadline, again.user_id),
                         (self.call_type, date(2026, 3, 18), self.collector))
        self.assertIn("Call back on Wed 18 Mar 2026 10:30 (Europe/Madrid) (09:30 your time)",
                      str(again.note))
        self.assertIn("Ask for Marta", str(again.note))
        [(description, data)] = self._events(call)
        self.assertEqual(data["callback_at"], "2026-03-18 09:30:00")
        self.assertEqual(call.delivery_state, "task")

    def test_call_back_is_due_on_the_customers_day(self):
        """Tuesday 22:00 UTC is Wednesday 11:00 in Auckland: the call back is due Wednesday."""
        kiwi = self.env["res.partner"].create({
            "name": "Kiwi Imports Ltd", "is_company": True, "tz": "Pacific/Auckland",
            "email": "ap@kiwi.example.com", "user_id": self.collector.id})
        _invoice, call = self._call(partner=kiwi, hour=21, history=False)
        self._log(call, "call_back", at="2026-03-17 21:30:00",
                  callback_at=datetime(2026, 3, 17, 22, 0))
        self.assertEqual(call.activity_id.date_deadline, date(2026, 3, 18))
        self.assertIn("11:00 (Pacific/Auckland) (22:00 your time)", str(call.activity_id.note))

    # ------------------------------------------------------------------ the record
    def test_the_outcome_is_sealed_in_the_record(self):
        _invoice, call = self._call()
        self._log(call, "reached", note="Paying Friday, no promise")
        [(description, data)] = self._events(call)
        self.assertEqual((description, data["outcome"]), ("Reached", "reached"))
        self.assertEqual(data["by"], [self.collector.id, self.collector.name])
        self.assertFalse(self._problems(call))
        self.env.cr.execute("UPDATE dunning_communication_event SET data = %s WHERE id = %s",
                            [json.dumps({**data, "note": "Promised nothing"}),
                             call.event_ids.filtered(lambda e: e.kind == "call").id])
        self.assertIn((call, "event_changed"), self._problems(call))

    # ------------------------------------------------------------------ rights
    def test_users_outside_dunning_cannot_log_an_outcome(self):
        _invoice, call = self._call()
        task = call.activity_id
        wizard = self.env["dunning.call.outcome"].create(
            {"communication_id": call.id, "outcome": "reached"})
        for user in (self.billing, self.portal):
            for model, method, args in (
                    ("dunning.call.outcome", "create",
                     [{"communication_id": call.id, "outcome": "reached"}]),
                    ("dunning.call.outcome", "action_confirm", [wizard.ids]),
                    ("dunning.communication", "action_dunning_log_call", [call.ids]),
                    ("mail.activity", "action_dunning_call_outcome", [task.ids]),
                    ("res.partner", "action_dunning_log_call", [self.customer.ids])):
                with self.assertRaises(AccessError, msg=f"{user.login} {model}.{method}"):
                    self._rpc(user, model, method, *args)
        self.assertFalse(self._events(call))
        self.assertTrue(task.active)
        # the private method is not reachable over RPC
        with self.assertRaises(AccessError):
            self._rpc(self.collector, "dunning.communication", "_dunning_log_call_outcome",
                      call.ids, "reached", {})
        self.assertFalse(self._events(call))

    def test_log_call_outcome_from_the_customer_and_the_invoice(self):
        invoice, call = self._call()
        for record in (self.customer, invoice):
            mine = record.with_user(self.collector)
            self.assertEqual(mine.dunning_last_call_id, call)
            action = mine.action_dunning_log_call()
            self.assertEqual(action["context"]["default_communication_id"], call.id)
            arch = mine.get_views([(False, "form")])["views"]["form"]["arch"]
            self.assertIn('name="action_dunning_log_call"', arch)
        # the button is for dunning users; their forms still load for the others
        for record in (self.customer, invoice):
            arch = record.with_user(self.billing).get_views([(False, "form")])["views"]["form"]
            self.assertNotIn('name="action_dunning_log_call"', arch["arch"])
        other = self._invoice(self.START, partner=self.customer2)
        with self.assertRaisesRegex(UserError, "not called"):
            other.with_user(self.collector).action_dunning_log_call()

    def test_only_calls_of_the_chain_take_an_outcome(self):
        self._invoice(self.START)
        self._run(self.START)
        email = self._comms()
        with self.assertRaisesRegex(UserError, "not a phone call"):
            self._log(email, "reached")

    # ------------------------------------------------------------------ the collector's day
    def _desk(self, user):
        """What the Collector's Day shows the user: the action's domain, its default filters
        (My Calls, Today) and the list's order."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "dunning_chain.action_dunning_call_desk")
        context = safe_eval(action["context"], {"uid": user.id})
        search = self.env.ref("dunning_chain.dunning_call_desk_view_search")
        domain = list(safe_eval(action["domain"]))
        eval_context = {"uid": user.id, "context_today": lambda: date.today()}
        for name in [key[len("search_default_"):] for key in context
                     if key.startswith("search_default_")]:
            [node] = etree.fromstring(search.arch_db).xpath(f"//filter[@name='{name}']")
            domain += safe_eval(node.get("domain"), eval_context)
        order = etree.fromstring(self.env.ref(
            "dunning_chain.dunning_call_desk_view_list").arch_db).get("default_order")
        return self.Comm.with_user(user).search(domain, order=order)

    def test_collectors_day_lists_todays_calls_in_local_time_order(self):
        zones = {"Kiwi Imports Ltd": "Pacific/Auckland", "Aaron Lighting S.L.": "Europe/Madrid",
                 "Hudson Bay Retail": "America/New_York", "Later Co": "Europe/Madrid",
                 "Someone Else's": "Europe/Madrid"}
        partners = {name: self.env["res.partner"].create({
            "name": name, "is_company": True, "tz": tz, "user_id": self.collector.id,
            "email": "ap@example.com", "phone": "+1 212 555 0100"}) for name, tz in zones.items()}
        for partner in partners.values():
            self._invoice(self.START, partner=partner, amount=800.0)
        self._invoice(self.START, amount=1000.0)  # Alcalá, Madrid
        for offset in (0, 7, 15):  # Madrid's morning, then Auckland's and New York's
            self._run(self.START + timedelta(days=offset), hour=10)
            self._run(self.START + timedelta(days=offset), hour=21)
        calls = self.Comm.search([("channel", "=", "call"), ("state", "=", "sent")])
        self.assertEqual(len(calls), 6)
        for call in calls:  # every call due today (Tuesday), but one tomorrow, one someone else's
            call.activity_id.date_deadline = CALL_DAY
        calls.filtered(lambda c: c.partner_id.name == "Later Co").activity_id.date_deadline = \
            CALL_DAY + timedelta(days=1)
        calls.filtered(lambda c: c.partner_id.name == "Someone Else's").activity_id.user_id = \
            self.billing
        with freeze_time("2026-03-17 07:00:00"):
            desk = self._desk(self.collector)
        self.assertEqual(desk.partner_id.mapped("name"), [
            "Kiwi Imports Ltd",  # 09:00 in Auckland: 20:00 UTC the day before
            "Aaron Lighting S.L.", self.customer.name,  # 09:00 in Madrid: 08:00 UTC, by name
            "Hudson Bay Retail",  # 09:00 in New York: 13:00 UTC
        ])
        kiwi = desk[0]
        self.assertEqual(kiwi.call_opens_at, datetime(2026, 3, 16, 20, 0))
        self.assertEqual(kiwi.call_hours, "09:00-18:00 Auckland (20:00-05:00 your time)")
        self.assertEqual(kiwi.call_phone, "+1 212 555 0100")
        self.assertEqual(kiwi.call_overdue_amount, 800.0)
        self.assertEqual((kiwi.call_last_contact_channel, kiwi.call_last_contact_at.date()),
                         ("email", self.START + timedelta(days=7)))
        self.assertEqual(kiwi.call_promise_state, "none")
        # logged: the call leaves the day
        self._log(kiwi, "reached")
        with freeze_time("2026-03-17 07:00:00"):
            self.assertNotIn(kiwi, self._desk(self.collector))
        # a promise broken before shows
        madrid = desk.filtered(lambda c: c.partner_id == self.customer)
        madrid.invoice_ids.write({"dunning_promise_date": date(2026, 3, 10),
                                  "dunning_promise_state": "broken"})
        self.assertEqual((madrid.call_promise_state, madrid.call_broken_promises), ("broken", 1))
