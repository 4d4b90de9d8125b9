"""The collector's day: the calls the chain asked for whose task is still open, in the order
the customers' calling hours open (their time zones), with what the collector needs before
dialling (the amount overdue, the last contact, what was promised before, the number)."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from odoo import api, fields, models

from ..tools import send_window


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    # the collector's day follows the call's task: found by it whenever a task changes
    activity_id = fields.Many2one(index="btree_not_null")
    call_user_id = fields.Many2one(
        "res.users", string="Collector", compute="_compute_call_open", store=True,
        index="btree_not_null", help="Who makes the call (its open task is theirs).")
    call_date = fields.Date(
        string="Call Due", compute="_compute_call_open", store=True,
        help="The day the open call task is due, in the customer's calendar.")
    call_opens_at = fields.Datetime(
        string="Hours Open", compute="_compute_call_open", store=True,
        help="When the customer may first be called on the day the call is due (the policy's "
             "send window in their time zone), shown in your time: the collector's day is in "
             "this order.")
    call_hours = fields.Char(
        string="Calling Hours", compute="_compute_call_facts",
        help="The hours the customer may be called, in their time zone (and in yours).")
    call_phone = fields.Char(string="Phone", compute="_compute_call_facts")
    call_overdue_amount = fields.Monetary(
        string="Overdue Now", compute="_compute_call_facts",
        help="What the customer owes past its due date today, in the company's currency.")
    call_last_contact_at = fields.Datetime(
        string="Last Contact", compute="_compute_call_facts",
        help="When the chain last reached the customer (another sent communication).")
    call_last_contact_channel = fields.Selection(
        selection="_dunning_channel_selection", string="Last Contact By",
        compute="_compute_call_facts")
    call_promise_date = fields.Date(
        string="Promised For", compute="_compute_call_facts",
        help="The last date the customer promised to pay one of these invoices.")
    call_promise_state = fields.Selection(
        [("none", "No promise"), ("open", "Promised"), ("kept", "Kept"), ("broken", "Broken")],
        string="Promise", compute="_compute_call_facts")
    call_broken_promises = fields.Integer(
        string="Broken Promises", compute="_compute_call_facts",
        help="Invoices of the customer whose promised payment did not come.")

    @api.depends("channel", "activity_id.active", "activity_id.date_deadline",
                 "activity_id.user_id", "partner_tz", "policy_id.window_start",
                 "policy_id.avoid_monday_morning", "policy_id.midday")
    def _compute_call_open(self):
        for comm in self:
            activity = comm.sudo().activity_id
            if comm.channel != "call" or not activity.active:
                comm.call_user_id = comm.call_date = comm.call_opens_at = False
                continue
            comm.call_user_id = activity.user_id
            comm.call_date = activity.date_deadline
            comm.call_opens_at = comm._dunning_call_opening(activity.date_deadline)

    def _dunning_call_rules_of(self, day):
        """(time zone, intervals in local minutes) of the customer's calling hours on ``day``."""
        self.ensure_one()
        tz = self.partner_tz if send_window.is_valid_tz(self.partner_tz) else \
            self._dunning_call_tz()
        try:
            rules = self.policy_id._dunning_window_rules()
            rules.validate()
        except ValueError:
            return tz, ()
        return tz, rules.intervals(day.weekday()) or rules.intervals()

    def _dunning_call_opening(self, day):
        """Naive UTC moment the customer's calling hours open on their local ``day``."""
        tz, intervals = self._dunning_call_rules_of(day)
        minutes = intervals[0][0] if intervals else 0
        moment = datetime.combine(day, time(), tzinfo=ZoneInfo(tz)) + timedelta(minutes=minutes)
        return send_window.to_utc_naive(moment)

    def _dunning_call_hours(self, day):
        """``09:00-18:00 Madrid (08:00-17:00 your time)``: the customer's hours, where they
        are, and in the user's time zone."""
        tz, intervals = self._dunning_call_rules_of(day)
        if not intervals:
            return ""
        words = self.env["dunning.send.window"]

        def wall(minutes, zone_name):
            moment = datetime.combine(day, time(), tzinfo=ZoneInfo(tz)) + timedelta(
                minutes=minutes)
            return words._dunning_time(moment.astimezone(ZoneInfo(zone_name)))

        start, end = intervals[0][0], intervals[-1][1]
        place = tz.rsplit("/", 1)[-1].replace("_", " ")  # Europe/Madrid: Madrid
        text = f"{wall(start, tz)}-{wall(end, tz)} {place}"
        user_tz = self.env.user.tz
        if user_tz and send_window.is_valid_tz(user_tz) and wall(start, user_tz) != wall(start, tz):
            text = self.env._("%(hours)s (%(mine)s your time)", hours=text,
                              mine=f"{wall(start, user_tz)}-{wall(end, user_tz)}")
        return text

    def _compute_call_facts(self):
        calls = self.filtered(lambda c: c.channel == "call" and c.partner_id)
        for comm in self - calls:
            comm.call_hours = comm.call_phone = comm.call_last_contact_channel = False
            comm.call_overdue_amount = comm.call_broken_promises = 0
            comm.call_last_contact_at = comm.call_promise_date = False
            comm.call_promise_state = "none"
        if not calls:
            return
        Move = self.env["account.move"]
        today = fields.Date.context_today(self)
        partners = calls.partner_id
        overdue = dict(((partner, company), amount) for partner, company, amount in
                       Move._read_group(
                           Move._dunning_open_domain() + [
                               ("commercial_partner_id", "in", partners.ids),
                               ("invoice_date_due", "<", today)],
                           ["commercial_partner_id", "company_id"],
                           ["amount_residual_signed:sum"]))
        broken = dict(((partner, company), count) for partner, company, count in
                      Move._read_group(
                          [("commercial_partner_id", "in", partners.ids),
                           ("move_type", "=", "out_invoice"),
                           ("dunning_promise_state", "=", "broken")],
                          ["commercial_partner_id", "company_id"], ["__count"]))
        last = {}  # (customer, company): its last two sent communications
        for partner, company in {(c.partner_id, c.company_id) for c in calls}:
            last[(partner, company)] = self.search_fetch(
                [("partner_id", "=", partner.id), ("company_id", "=", company.id),
                 ("state", "=", "sent")], ["sent_at", "channel"],
                order="sent_at desc, id desc", limit=2)
        for comm in calls:
            key = (comm.partner_id, comm.company_id)
            comm.call_hours = comm._dunning_call_hours(comm.call_date or today)
            comm.call_phone = comm._dunning_call_phone()
            comm.call_overdue_amount = overdue.get(key, 0.0)
            comm.call_broken_promises = broken.get(key, 0)
            previous = (last[key] - comm)[:1]
            comm.call_last_contact_at = previous.sent_at
            comm.call_last_contact_channel = previous.channel
            promised = comm.line_ids.move_id.filtered("dunning_promise_date").sorted(
                "dunning_promise_date")[-1:]
            comm.call_promise_date = promised.dunning_promise_date
            comm.call_promise_state = promised.dunning_promise_state or "none"
