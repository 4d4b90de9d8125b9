from odoo import api, fields, models
from odoo.exceptions import ValidationError


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
    level_ids = fields.One2many("dunning.level", "policy_id", string="Levels", copy=True)
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

    _minimum_amount_positive = models.Constraint(
        "CHECK(minimum_amount >= 0)", "The minimum overdue amount cannot be negative.")

    @api.depends("level_ids")
    def _compute_level_count(self):
        for policy in self:
            policy.level_count = len(policy.level_ids)

    @api.depends("company_id")
    def _compute_currency_id(self):
        for policy in self:
            policy.currency_id = (policy.company_id or self.env.company).currency_id

    def _compute_partner_count(self):
        groups = dict(self.env["res.partner"]._read_group(
            [("dunning_policy_id", "in", self.ids)], ["dunning_policy_id"], ["__count"]))
        for policy in self:
            policy.partner_count = groups.get(policy, 0)

    @api.constrains("max_promise_days", "late_payer_days")
    def _check_days(self):
        for policy in self:
            if policy.max_promise_days < 0 or policy.late_payer_days < 0:
                raise ValidationError(self.env._("Numbers of days cannot be negative."))

    def _levels_by_offset(self):
        """Active levels, earliest first (the order the chain walks through them)."""
        self.ensure_one()
        return self.level_ids.sorted(lambda lvl: (lvl.offset_days, lvl.sequence, lvl.id))

    def action_preview(self):
        """What would go out today, to whom and why, without sending or saving anything."""
        self.ensure_one()
        return self.env["dunning.preview.wizard"].create({"policy_id": self.id})._action_open()
