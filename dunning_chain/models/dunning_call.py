"""What a dunning call gave: the collector logs the outcome (the Call Outcome form,
dunning.call.outcome), the record keeps it as a sealed event of the call's communication, the
customer's and the invoices' chatter say it, and the chain acts on it:

* a promise to pay pauses the invoices until the date (the promise path of account.move, within
  the policy's maximum, with a task to check the payment the day after, as the customer page
  does);
* a dispute pauses them and gives the responsible a task to resolve it;
* no answer: another attempt on the next day the customer may be called; no answer twice to the
  calls of a step: the invoices go to the next step at once (the next run plans it);
* a wrong number gives the responsible a task to fix the contact;
* call back on: a new call, due that day in the customer's time, its note saying when;
* reached, other (and a payment plan, dunning_portal) are recorded.

The call's task (mail.activity) is marked done with the outcome as feedback.
"""
import dataclasses
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount, format_date

from ..tools import send_window

CALL_ACTIVITY = "dunning_chain.mail_activity_type_dunning_call"


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    # ------------------------------------------------------------------ the form
    def action_dunning_log_call(self):
        """Open the Call Outcome form of this call (dunning users, on a call that was made)."""
        self.ensure_one()
        self._dunning_check_call()
        return self._dunning_call_outcome_action()

    def _dunning_call_outcome_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "dunning.call.outcome",
            "name": self.env._("Call Outcome"),
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_communication_id": self.id},
        }

    def _dunning_check_call(self):
        """A call outcome is logged by a dunning user, on a call of the chain that was made."""
        self.ensure_one()
        if not self.env.user.has_group("dunning_chain.group_dunning_user"):
            raise AccessError(self.env._("Only dunning users log the outcome of a call."))
        self.check_access("write")
        if self.channel != "call" or self.state != "sent":
            raise UserError(self.env._(
                "%s is not a phone call the chain asked for: there is no outcome to log.",
                self.name))

    # ------------------------------------------------------------------ facts of the call
    def _dunning_call_tz(self):
        self.ensure_one()
        tz, _source = self.env["dunning.plan"]._dunning_timezone_for(
            self.partner_id, self.company_id, self.channel)
        return tz

    def _dunning_call_invoices(self):
        """The invoices of the call the chain still follows."""
        self.ensure_one()
        return self.line_ids.move_id.filtered(lambda move: move._dunning_is_open())

    def _dunning_call_phone(self):
        """The number to call: a dunning contact's, else the customer's."""
        self.ensure_one()
        contacts = self.partner_id.child_ids.filtered(lambda p: p.dunning_contact and p.phone)
        return contacts[:1].phone or self.partner_id.phone or ""

    def _dunning_call_open_activity(self):
        """The call's task still open (as superuser: the task may be another user's, and the
        rights were checked before; see _dunning_check_call)."""
        self.ensure_one()
        activity = self.sudo().activity_id
        return activity if activity.active else activity.browse()

    def _dunning_local_moment(self, moment, tz):
        """``Tue 3 Mar 2026 10:00 (Europe/Madrid)``, and `` (09:00 your time)`` when the user's
        clock says otherwise."""
        words = self.env["dunning.send.window"]
        local = send_window.local(moment, send_window.zone(tz))
        text = words._dunning_local_words(local, tz)
        user_tz = self.env.user.tz
        if user_tz and send_window.is_valid_tz(user_tz) and user_tz != tz:
            mine = send_window.local(moment, send_window.zone(user_tz))
            if mine.utcoffset() != local.utcoffset():
                text = self.env._("%(moment)s (%(time)s your time)", moment=text,
                                  time=words._dunning_time(mine))
        return text

    # ------------------------------------------------------------------ the outcome
    def _dunning_log_call_outcome(self, outcome, values):
        """Record what the call gave and act on it (see the module). ``values``: ``note``,
        ``moves`` (the invoices it is about, of the call), ``callback_at`` (naive UTC),
        ``promise_date``, ``promise_amount``, ``dispute_reason``. Returns the event."""
        self.ensure_one()
        self._dunning_check_call()
        labels = dict(self.env["dunning.call.outcome"]._fields["outcome"]._description_selection(
            self.env))
        if outcome not in labels:
            raise UserError(self.env._("Choose what the call gave."))
        moves = values.get("moves") or self._dunning_call_invoices()
        if moves - self.line_ids.move_id:
            raise UserError(self.env._("The outcome of %(call)s is about its own invoices, not "
                                       "%(others)s.", call=self.name, others=", ".join(
                                           (moves - self.line_ids.move_id).mapped("name"))))
        values = dict(values, moves=moves, note=(values.get("note") or "").strip())
        activity = self._dunning_call_open_activity()
        effects = {
            "promise": self._dunning_call_promise,
            "dispute": self._dunning_call_dispute,
            "no_answer": self._dunning_call_no_answer,
            "wrong_number": self._dunning_call_wrong_number,
            "call_back": self._dunning_call_back,
        }
        if outcome in effects:
            description, data, over = effects[outcome](values, activity)
        else:
            description, data, over = labels[outcome], {}, True
        data = {"outcome": outcome, "note": values["note"],
                "by": [self.env.user.id, self.env.user.name],
                "invoices": moves.mapped("name"), **data}
        event = self._dunning_record_event("call", description, data)
        feedback = description + (f"\n{values['note']}" if values["note"] else "")
        self._dunning_call_chatter(description, values["note"], on_customer=not activity
                                   or (activity.res_model, activity.res_id)
                                   != ("res.partner", self.partner_id.id))
        if activity:
            activity.action_feedback(feedback=feedback)  # authored by the user, who logged it
        if over and self.delivery_state == "task":
            self._dunning_sys_write({"delivery_state": "done"})
        return event

    def _dunning_call_chatter(self, description, note, on_customer=True):
        """The outcome in the chatter of the call, of its invoices and (unless the call's task,
        marked done there, says it) of the customer."""
        link = Markup('<a href="#" data-oe-model="dunning.communication" data-oe-id="%s">%s</a>'
                      ) % (self.id, self.name)
        body = Markup("<p>%s %s: %s</p>") % (self.env._("Call outcome"), link, description)
        if note:
            body += Markup("<p>%s</p>") % note
        self._message_log(body=body)
        if on_customer:
            self.partner_id._message_log(body=body)
        invoices = self.line_ids.move_id
        if invoices:
            invoices._message_log_batch(bodies=dict.fromkeys(invoices.ids, body))

    def _dunning_call_task_user(self, activity):
        """Who makes the next call: whoever had this one, else the chain's choice."""
        return activity.user_id if activity.user_id.active else self._dunning_task_user()

    def _dunning_call_schedule(self, deadline, summary, intro, activity):
        """A new call task for this communication (the collector's day lists it)."""
        result = self.sudo()._dunning_task(CALL_ACTIVITY, summary, intro, deadline=deadline,
                                           user=self._dunning_call_task_user(activity))
        self._dunning_sys_write({"activity_id": result["activity_id"]})
        return self.env["mail.activity"].browse(result["activity_id"])

    # ------------------------------------------------------------------ effects
    def _dunning_call_promise(self, values, activity):
        day = values.get("promise_date")
        if not day:
            raise UserError(self.env._("Enter the date the customer promised to pay."))
        amount = values.get("promise_amount") or 0.0
        if amount < 0:
            raise UserError(self.env._("A promised amount cannot be negative."))
        moves = values["moves"].filtered(lambda m: m._dunning_is_open()
                                         and m.dunning_dispute_state != "open")
        if not moves:
            raise UserError(self.env._("The invoices of %s are paid or disputed: there is no "
                                       "payment left to promise.", self.name))
        currency = values.get("currency") or self.currency_id
        moves._dunning_promise(day, values["note"])  # the policy's limits, the pause
        summary = self.env._("Check the payment promised for %s", day)
        for move in moves:  # as the customer page does
            move.activity_schedule(
                "mail.mail_activity_data_todo", date_deadline=day + timedelta(days=1),
                user_id=move._dunning_responsible().id, summary=summary,
                note=values["note"])
        when = format_date(self.env, day)
        if amount:
            description = self.env._("Promised to pay %(amount)s on %(date)s",
                                     amount=format_amount(self.env, amount, currency), date=when)
        else:
            description = self.env._("Promised to pay on %s", when)
        return description, {"promise_date": str(day), "promise_amount": amount,
                             "currency": currency.name,
                             "promised_invoices": moves.mapped("name")}, True

    def _dunning_call_dispute(self, values, activity):
        reason = (values.get("dispute_reason") or "").strip()
        if not reason:
            raise UserError(self.env._("Say why the customer disputes the invoices."))
        moves = values["moves"].filtered(lambda m: m._dunning_is_open()
                                         and m.dunning_dispute_state != "open")
        if not moves:
            raise UserError(self.env._("The invoices of %s are paid or already disputed.",
                                       self.name))
        moves._dunning_dispute(reason)
        return (self.env._("Disputes: %s", reason),
                {"reason": reason, "disputed_invoices": moves.mapped("name")}, True)

    def _dunning_no_answer_count(self):
        """No answers logged so far on the calls of this step for these invoices."""
        calls = self.search([
            ("partner_id", "=", self.partner_id.id), ("level_id", "=", self.level_id.id),
            ("channel", "=", "call"), ("state", "=", "sent"),
            ("line_ids.move_id", "in", self.line_ids.move_id.ids)])
        events = self.env["dunning.communication.event"].sudo().search(
            [("communication_id", "in", calls.ids), ("kind", "=", "call")])
        return sum(1 for event in events
                   if json.loads(event.data or "{}").get("outcome") == "no_answer")

    def _dunning_call_no_answer(self, values, activity):
        attempt = self._dunning_no_answer_count() + 1
        if attempt >= 2:
            moves = self._dunning_call_invoices().filtered(
                lambda m: m.dunning_level_id == self.level_id)
            moves._dunning_remind_at_once(self.env._(
                "no answer to %(count)s calls (%(step)s)", count=attempt,
                step=self.level_id.name))
            description = self.env._("No answer again (attempt %s): the next step goes at once",
                                     attempt)
            return description, {"attempt": attempt,
                                 "next_step_at_once": moves.mapped("name")}, True
        tz = self._dunning_call_tz()
        zone = ZoneInfo(tz)
        tomorrow = send_window.local(fields.Datetime.now(), zone).date() + timedelta(days=1)
        since = send_window.to_utc_naive(datetime.combine(tomorrow, time(), tzinfo=zone))
        user = self._dunning_call_task_user(activity)
        day, hours = self._dunning_call_window(user, since=since)
        intro = self.env._("No answer on %(date)s: please call again.",
                           date=format_date(self.env, fields.Date.context_today(self)))
        if hours:
            intro = Markup("%s<br/>%s") % (intro, hours)
        self._dunning_call_schedule(day, self.env._("Call %s again", self.partner_id.display_name),
                                    intro, activity)
        description = self.env._("No answer: another attempt on %s", format_date(self.env, day))
        return description, {"attempt": attempt, "next_call": str(day)}, False

    def _dunning_call_wrong_number(self, values, activity):
        phone = self._dunning_call_phone()
        user = self.partner_id._dunning_responsible_user(self.company_id)
        intro = self.env._("The number called for %(call)s is wrong (%(phone)s): find the right "
                           "one and correct the contact.", call=self.name, phone=phone or "-")
        note = Markup("<p>%s</p>") % intro
        if values["note"]:
            note += Markup("<p>%s</p>") % values["note"]
        self.partner_id.sudo().activity_schedule(
            "mail.mail_activity_data_todo", user_id=user.id, note=note,
            summary=self.env._("Fix the phone number of %s", self.partner_id.display_name))
        return (self.env._("Wrong number: %s", phone or "-"),
                {"phone": phone, "fix_by": [user.id, user.name]}, True)

    def _dunning_check_call_back(self, moment):
        """A call back is in the future and inside the hours the policy allows calling the
        customer, in their time zone: a clear error otherwise."""
        if moment <= fields.Datetime.now():
            raise UserError(self.env._("Call back later than now (%s has passed).",
                                       self._dunning_local_moment(moment, self._dunning_call_tz())))
        tz = self._dunning_call_tz()
        rules = dataclasses.replace(self.policy_id._dunning_window_rules(),
                                    preferred_weekdays=frozenset())
        closed = self.partner_id._dunning_closed_days(
            self.company_id, moment.date() - timedelta(days=1), moment.date() + timedelta(days=400))
        try:
            slot, facts = send_window.next_allowed_moment(moment, tz, rules, closed)
        except ValueError:
            slot, facts = None, []
        if slot == moment:
            return
        words = self.env["dunning.send.window"]
        raise UserError(self.env._(
            "%(moment)s is outside the hours %(customer)s may be called (the policy's send "
            "window, in their time zone). The first moment allowed: %(next)s.",
            moment=self._dunning_local_moment(moment, tz), customer=self.partner_id.display_name,
            next=words._dunning_words(facts) if facts else "-"))

    def _dunning_call_back(self, values, activity):
        moment = values.get("callback_at")
        if not moment:
            raise UserError(self.env._("Enter when to call the customer back."))
        moment = moment.replace(second=0, microsecond=0)
        self._dunning_check_call_back(moment)
        tz = self._dunning_call_tz()
        when = self._dunning_local_moment(moment, tz)
        intro = self.env._("Call back on %s, as agreed with the customer.", when)
        if values["note"]:
            intro = Markup("%s<br/>%s") % (intro, values["note"])
        day = send_window.local(moment, send_window.zone(tz)).date()
        self._dunning_call_schedule(
            day, self.env._("Call back %s", self.partner_id.display_name), intro, activity)
        return (self.env._("Call back on %s", when),
                {"callback_at": fields.Datetime.to_string(moment), "tz": tz}, False)
