import dataclasses
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError

from ..tools import send_window


class DunningChannelTask(models.AbstractModel):
    """Channels that are tasks for staff, inherited by dunning.communication: a phone call,
    a certified letter / burofax to post (with the letter), a hand-off to an agency or lawyer
    (with a debt summary). The task goes to the level's assignee, else the customer's
    salesperson, else the policy's collector."""

    _name = "dunning.channel.task"
    _description = "Dunning Channel: Staff Task"

    def _dunning_task_user(self):
        """Who gets a call or posting task; an archived salesperson is a failure to fix."""
        config = self.channel_config_id
        if config.activity_user_id:
            user = config.activity_user_id
        elif self.partner_id.user_id:
            user = self.partner_id.user_id
        else:
            user = self.policy_id.collector_id  # then the customer's responsible, below
        if user and not user.active:
            raise UserError(self.env._(
                "%(user)s, who should handle %(customer)s, is archived: assign another "
                "salesperson or collector.", user=user.name, customer=self.partner_id.display_name))
        return user or self._dunning_responsible_user()

    def _dunning_task(self, activity_xmlid, summary, intro, attachments=None, deadline=None,
                      user=None):
        user = user or self._dunning_task_user()
        body = self.env["ir.qweb"]._render("dunning_chain.dunning_task_note",
                                           {"comm": self, "intro": intro})
        activity = self.partner_id.activity_schedule(
            activity_xmlid, summary=summary, note=body, user_id=user.id,
            date_deadline=deadline or fields.Date.context_today(self),
        )
        return {"subject": summary, "body": body, "recipients": user.name,
                "activity_id": activity.id, "delivery_state": "task",
                "attachment_ids": attachments.ids if attachments else []}

    def _dunning_send_call(self):
        user = self._dunning_task_user()
        deadline, hours = self._dunning_call_window(user)
        intro = self.env._("Please call the customer: the invoices below are overdue.")
        if hours:
            intro = Markup("%s<br/>%s") % (intro, hours)
        return self._dunning_task(
            "dunning_chain.mail_activity_type_dunning_call",
            self.env._("Call %s about overdue invoices", self.partner_id.display_name),
            intro, deadline=deadline, user=user)

    def _dunning_call_window(self, user, since=None):
        """(deadline, words) of a call: the next day the policy allows in the customer's time
        zone (today there when it is one and its window is still open; closed days skipped;
        the preferred days do not hold a call back), and its hours there and in the caller's
        zone: "Call between 09:00 and 18:00 Europe/Madrid (08:00-17:00 your time).".
        ``since`` (naive UTC, default now): the first moment the call may be due (another
        attempt tomorrow)."""
        partner, company = self.partner_id, self.company_id
        tz, _source = self.env["dunning.plan"]._dunning_timezone_for(partner, company,
                                                                      self.channel)
        now = since or fields.Datetime.now().replace(microsecond=0)
        rules = dataclasses.replace(self.policy_id._dunning_window_rules(),
                                    preferred_weekdays=frozenset())
        closed = partner._dunning_closed_days(company, now.date() - timedelta(days=1),
                                              now.date() + timedelta(days=400))
        try:
            slot, _facts = send_window.next_allowed_moment(now, tz, rules, closed)
        except ValueError:  # rules that fit no moment: the customer's today, no hours
            return send_window.local(now, send_window.zone(tz)).date(), ""
        day = send_window.local(slot, send_window.zone(tz)).date()
        intervals = rules.intervals(day.weekday())
        if not intervals:
            return day, ""
        words = self.env["dunning.send.window"]

        def wall(minutes, zone_name):
            """The customer's local minute of ``day`` as a wall time in ``zone_name``."""
            moment = datetime.combine(day, time()) + timedelta(minutes=minutes)
            moment = moment.replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo(zone_name))
            return words._dunning_time(moment.time())

        start, end = intervals[0][0], intervals[-1][1]
        gap = (intervals[0][1], intervals[-1][0]) if len(intervals) > 1 else None
        args = {"start": wall(start, tz), "end": wall(end, tz), "tz": tz}
        if gap:
            args["gap"] = f"{wall(gap[0], tz)}-{wall(gap[1], tz)}"
        user_tz = user.tz if user.tz and send_window.is_valid_tz(user.tz) else None
        same = not user_tz or all(wall(m, tz) == wall(m, user_tz) for m in (start, end))
        if not same:
            args["mine"] = f"{wall(start, user_tz)}-{wall(end, user_tz)}"
        if gap and not same:
            args["mine_gap"] = f"{wall(gap[0], user_tz)}-{wall(gap[1], user_tz)}"
            return day, self.env._("Call between %(start)s and %(end)s %(tz)s, not %(gap)s "
                                   "(%(mine)s your time, not %(mine_gap)s).", **args)
        if gap:
            return day, self.env._("Call between %(start)s and %(end)s %(tz)s, not %(gap)s.",
                                   **args)
        if not same:
            return day, self.env._("Call between %(start)s and %(end)s %(tz)s (%(mine)s your "
                                   "time).", **args)
        return day, self.env._("Call between %(start)s and %(end)s %(tz)s.", **args)

    def _dunning_send_certified(self):
        letter = self._dunning_letter_attachment(self.env._("Final notice"))
        return self._dunning_task(
            "mail.mail_activity_data_todo",
            self.env._("Send certified letter to %s", self.partner_id.display_name),
            self.env._("Post the attached letter by certified mail (burofax) with proof of "
                       "delivery, then record the tracking reference on %s.", self.name),
            attachments=letter)

    def _dunning_send_handoff(self):
        summary = self._dunning_letter_attachment(self.env._("Debt summary"))
        agency = self.channel_config_id.handoff_partner_id
        intro = self.env._("Hand the debt over to %s with the attached summary.",
                           agency.display_name) if agency else self.env._(
            "Hand the debt over to the collection agency or lawyer with the attached summary.")
        return self._dunning_task(
            "mail.mail_activity_data_todo",
            self.env._("Hand-off: %s", self.partner_id.display_name), intro, attachments=summary)
