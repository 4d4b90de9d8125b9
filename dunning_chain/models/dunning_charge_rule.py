from datetime import date

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import charges as charge_tools

RATE_SOURCES = [
    ("ecb_mro", "ECB main refinancing rate"),
    ("de_base", "Bundesbank base rate (Basiszinssatz)"),
    ("boe_base", "Bank of England base rate"),
    ("none", "No reference rate (margin only)"),
]


class DunningReferenceRate(models.Model):
    """A published reference rate, valid from a date (the first day of a half-year) until the
    next one of the same source. Data, kept by an administrator as the banks publish them."""

    _name = "dunning.reference.rate"
    _description = "Late Payment Reference Rate"
    _order = "source, date_from desc"

    source = fields.Selection(RATE_SOURCES[:-1], required=True)
    date_from = fields.Date(string="Valid From", required=True,
                            help="Usually 1 January or 1 July: the rate applies to the whole "
                                 "half-year, until the next rate of the same source.")
    rate = fields.Float(string="Rate (%)", digits=(6, 3), required=True)
    note = fields.Char(help="Where it was published.")

    _source_date_uniq = models.Constraint(
        "UNIQUE(source, date_from)", "A source has one rate per date.")

    @api.depends("source", "date_from", "rate")
    def _compute_display_name(self):
        labels = dict(self._fields["source"]._description_selection(self.env))
        for rate in self:
            rate.display_name = f"{labels.get(rate.source, '')} {rate.date_from or ''}: {rate.rate:.2f} %"

    @api.model
    def _dunning_rates(self, source):
        """Sorted ``[(date_from, rate)]`` of a source."""
        rates = self.sudo().search([("source", "=", source)], order="date_from")
        return [(r.date_from, r.rate) for r in rates]


class DunningChargeRule(models.Model):
    """The law on late payment of a country, for businesses or consumers: statutory interest
    (a reference rate plus points) and a fixed recovery compensation per invoice."""

    _name = "dunning.charge.rule"
    _description = "Late Payment Rule"
    _order = "country_id, customer_kind, date_from desc, id"

    name = fields.Char(required=True, translate=True)
    law = fields.Char(string="Law", translate=True, required=True,
                      help="Quoted in the messages, e.g. 'Ley 3/2004' or '§ 288 BGB'.")
    active = fields.Boolean(default=True)
    country_id = fields.Many2one("res.country", required=True)
    customer_kind = fields.Selection(
        [("business", "Businesses"), ("consumer", "Consumers")], string="For",
        required=True, default="business")
    rate_source = fields.Selection(RATE_SOURCES, required=True, default="ecb_mro",
                                   string="Reference Rate")
    rate_margin = fields.Float(string="Points Added", digits=(6, 3),
                               help="Added to the reference rate of each half-year.")
    compensation_amount = fields.Monetary(
        string="Recovery Compensation", currency_field="compensation_currency_id",
        help="Fixed compensation for recovery costs, once per invoice (CJEU C-585/20): "
             "due without proof of costs. Tiers below replace it by debt size.")
    compensation_currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.ref("base.EUR"))
    tier_ids = fields.One2many("dunning.charge.rule.tier", "rule_id", string="Tiers by Debt",
                               copy=True)
    compensation_summary = fields.Char(compute="_compute_compensation_summary",
                                       string="Compensation per Invoice")
    date_from = fields.Date(string="Valid From")
    date_to = fields.Date(string="Valid Until")
    note = fields.Text(translate=True)

    @api.depends("compensation_amount", "compensation_currency_id", "tier_ids.amount",
                 "tier_ids.minimum_debt")
    def _compute_compensation_summary(self):
        for rule in self:
            currency = rule.compensation_currency_id
            if rule.tier_ids:
                rule.compensation_summary = self.env._(
                    "%s by debt size", " / ".join(currency.format(t.amount) for t in rule.tier_ids))
            elif rule.compensation_amount:
                rule.compensation_summary = currency.format(rule.compensation_amount)
            else:
                rule.compensation_summary = self.env._("none")

    @api.constrains("date_from", "date_to", "rate_margin", "compensation_amount")
    def _check_values(self):
        for rule in self:
            if rule.date_from and rule.date_to and rule.date_to < rule.date_from:
                raise ValidationError(self.env._("A rule cannot end before it starts."))
            if rule.compensation_amount < 0:
                raise ValidationError(self.env._("The compensation cannot be negative."))

    @api.model
    def _dunning_find(self, country, customer_kind, day):
        """The rule in force on ``day`` for that country and kind of customer, if any."""
        if not country:
            return self.browse()
        return self.sudo().search([
            ("country_id", "=", country.id), ("customer_kind", "=", customer_kind),
            "|", ("date_from", "=", False), ("date_from", "<=", day),
            "|", ("date_to", "=", False), ("date_to", ">=", day),
        ], order="date_from desc, id desc", limit=1)

    def _dunning_rates(self):
        """``[(date_from, annual rate %)]``: the reference rates plus the margin."""
        self.ensure_one()
        if self.rate_source == "none":
            return [(date(1900, 1, 1), self.rate_margin)]
        reference = self.env["dunning.reference.rate"]._dunning_rates(self.rate_source)
        return [(day, rate + self.rate_margin) for day, rate in reference]

    def _dunning_compensation(self, debt):
        """The fixed compensation for an invoice of ``debt`` (in the rule's currency)."""
        self.ensure_one()
        if self.tier_ids:
            amount = charge_tools.tier_amount(
                [(t.minimum_debt, t.amount) for t in self.tier_ids], debt)
            return amount or 0.0
        return self.compensation_amount

    def _dunning_rate_on(self, day):
        self.ensure_one()
        return charge_tools.rate_on(self._dunning_rates(), day)


class DunningChargeRuleTier(models.Model):
    _name = "dunning.charge.rule.tier"
    _description = "Late Payment Compensation Tier"
    _order = "minimum_debt"

    rule_id = fields.Many2one("dunning.charge.rule", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="rule_id.compensation_currency_id")
    minimum_debt = fields.Monetary(string="Debt From", currency_field="currency_id")
    amount = fields.Monetary(string="Compensation", currency_field="currency_id")
