from odoo import api, fields, models
from odoo.exceptions import ValidationError


class DunningLevel(models.Model):
    """One step of a chain: when (days from the due date), through which channels, for whom."""

    _name = "dunning.level"
    _description = "Dunning Level"
    _order = "policy_id, offset_days, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(
        default=True,
        help="An archived level is skipped by the run (e.g. the optional 'invoice issued' step "
             "of the default chain, off until switched on).")
    policy_id = fields.Many2one("dunning.policy", required=True, ondelete="cascade", index=True)
    policy_kind = fields.Selection(related="policy_id.kind")
    company_id = fields.Many2one(related="policy_id.company_id", store=True)
    count_from = fields.Selection(
        [("due", "Due date"), ("invoice", "Invoice date")],
        string="Counts From", default="due", required=True,
        help="Due date: a step of the chain of overdue invoices (the invoice reaches it and "
             "goes on to the next). Invoice date: a one-off message per invoice on its day "
             "(e.g. 'invoice issued' on the day the invoice is posted), sent once, that does "
             "not move the invoice in the chain. The levels of a failed-payment policy count "
             "from the failure.")
    offset_days = fields.Integer(
        string="Days", required=True,
        help="Days from the date the level counts from. From the due date: negative before the "
             "invoice falls due (a friendly notice), 0 on the due date, positive days overdue. "
             "From the invoice date: 0 on the invoice date. In a failed-payment policy: days "
             "after the failure (0: at once).",
    )
    channel_ids = fields.One2many("dunning.level.channel", "level_id", string="Channels", copy=True)
    channel_summary = fields.Char(compute="_compute_channel_summary", string="Channel(s)")
    late_payers_only = fields.Boolean(
        help="Only for customers who usually pay late (see the policy's late payer threshold). "
             "A built-in case of 'Only for Segments', from the average days late: a segment of "
             "customers rated C or D does the same from the payer rating.",
    )
    needs_review = fields.Boolean(
        help="Messages of this level wait for an accountant's approval, even in automatic mode.",
    )
    is_final = fields.Boolean(
        string="Final Step",
        help="The last step of the chain (e.g. hand-off): nothing is planned after it.",
    )
    note = fields.Text(translate=True, help="Internal explanation of this step.")
    # charges this step applies to each invoice it reminds (the policy decides whether they are
    # only announced or booked)
    charge_interest = fields.Boolean(
        string="Statutory Interest",
        help="Interest under the late payment law of the customer's rule (reference rate plus "
             "points), from the day after the due date, or after the last interest charged, to "
             "the day the message leaves.")
    charge_compensation = fields.Boolean(
        string="Recovery Compensation",
        help="The law's fixed compensation for recovery costs (EUR 40 in the EU): once per "
             "invoice, ever, whatever the level or policy.")
    charge_fee = fields.Monetary(
        string="Fixed Fee per Invoice", currency_field="company_currency_id",
        help="A fixed reminder fee per invoice (in the company currency), if your terms allow "
             "it.")
    charge_percent = fields.Float(
        string="Surcharge (% of overdue)", digits=(5, 2),
        help="A percentage of the overdue amount of each invoice, if your terms allow it.")
    company_currency_id = fields.Many2one("res.currency", compute="_compute_company_currency_id")

    _offset_policy_uniq = models.Constraint(
        "UNIQUE(policy_id, count_from, offset_days)",
        "Two levels of the same policy cannot count the same number of days from the same date.",
    )

    @api.depends("company_id")
    def _compute_company_currency_id(self):
        for level in self:
            level.company_currency_id = (level.company_id or self.env.company).currency_id

    @api.constrains("count_from", "offset_days", "policy_id")
    def _check_count_from(self):
        for level in self:
            if level.policy_id.kind == "failed_payment" and level.count_from != "due":
                raise ValidationError(self.env._(
                    "The levels of a failed-payment policy count from the failure: level '%s' "
                    "cannot count from the invoice date.", level.name))
            if level.policy_id.kind == "failed_payment" and level.offset_days < 0:
                raise ValidationError(self.env._(
                    "The steps of a failed-payment policy come after the failure (0: at once): "
                    "level '%s' cannot come before it.", level.name))
            if level.count_from == "invoice" and level.offset_days < 0:
                raise ValidationError(self.env._(
                    "Level '%s' counts from the invoice date: it cannot come before it.",
                    level.name))

    @api.constrains("charge_fee", "charge_percent")
    def _check_charges(self):
        for level in self:
            if level.charge_fee < 0 or not 0 <= level.charge_percent <= 100:
                raise ValidationError(self.env._(
                    "A fee cannot be negative and a surcharge must lie between 0 and 100 %."))

    def _dunning_charges(self):
        """The kinds of charge this level applies."""
        self.ensure_one()
        kinds = []
        if self.charge_interest:
            kinds.append("interest")
        if self.charge_compensation:
            kinds.append("compensation")
        if self.charge_fee:
            kinds.append("fee")
        if self.charge_percent:
            kinds.append("percent")
        return kinds

    @api.depends("channel_ids.channel")
    def _compute_channel_summary(self):
        labels = dict(self.env["dunning.level.channel"]._fields["channel"]._description_selection(self.env))
        for level in self:
            level.channel_summary = ", ".join(labels.get(c.channel, c.channel) for c in level.channel_ids)

    @api.depends("name", "offset_days", "count_from", "policy_id.kind")
    def _compute_display_name(self):
        for level in self:
            if level.policy_id.kind == "failed_payment":
                when = (self.env._("+%s days after the failure", level.offset_days)
                        if level.offset_days else self.env._("at once"))
            elif level.count_from == "invoice":
                when = (self.env._("+%s days after the invoice date", level.offset_days)
                        if level.offset_days else self.env._("on the invoice date"))
            elif level.offset_days < 0:
                when = self.env._("%s days before due", -level.offset_days)
            elif level.offset_days == 0:
                when = self.env._("on the due date")
            else:
                when = self.env._("+%s days", level.offset_days)
            level.display_name = f"{level.name} ({when})"

    def _needs_review(self):
        self.ensure_one()
        return self.needs_review or self.policy_id.mode == "review"
