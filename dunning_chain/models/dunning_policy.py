from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.send_window import WindowRules
from ..tools.window_rules import WindowRulesError

#: The weekday fields of a policy, in Python's weekday order (Monday = 0): send_mon... (the days
#: messages may reach the customer) and prefer_mon... (those used first)
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DunningPolicy(models.Model):
    """An escalation chain: the levels a customer goes through while an invoice stays unpaid."""

    _name = "dunning.policy"
    _description = "Dunning Policy"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True,
        help="Leave empty to share this policy between all companies.",
    )
    kind = fields.Selection(
        [("overdue", "Overdue invoices"), ("failed_payment", "Failed payment")],
        string="Chain For", default="overdue", required=True,
        help="Overdue invoices: the chain of a customer's open invoices, from their due date "
             "(the company's default policy or the customer's own). Failed payment: what "
             "follows an online payment that did not go through (the company's failed-payment "
             "policy, Settings > Invoicing > Dunning), counted from the failure; the invoice "
             "then rejoins its overdue chain where it stood.")
    # archived levels too: the policy form lists them (an optional level is switched on there);
    # the run walks the active ones (_levels_by_offset)
    level_ids = fields.One2many("dunning.level", "policy_id", string="Levels", copy=True,
                                context={"active_test": False})
    retry_days = fields.Integer(
        string="Retry Reminder After (days)", compute="_compute_retry_days",
        inverse="_inverse_retry_days",
        help="Failed payments: days after the failure when the retry reminder (the last step "
             "of this policy) goes; after it the invoice rejoins its overdue chain.")
    level_count = fields.Integer(compute="_compute_level_count")
    minimum_amount = fields.Monetary(
        string="Minimum Overdue Amount",
        currency_field="currency_id",
        help="Customers owing less than this (in the company currency) are not reminded.",
    )
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_currency_id",
        help="Currency of the minimum amount: the company's, or the current company's when shared.",
    )
    grouping = fields.Selection(
        [("partner", "One message per customer (debt summary)"),
         ("invoice", "One message per invoice")],
        default="partner", required=True,
        help="Per customer: one message lists every invoice that reached the level.",
    )
    mode = fields.Selection(
        [("automatic", "Automatic"), ("review", "Review before sending")],
        default="automatic", required=True,
        help="In review mode every planned message waits for an accountant's approval.",
    )
    collector_id = fields.Many2one(
        "res.users", string="Collector",
        help="Receives the phone-call and hand-off tasks when the customer has no salesperson, "
             "and the tasks raised when a message fails.",
    )
    late_payer_days = fields.Integer(
        string="Late Payer Threshold (days)", default=5,
        help="A customer is a late payer when their paid invoices were paid on average more "
             "than this many days after the due date. Levels can be restricted to late payers.",
    )
    thank_you_template_id = fields.Many2one(
        "mail.template", string="Payment Received Message",
        domain=[("model", "=", "dunning.communication")],
        help="Sent when a reminded invoice is paid in full. Leave empty to send nothing.",
    )
    max_promise_days = fields.Integer(
        string="Maximum Promise Delay (days)", default=30,
        help="A promise to pay cannot be later than this many days from the day it is given.",
    )
    partner_count = fields.Integer(compute="_compute_partner_count", string="Customers")
    charge_mode = fields.Selection(
        [("none", "No charges"),
         ("show", "Announce only (\"you may be charged...\")"),
         ("book", "Book them (a fee invoice per customer and run)")],
        string="Late Payment Charges", default="show", required=True,
        help="What the charges of the levels do: nothing, a sentence in the message with the "
             "amounts the law allows, or a customer invoice for them at the end of the run.")
    charge_consumers = fields.Boolean(
        string="Charge Consumers",
        help="Consumers (customers that are not businesses) are never charged unless this is "
             "set, and then only under a consumer rule.")
    charge_law = fields.Selection(
        [("company", "The company's country (the seller's law)"),
         ("customer", "The customer's country")],
        string="Law Applied", default="company", required=True,
        help="Whose late payment law gives the rate and the compensation. Contracts between "
             "businesses are usually governed by the seller's law.")

    # Send windows: when messages may reach the customer, in the customer's own time zone.
    window_start = fields.Float(string="Send From", default=9.0,
                                help="Earliest local hour (customer's time zone).")
    window_end = fields.Float(string="Send Until", default=18.0,
                              help="Latest local hour. 21:00 is a hard limit no setting can pass.")
    meal_blackout = fields.Boolean(string="Avoid Meal Time", default=True)
    meal_start = fields.Float(default=14.0)
    meal_end = fields.Float(default=15.5)
    preference_delay_days = fields.Integer(
        string="Preferred Day Tolerance (days)", default=2,
        help="A sending day that is not preferred (by default Monday or Friday) is used only "
             "when waiting for the next preferred day would delay the message by more than this "
             "many days. 0: the first sending day, preferred or not.")
    # The days, one Boolean per weekday and set (as Odoo's recurrences and lunch suppliers
    # keep theirs): plain columns with plain defaults, a checkbox each in the form, nothing to
    # ship, protect or translate as data (babel names the weekdays in every language).
    send_mon = fields.Boolean(string="Send on Monday", default=True)
    send_tue = fields.Boolean(string="Send on Tuesday", default=True)
    send_wed = fields.Boolean(string="Send on Wednesday", default=True)
    send_thu = fields.Boolean(string="Send on Thursday", default=True)
    send_fri = fields.Boolean(string="Send on Friday", default=True)
    send_sat = fields.Boolean(string="Send on Saturday")
    send_sun = fields.Boolean(string="Send on Sunday")
    prefer_mon = fields.Boolean(string="Prefer Monday")
    prefer_tue = fields.Boolean(string="Prefer Tuesday", default=True)
    prefer_wed = fields.Boolean(string="Prefer Wednesday", default=True)
    prefer_thu = fields.Boolean(string="Prefer Thursday", default=True)
    prefer_fri = fields.Boolean(string="Prefer Friday")
    prefer_sat = fields.Boolean(string="Prefer Saturday")
    prefer_sun = fields.Boolean(string="Prefer Sunday")
    avoid_friday_afternoon = fields.Boolean(
        string="Avoid Friday Afternoon",
        help="On Fridays, send only before the hour below (customer's time zone).")
    avoid_monday_morning = fields.Boolean(
        string="Avoid Monday Morning",
        help="On Mondays, send only from the hour below on (customer's time zone).")
    midday = fields.Float(
        string="Afternoon Starts At", default=12.0,
        help="The hour that splits morning from afternoon for the two options above; it must "
             "lie inside the window.")
    max_per_hour = fields.Integer(
        string="Messages per Hour (per channel)", default=200,
        # counted per company and channel over every policy of the company
        help="Spreads the messages of a run over the window instead of sending them all at "
             "09:00. 0: no limit.")
    cap_email = fields.Integer(string="E-mails per 7 Days", default=3,
                               help="At most this many e-mails to a customer in any 7 days.")
    cap_call = fields.Integer(string="Calls per 7 Days", default=3,
                              help="At most this many calls to a customer in any 7 days (US "
                                   "Regulation F presumes harassment above 7).")

    _minimum_amount_positive = models.Constraint(
        "CHECK(minimum_amount >= 0)", "The minimum overdue amount cannot be negative.")

    @api.depends("level_ids")
    def _compute_level_count(self):
        for policy in self:
            policy.level_count = len(policy.level_ids.filtered("active"))

    @api.depends("kind", "level_ids.offset_days", "level_ids.active")
    def _compute_retry_days(self):
        for policy in self:
            retry = policy._dunning_retry_level()
            policy.retry_days = retry.offset_days if retry else 0

    def _inverse_retry_days(self):
        for policy in self.filtered(lambda p: p.kind == "failed_payment"):
            retry = policy._dunning_retry_level()
            if retry:
                retry.offset_days = policy.retry_days
            elif policy.retry_days:
                raise ValidationError(self.env._(
                    "Policy '%s' has no retry step yet: add a level after the failure notice "
                    "(days after the failure above 0).", policy.name))

    @api.constrains("kind")
    def _check_kind_levels(self):
        self.level_ids._check_count_from()  # a failed-payment policy counts from the failure

    def _dunning_retry_level(self):
        """The retry reminder of a failed-payment policy: its last step, when it comes after
        the failure notice (an empty recordset otherwise)."""
        self.ensure_one()
        if self.kind != "failed_payment":
            return self.env["dunning.level"]
        last = self._levels_by_offset()[-1:]
        return last if last.offset_days > 0 else last.browse()

    @api.depends("company_id")
    def _compute_currency_id(self):
        for policy in self:
            policy.currency_id = (policy.company_id or self.env.company).currency_id

    def _compute_partner_count(self):
        groups = dict(self.env["res.partner"]._read_group(
            [("dunning_policy_id", "in", self.ids)], ["dunning_policy_id"], ["__count"]))
        for policy in self:
            policy.partner_count = groups.get(policy, 0)

    @api.constrains("window_start", "window_end", "meal_blackout", "meal_start", "meal_end",
                    "preference_delay_days", "max_per_hour", "cap_email", "cap_call",
                    "avoid_friday_afternoon", "avoid_monday_morning", "midday",
                    *(f"send_{key}" for key in WEEKDAY_KEYS),
                    *(f"prefer_{key}" for key in WEEKDAY_KEYS))
    def _check_send_window(self):
        for policy in self:
            try:
                policy._dunning_window_rules().validate()
            except WindowRulesError as exc:  # a fact, worded in the user's language
                error = self.env["dunning.send.window"]._dunning_words([exc.fact])
                raise ValidationError(self.env._("Send window of '%(policy)s': %(error)s",
                                                 policy=policy.name, error=error)) from exc
            if min(policy.max_per_hour, policy.cap_email, policy.cap_call) < 0:
                raise ValidationError(self.env._("Limits cannot be negative (0 means no limit)."))

    @api.onchange(*(f"send_{key}" for key in WEEKDAY_KEYS))
    def _onchange_send_days(self):
        """A day that is no longer a sending day is no longer preferred either."""
        for key in WEEKDAY_KEYS:
            if not self[f"send_{key}"] and self[f"prefer_{key}"]:
                self[f"prefer_{key}"] = False

    def _dunning_window_rules(self):
        self.ensure_one()
        return WindowRules(
            start=self.window_start, end=self.window_end,
            meal_start=self.meal_start if self.meal_blackout else None,
            meal_end=self.meal_end if self.meal_blackout else None,
            allowed_weekdays=frozenset(
                wd for wd, key in enumerate(WEEKDAY_KEYS) if self[f"send_{key}"]),
            preferred_weekdays=frozenset(
                wd for wd, key in enumerate(WEEKDAY_KEYS) if self[f"prefer_{key}"]),
            max_preference_delay_days=self.preference_delay_days,
            avoid_friday_afternoon=self.avoid_friday_afternoon,
            avoid_monday_morning=self.avoid_monday_morning,
            midday=self.midday,
        )

    def _dunning_frequency_cap(self, channel):
        """Maximum contacts per customer in 7 days for a channel (0: no cap)."""
        self.ensure_one()
        cap_field = self.env["dunning.level.channel"]._dunning_traits_of(channel).cap_field
        return self[cap_field] if cap_field else 0

    @api.constrains("max_promise_days", "late_payer_days")
    def _check_days(self):
        for policy in self:
            if policy.max_promise_days < 0 or policy.late_payer_days < 0:
                raise ValidationError(self.env._("Numbers of days cannot be negative."))

    def _levels_by_offset(self):
        """Active levels of the chain, earliest first (the order the chain walks through
        them): from the due date (or, in a failed-payment policy, from the failure). The
        one-off steps counted from the invoice date are _dunning_issue_levels."""
        self.ensure_one()
        return self.level_ids.filtered(
            lambda lvl: lvl.active and lvl.count_from == "due").sorted(
            lambda lvl: (lvl.offset_days, lvl.sequence, lvl.id))

    def _dunning_issue_levels(self):
        """Active one-off steps counted from the invoice date (e.g. 'invoice issued'),
        earliest first."""
        self.ensure_one()
        if self.kind != "overdue":
            return self.env["dunning.level"]
        return self.level_ids.filtered(
            lambda lvl: lvl.active and lvl.count_from == "invoice").sorted(
            lambda lvl: (lvl.offset_days, lvl.sequence, lvl.id))

    def action_preview(self):
        """What would go out today, to whom and why, without sending or saving anything."""
        self.ensure_one()
        return self.env["dunning.preview.wizard"].create({"policy_id": self.id})._action_open()
