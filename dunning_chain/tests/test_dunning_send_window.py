from datetime import date, datetime

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.service import model as rpc
from odoo.tests import freeze_time, new_test_user, tagged

from odoo.addons.dunning_chain.tools import customer_calendar, send_caps, send_window

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningSendWindow(DunningCommon):
    """The run plans each message for a decent hour in the customer's own time zone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.preference_delay_days = 2  # the shipped default: Tuesday-Thursday preferred
        us, es = cls.env.ref("base.us"), cls.env.ref("base.es")
        cls.newyork = cls.env["res.partner"].create({
            "name": "Hudson Retail Inc.", "email": "ap@hudson.example.com", "is_company": True,
            "tz": "America/New_York", "country_id": us.id,
            "state_id": cls.env.ref("base.state_us_27").id,
        })
        cls.madrid = cls.env["res.partner"].create({
            "name": "Construcciones Alcalá", "email": "pagos@alcala.example.com",
            "is_company": True, "tz": "Europe/Madrid", "country_id": es.id,
            "state_id": cls.env.ref("base.state_es_m").id,
        })

    def _plan_at(self, moment):
        with freeze_time(moment):
            return self.env["dunning.plan"]._dunning_plan()

    def test_new_york_customer_planned_for_its_morning_not_madrids(self):
        # Wednesday 4 Nov 2026, 08:00 UTC: 09:00 in Madrid, 03:00 in New York
        due = date(2026, 10, 28)
        self._invoice(due, partner=self.newyork)
        self._invoice(due, partner=self.madrid)
        comms = self._plan_at("2026-11-04 08:00:00")
        ny = comms.filtered(lambda c: c.partner_id == self.newyork)
        md = comms.filtered(lambda c: c.partner_id == self.madrid)
        self.assertEqual(md.scheduled_at, datetime(2026, 11, 4, 8, 0), "09:00 Madrid: now")
        self.assertEqual(ny.scheduled_at, datetime(2026, 11, 4, 14, 0), "09:00 New York (EST)")
        self.assertEqual(ny.partner_tz, "America/New_York")
        self.assertIn("09:00", ny.scheduled_local)
        self.assertIn("America/New_York", ny.schedule_reason)
        # the run at 08:00 UTC sends Madrid's and keeps New York's for later
        with freeze_time("2026-11-04 08:00:00"):
            self.env["dunning.send"]._dunning_send_due()
        self.assertEqual((md.state, ny.state), ("sent", "scheduled"))
        with freeze_time("2026-11-04 14:00:00"):
            self.env["dunning.send"]._dunning_send_due()
        self.assertEqual(ny.state, "sent")

    def test_friday_evening_waits_for_tuesday(self):
        self._invoice(date(2026, 11, 13), partner=self.madrid)
        comm = self._plan_at("2026-11-20 19:30:00")  # Friday 20:30 in Madrid
        self.assertEqual(comm.scheduled_at, datetime(2026, 11, 24, 8, 0))  # Tuesday 09:00
        self.assertIn("Monday", comm.schedule_reason)

    def test_customer_public_holiday_by_region(self):
        # Thursday 26 Nov 2026 is Thanksgiving in the US, not in Spain
        self._invoice(date(2026, 11, 18), partner=self.newyork)
        self._invoice(date(2026, 11, 18), partner=self.madrid)
        comms = self._plan_at("2026-11-26 15:00:00")
        ny = comms.filtered(lambda c: c.partner_id == self.newyork)
        md = comms.filtered(lambda c: c.partner_id == self.madrid)
        self.assertEqual(md.scheduled_at, datetime(2026, 11, 26, 15, 0))
        self.assertEqual(ny.scheduled_at.date(), date(2026, 11, 27))
        self.assertIn("Thanksgiving", ny.schedule_reason)

    def test_company_and_customer_closures(self):
        self.env["resource.calendar.leaves"].create({
            "name": "Company inventory", "calendar_id": self.env.company.resource_calendar_id.id,
            "date_from": datetime(2026, 11, 24, 0, 0), "date_to": datetime(2026, 11, 24, 23, 0),
        })
        self.madrid.dunning_closure_ids = [(0, 0, {
            "name": "Closed for refurbishment", "date_from": date(2026, 11, 25),
            "date_to": date(2026, 11, 26)})]
        self._invoice(date(2026, 11, 13), partner=self.madrid)
        comm = self._plan_at("2026-11-23 19:00:00")  # Monday 20:00 Madrid
        self.assertEqual(comm.scheduled_at, datetime(2026, 11, 27, 8, 0), "Friday 09:00")
        self.assertIn("Company inventory", comm.schedule_reason)
        self.assertIn("refurbishment", comm.schedule_reason)

    def test_window_rechecked_at_send_time(self):
        self._invoice(date(2026, 11, 10), partner=self.madrid)
        comm = self._plan_at("2026-11-24 16:55:00")  # Tuesday 17:55 Madrid: inside the window
        self.assertEqual(comm.scheduled_at, datetime(2026, 11, 24, 16, 55))
        with freeze_time("2026-11-24 17:20:00"):  # the run reaches it at 18:20
            self.env["dunning.send"]._dunning_send_due()
        self.assertEqual(comm.state, "scheduled", "moved, not sent")
        self.assertEqual(comm.scheduled_at, datetime(2026, 11, 25, 8, 0))
        self.assertIn("Moved at send time", comm.schedule_reason)

    def test_frequency_cap_moves_the_step(self):
        self.policy.cap_email = 1
        self._invoice(date(2026, 11, 3), partner=self.madrid)
        with freeze_time("2026-11-03 10:00:00"):
            self.env["dunning.plan"]._dunning_plan()
            self.env["dunning.send"]._dunning_send_due()  # due today, Tuesday 3 Nov
        first = self.Comm.search([("partner_id", "=", self.madrid.id)])
        self.assertEqual(first.state, "sent")
        # an invoice of another age reaches +7 two days later: one e-mail per 7 days only
        self._invoice(date(2026, 10, 29), partner=self.madrid)
        comm = self._plan_at("2026-11-05 10:00:00")
        self.assertEqual(comm.scheduled_at.date(), date(2026, 11, 10))
        self.assertIn("at most 1 E-mail in 7 days", comm.schedule_reason)

    def test_spreading_per_hour(self):
        self.policy.max_per_hour = 2
        partners = self.env["res.partner"].create([{
            "name": f"Customer {i}", "email": f"c{i}@example.com", "tz": "Europe/Madrid",
        } for i in range(5)])
        for partner in partners:
            self._invoice(date(2026, 11, 17), partner=partner)
        comms = self._plan_at("2026-11-24 08:00:00")  # Tuesday 09:00 Madrid
        hours = sorted(c.scheduled_at.hour for c in comms)
        self.assertEqual(hours, [8, 8, 9, 9, 10])

    def test_window_past_21_refused(self):
        with self.assertRaisesRegex(ValidationError, "21:00"):
            self.policy.window_end = 22.0
        self.policy.window_end = 21.0  # the hard limit itself is allowed (until 20:59)

    # ------------------------------------------------------------------ words of the facts
    def test_reasons_worded_in_english(self):
        """The tools return facts; dunning.send.window words them as the planner always did."""
        words = self.env["dunning.send.window"]
        madrid = "Europe/Madrid"
        closed = customer_calendar.public_holidays("ES", "MD", years=[2026], language="en_US")
        closed[date(2026, 12, 24)] = "Christmas Eve closure"
        _slot, facts = send_window.next_allowed_moment(
            datetime(2026, 12, 23, 18, 0), madrid, closed_days=closed)  # Wednesday 19:00
        self.assertEqual(words._dunning_words(facts, "en_US"), (
            "Tuesday 29 Dec 09:00 Europe/Madrid: after the window (09:00-18:00), "
            "Thursday 24 Dec closed (Christmas Eve closure), Friday 25 Dec closed (Christmas Day), "
            "Saturday-Sunday skipped (weekend), Monday 28 Dec avoided (preferred Tuesday-Thursday)"))
        ny = "America/New_York"
        _slot, facts = send_window.next_allowed_moment(
            datetime(2026, 11, 26, 0, 0), ny,
            closed_days=customer_calendar.public_holidays("US", years=2026))  # Wed 19:00 NY
        self.assertEqual(words._dunning_words(facts, "en_US"), (
            "Friday 27 Nov 09:00 America/New_York: after the window (09:00-18:00), "
            "Thursday 26 Nov closed (Thanksgiving Day); "
            "Friday used: no preferred day (Tuesday-Thursday) within 2 days"))
        _slot, facts = send_caps.spread_slot(
            datetime(2026, 3, 4, 11, 0), madrid, taken={datetime(2026, 3, 4, 11, 0): 3,
                                                        datetime(2026, 3, 4, 12, 0): 3}, per_hour=3)
        self.assertEqual(words._dunning_words(facts, "en_US"), (
            "Now: inside the send window (Wed 4 Mar 2026 12:00 (Europe/Madrid)); "
            "hour full, moved to Wed 4 Mar 2026 15:30 (Europe/Madrid) (2 full hours skipped)"))
        _moment, cap = send_caps.frequency_cap_date(
            datetime(2026, 3, 12, 10, 0), [datetime(2026, 3, 6, 10, 0)], 1, channel="email")
        _tz, source = customer_calendar.resolve_timezone(None, "US", madrid)
        self.assertEqual(words._dunning_words([*cap, *facts[:1], source], "en_US"), (
            "at most 1 E-mail in 7 days: moved after the contact of 6 Mar; "
            "Wed 4 Mar 2026 12:00 (Europe/Madrid): inside the send window "
            f"[company time zone (country US has {source.values['zones']} time zones)]"))

    def test_reason_in_the_customers_language(self):
        """A Spanish customer's reasons are in Spanish (dates by babel, holidays named by the
        ``holidays`` library in Spanish), whoever runs the planner."""
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"].search(
            [("name", "=", "dunning_chain")])._update_translations(["es_ES"])
        self.madrid.lang = "es_ES"
        self._invoice(date(2026, 12, 17), partner=self.madrid)
        self._invoice(date(2026, 12, 17), partner=self.newyork)
        comms = self._plan_at("2026-12-24 18:00:00")  # Thursday 19:00 in Madrid, 13:00 in New York
        comm = comms.filtered(lambda c: c.partner_id == self.madrid)
        self.assertEqual(comm.scheduled_at, datetime(2026, 12, 29, 8, 0))  # Tuesday 09:00
        self.assertEqual(comm.schedule_reason, (
            "Martes 29 dic 09:00 Europe/Madrid: después de la franja (09:00-18:00), "
            "viernes 25 dic cerrado (Natividad del Señor), se omite sábado-domingo (fin de semana), "
            "se evita el lunes 28 dic (preferidos: martes-jueves)"))
        # the same run words its English customer's reason in English
        comm = comms.filtered(lambda c: c.partner_id == self.newyork)
        self.assertEqual(comm.schedule_reason,
                         "Now: inside the send window (Thu 24 Dec 2026 13:00 (America/New_York))")

    def test_reason_never_mixes_languages(self):
        """A customer whose language this addon does not speak (Italian here: no it.po) reads
        English reasons, English dates included, not babel's Italian in an English sentence."""
        self.env["res.lang"]._activate_lang("it_IT")
        self.madrid.lang = "it_IT"
        self._invoice(date(2026, 12, 17), partner=self.madrid)
        comm = self._plan_at("2026-12-24 18:00:00").filtered(lambda c: c.partner_id == self.madrid)
        self.assertTrue(comm.schedule_reason.startswith("Tuesday 29 Dec 09:00 Europe/Madrid"),
                        comm.schedule_reason)
        self.assertNotIn("martedì", comm.schedule_reason.lower())

    def test_reason_in_german_for_a_german_customer(self):
        """German is shipped (de.po): a German customer's reason is German, with German date
        order ("Dienstag, 29. Dez.")."""
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"].search([("name", "=", "dunning_chain")])._update_translations(
            ["de_DE"])
        self.madrid.lang = "de_DE"
        self._invoice(date(2026, 12, 17), partner=self.madrid)
        comm = self._plan_at("2026-12-24 18:00:00").filtered(lambda c: c.partner_id == self.madrid)
        self.assertTrue(comm.schedule_reason.startswith("Dienstag, 29. Dez. 09:00 Europe/Madrid"),
                        comm.schedule_reason)

    # ------------------------------------------------------------------ the policy's days
    def test_policy_monday_to_saturday_schedules_on_saturday(self):
        """A B2C shop sends on Saturdays too: Friday 20:30 goes to Saturday 09:00 (Tuesday,
        preferred, is three days away: more than the tolerance)."""
        self.policy.send_sat = True
        self._invoice(date(2026, 11, 13), partner=self.madrid)
        comm = self._plan_at("2026-11-20 19:30:00")  # Friday 20:30 in Madrid
        self.assertEqual(comm.scheduled_at, datetime(2026, 11, 21, 8, 0))  # Saturday 09:00
        self.assertTrue(comm.schedule_reason.startswith("Saturday 21 Nov 09:00 Europe/Madrid"),
                        comm.schedule_reason)
        with freeze_time("2026-11-21 08:00:00"):
            self.env["dunning.send"]._dunning_send_due()
        self.assertEqual(comm.state, "sent")

    def test_policy_preferring_every_weekday_sends_on_monday(self):
        """A restaurant supplier prefers Monday to Friday: Friday evening goes to Monday."""
        self.policy.write({"prefer_mon": True, "prefer_fri": True})
        self._invoice(date(2026, 11, 13), partner=self.madrid)
        comm = self._plan_at("2026-11-20 19:30:00")  # Friday 20:30 in Madrid
        self.assertEqual(comm.scheduled_at, datetime(2026, 11, 23, 8, 0))  # Monday 09:00
        self.assertEqual(comm.schedule_reason, (
            "Monday 23 Nov 09:00 Europe/Madrid: after the window (09:00-18:00), "
            "Saturday-Sunday skipped (weekend)"))

    def test_friday_afternoon_and_monday_morning_avoided(self):
        self.policy.write({"avoid_friday_afternoon": True, "avoid_monday_morning": True,
                           "preference_delay_days": 0})
        self._invoice(date(2026, 11, 13), partner=self.madrid)
        comm = self._plan_at("2026-11-20 12:00:00")  # Friday 13:00 in Madrid
        self.assertEqual(comm.scheduled_at, datetime(2026, 11, 23, 11, 0))  # Monday 12:00
        self.assertEqual(comm.schedule_reason, (
            "Monday 23 Nov 12:00 Europe/Madrid: Friday afternoon avoided (from 12:00), "
            "Saturday-Sunday skipped (weekend), Monday morning avoided (until 12:00); "
            "Monday used: no preferred day (Tuesday-Thursday) within 0 days"))

    def test_policy_days_validated(self):
        """Rules that cannot be used are refused in words, whatever the combination."""
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        cases = [
            ({"prefer_sat": True}, "Saturday is preferred but not allowed"),
            ({f"send_{key}": False for key in days} | {f"prefer_{key}": False for key in days},
             "At least one weekday must be allowed"),
            ({"avoid_monday_morning": True, "midday": 8.0},
             r"\(08:00\) must lie inside the window \(09:00-18:00\)"),
            ({"avoid_friday_afternoon": True, "meal_start": 8.0, "meal_end": 12.0},
             r"Nothing is left to send on Fridays"),
        ]
        for vals, message in cases:
            with self.subTest(vals=vals), self.assertRaisesRegex(ValidationError, message):
                self.policy.copy().write(vals)
        self.policy.copy().write({"avoid_monday_morning": False, "midday": 8.0})  # unused: fine
        policy = self.policy.copy({"send_sat": True, "prefer_sat": True, "send_mon": False,
                                   "prefer_mon": False, "avoid_friday_afternoon": True})
        rules = policy._dunning_window_rules()
        self.assertEqual((rules.allowed_weekdays, rules.preferred_weekdays), ({1, 2, 3, 4, 5},
                                                                              {1, 2, 3, 5}))
        self.assertTrue(rules.avoid_friday_afternoon)

    def test_unticking_a_sending_day_unticks_its_preference(self):
        from odoo.tests import Form
        with Form(self.policy) as form:
            form.send_wed = False
            self.assertFalse(form.prefer_wed)
        self.assertEqual(self.policy._dunning_window_rules().preferred_weekdays, {1, 3})

    # ------------------------------------------------------------------ the call task
    def test_call_task_due_on_the_customers_day_with_its_hours(self):
        """Tuesday 24 Nov 21:00 UTC is still Tuesday for the collector in Madrid but Wednesday
        10:00 in Auckland: the call is due on the customer's Wednesday, between its 09:00 and
        18:00, said in the collector's time too."""
        collector = new_test_user(self.env, login="dun_win_collector", tz="Europe/Madrid",
                                  groups="dunning_chain.group_dunning_user")
        self.policy.write({"collector_id": collector.id, "meal_blackout": False})
        auckland = self.env["res.partner"].create({
            "name": "Kiwi Imports Ltd", "email": "ap@kiwi.example.com", "is_company": True,
            "tz": "Pacific/Auckland",
        })
        self._invoice(date(2026, 11, 9), partner=auckland)
        self._run(date(2026, 11, 24), hour=21)
        call = self._comms(partner=auckland, channel="call")
        self.assertEqual((call.state, call.delivery_state), ("sent", "task"), call.failure_reason)
        activity = self.env["mail.activity"].browse(call.activity_id.id)
        self.assertEqual(activity.user_id, collector)
        self.assertEqual(activity.date_deadline, date(2026, 11, 25))
        self.assertIn("Call between 09:00 and 18:00 Pacific/Auckland (21:00-06:00 your time).",
                      str(activity.note))

    def test_call_hours_in_the_same_zone_and_with_the_meal(self):
        collector = new_test_user(self.env, login="dun_win_collector2", tz="Europe/Madrid",
                                  groups="dunning_chain.group_dunning_user")
        self.policy.collector_id = collector
        self._invoice(date(2026, 11, 9), partner=self.madrid)
        self._run(date(2026, 11, 24), hour=9)  # Tuesday 10:00 in Madrid
        call = self._comms(partner=self.madrid, channel="call")
        activity = self.env["mail.activity"].browse(call.activity_id.id)
        self.assertEqual(activity.date_deadline, date(2026, 11, 24))
        self.assertIn("Call between 09:00 and 18:00 Europe/Madrid, not 14:00-15:30.",
                      str(activity.note))

    # ------------------------------------------------------------------ Send Now, Send Anyway
    def _rpc(self, user, method, comms, context=None):
        """As XML-RPC / JSON-RPC calls it: odoo.service.model's dispatch, as that user."""
        self.env.flush_all()
        env = self.env(user=user.id, context={})
        kwargs = {"context": context} if context else {}
        result = rpc.call_kw(env["dunning.communication"], method, [comms.ids], kwargs)
        env.flush_all()
        return result

    def _planned_tuesday(self):
        """A message planned on Friday evening for Tuesday 24 Nov 09:00 (Madrid)."""
        self._invoice(date(2026, 11, 13), partner=self.madrid)
        comm = self._plan_at("2026-11-20 19:30:00")
        self.assertEqual((comm.state, comm.scheduled_at), ("scheduled", datetime(2026, 11, 24, 8)))
        return comm

    def test_send_now_outside_the_window_says_why_and_keeps_it_scheduled(self):
        comm = self._planned_tuesday()
        user = new_test_user(self.env, login="dun_win_user",
                             groups="dunning_chain.group_dunning_user")
        with freeze_time("2026-11-24 17:20:00"):  # Tuesday 18:20 in Madrid
            action = self._rpc(user, "action_send_now", comm,
                               context={"dunning_window_bypass": True, "force_send": True})
        self.assertEqual((action["type"], action["tag"]),
                         ("ir.actions.client", "display_notification"))
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(action["params"]["message"], (
            f"{comm.name} moved to Wednesday 25 Nov 09:00 Europe/Madrid: after the window "
            "(09:00-18:00)"))
        self.assertEqual(comm.state, "scheduled")
        self.assertEqual(comm.scheduled_at, datetime(2026, 11, 25, 8, 0))
        self.assertFalse(comm.window_forced_by_id)
        # inside the window it leaves, and says so
        with freeze_time("2026-11-25 08:00:00"):
            action = self._rpc(user, "action_send_now", comm)
        self.assertEqual(comm.state, "sent")
        self.assertEqual(action["params"]["message"], f"{comm.name} sent")
        self.assertEqual(action["params"]["type"], "success")

    def test_send_anyway_by_a_manager_sends_and_is_recorded(self):
        comm = self._planned_tuesday()
        manager = new_test_user(self.env, login="dun_win_manager", name="Marta Manager",
                                groups="dunning_chain.group_dunning_manager")
        with freeze_time("2026-11-21 09:00:00"):  # Saturday 10:00 in Madrid
            action = self._rpc(manager, "action_send_anyway", comm)
        self.assertEqual(comm.state, "sent", comm.failure_reason)
        self.assertEqual(comm.sent_at, datetime(2026, 11, 21, 9, 0))
        self.assertEqual(comm.window_forced_by_id, manager)
        self.assertEqual(comm.window_forced_at, datetime(2026, 11, 21, 9, 0))
        self.assertEqual(action["params"]["message"], f"{comm.name} sent outside the send window")
        sentence = "Sent outside the send window at the request of Marta Manager."
        self.assertIn(sentence, "".join(comm.message_ids.mapped("body")))
        self.assertIn(sentence, "".join(self.madrid.message_ids.mapped("body")))
        # sealed with the record: the record verifies, and erasing who forced it shows
        self.assertIn("forced", comm._dunning_snapshot())
        keys = self.env["dunning.evidence"]._dunning_chain_keys(comm)
        self.assertFalse(self.env["dunning.evidence"]._dunning_verify(keys))
        self.env.cr.execute("UPDATE dunning_communication SET window_forced_by_id = NULL "
                            "WHERE id = %s", [comm.id])
        self.env.invalidate_all()
        problems = self.env["dunning.evidence"]._dunning_verify(keys)
        self.assertEqual([code for _comm, code, _text in problems], ["content_changed"])

    def test_send_anyway_is_for_managers_only(self):
        comm = self._planned_tuesday()
        user = new_test_user(self.env, login="dun_win_user2",
                             groups="dunning_chain.group_dunning_user")
        with freeze_time("2026-11-21 09:00:00"):  # Saturday 10:00 in Madrid
            with self.assertRaises(AccessError):
                self._rpc(user, "action_send_anyway", comm)
            # no context key opens the window: Send Now moves it, never forces it
            self._rpc(user, "action_send_now", comm, context={
                "dunning_window_bypass": {comm.id: user.id}, "dunning_force": True})
            self.assertEqual(comm.state, "scheduled")
            # nor can anyone write who forced it
            with self.assertRaises(UserError):
                self.env(user=user.id)["dunning.communication"].browse(comm.id).write(
                    {"window_forced_by_id": user.id})
        self.assertFalse(comm.window_forced_by_id)
        self.assertEqual(comm.scheduled_at, datetime(2026, 11, 24, 8, 0))

    def test_send_anyway_refused_after_21_and_on_a_public_holiday(self):
        comm = self._planned_tuesday()
        manager = new_test_user(self.env, login="dun_win_manager2",
                                groups="dunning_chain.group_dunning_manager")
        with freeze_time("2026-11-21 20:30:00"):  # Saturday 21:30 in Madrid
            with self.assertRaisesRegex(UserError, "it is 21:30 in Europe/Madrid: nothing is "
                                                   "sent at or after 21:00"):
                self._rpc(manager, "action_send_anyway", comm)
        self.assertEqual((comm.state, comm.window_forced_by_id.id), ("scheduled", False))
        with freeze_time("2026-12-08 10:00:00"):  # Tuesday 8 Dec: a public holiday in Spain
            with self.assertRaisesRegex(UserError, "it is Tuesday 8 Dec in Europe/Madrid, a "
                                                   "closed day"):
                self._rpc(manager, "action_send_anyway", comm)
        self.assertEqual(comm.state, "scheduled")
