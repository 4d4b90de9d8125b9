"""Customer segments: rules on what a customer is (payer rating, country, tags, what it owes)
that choose its policy and the levels meant for it.

A customer is *in* every active segment of the company whose rules it meets (a rule left empty
is met by everyone; every rule set must be met). The first of them, by sequence, that names a
policy gives the customer its policy, unless the customer has a policy of its own. Levels can be
limited to segments (``dunning.level.segment_ids``): the pre-due notice of the shipped chain,
for instance, can go to a segment of customers rated C or D.

Resolution works in bulk (``_dunning_membership``): the planner resolves every customer of a
run with a handful of queries, whatever their number.
"""
from collections import defaultdict, namedtuple

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, format_amount

from .dunning_payer_rating import RATING_SELECTION

#: What a segment's rules look at for one customer in one company.
Traits = namedtuple("Traits", ["rating", "country_id", "category_ids", "overdue"])


class DunningSegment(models.Model):
    _name = "dunning.segment"
    _description = "Dunning Segment"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(
        default=10,
        help="The first matching segment that names a policy gives it to the customer.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True, default=lambda self: self.env.company,
        help="Leave empty to use this segment in every company.")
    policy_id = fields.Many2one(
        "dunning.policy", string="Policy", check_company=True, ondelete="restrict",
        domain=[("kind", "=", "overdue")],
        help="The chain for the customers of this segment (unless a customer has a policy of "
             "its own). Leave empty for a segment that only selects customers for the levels "
             "limited to it.")
    rating_a = fields.Boolean(string="A", help="Customers rated A (pay on time).")
    rating_b = fields.Boolean(string="B", help="Customers rated B (pay after a reminder).")
    rating_c = fields.Boolean(string="C", help="Customers rated C (need calls or later steps).")
    rating_d = fields.Boolean(string="D", help="Customers rated D (dispute often, handed off).")
    rating_none = fields.Boolean(string="Not Rated",
                                 help="Customers without a rating (no invoice paid in the last "
                                      "12 months).")
    country_ids = fields.Many2many(
        "res.country", string="Countries",
        help="Customers of these countries (the customer's address). Empty: any country.")
    category_ids = fields.Many2many(
        "res.partner.category", string="Customer Tags",
        help="Customers with at least one of these tags. Empty: any customer.")
    amount_min = fields.Monetary(
        string="Overdue From", currency_field="currency_id",
        help="Customers whose overdue total (what is past its due date, in the company "
             "currency) is at least this. 0: no minimum.")
    amount_max = fields.Monetary(
        string="Overdue Up To", currency_field="currency_id",
        help="Customers whose overdue total is below this. 0: no maximum.")
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    rules_summary = fields.Char(compute="_compute_rules_summary", string="Rules")
    level_ids = fields.Many2many(
        "dunning.level", "dunning_level_segment_rel", "segment_id", "level_id",
        string="Levels for This Segment", readonly=True,
        help="Levels limited to the customers of this segment (set on the level).")

    _amounts_positive = models.Constraint(
        "CHECK(amount_min >= 0 AND amount_max >= 0)", "Amounts of a segment cannot be negative.")

    @api.depends("company_id")
    def _compute_currency_id(self):
        for segment in self:
            segment.currency_id = (segment.company_id or self.env.company).currency_id

    @api.constrains("amount_min", "amount_max")
    def _check_band(self):
        for segment in self:
            if segment.amount_max and segment.amount_max <= segment.amount_min:
                raise ValidationError(self.env._(
                    "Segment '%s': the overdue band's maximum must be above its minimum.",
                    segment.name))

    @api.depends("rating_a", "rating_b", "rating_c", "rating_d", "rating_none", "country_ids",
                 "category_ids", "amount_min", "amount_max")
    def _compute_rules_summary(self):
        for segment in self:
            parts = []
            ratings = segment._dunning_ratings()
            if ratings:
                parts.append(self.env._("rated %s", ", ".join(
                    rating or self.env._("not rated") for rating in sorted(ratings))))
            if segment.country_ids:
                parts.append(", ".join(segment.country_ids.mapped("code")))
            if segment.category_ids:
                parts.append(self.env._("tagged %s", ", ".join(
                    segment.category_ids.mapped("name"))))
            def money(amount, currency=segment.currency_id):
                return format_amount(self.env, amount, currency)
            if segment.amount_min and segment.amount_max:
                parts.append(self.env._("overdue %(min)s to %(max)s",
                                        min=money(segment.amount_min),
                                        max=money(segment.amount_max)))
            elif segment.amount_min:
                parts.append(self.env._("overdue from %s", money(segment.amount_min)))
            elif segment.amount_max:
                parts.append(self.env._("overdue below %s", money(segment.amount_max)))
            segment.rules_summary = "; ".join(parts) or self.env._("every customer")

    # ---------------------------------------------------------------- matching
    def _dunning_ratings(self):
        """The ratings the segment selects ("" for not rated); empty: any."""
        self.ensure_one()
        ratings = {value for value, _label in RATING_SELECTION
                   if self[f"rating_{value.lower()}"]}
        if self.rating_none:
            ratings.add("")
        return ratings

    def _dunning_rules(self):
        """The rules in plain values (for matching many customers without the ORM)."""
        self.ensure_one()
        return (self._dunning_ratings(), set(self.country_ids.ids), set(self.category_ids.ids),
                self.amount_min, self.amount_max)

    @staticmethod
    def _dunning_meets(rules, traits):
        ratings, countries, categories, amount_min, amount_max = rules
        return ((not ratings or traits.rating in ratings)
                and (not countries or traits.country_id in countries)
                and (not categories or not categories.isdisjoint(traits.category_ids))
                and (not amount_min or traits.overdue >= amount_min)
                and (not amount_max or traits.overdue < amount_max))

    @api.model
    def _dunning_segments_of(self, company):
        """The active segments used in a company, in order (as superuser: the customers' rules
        apply whoever asks)."""
        return self.sudo().search([("company_id", "in", (company.id, False))])

    @api.model
    def _dunning_membership(self, partners, company, today=None):
        """{commercial partner id: its segments in ``company``, in order}: one query per kind of
        fact the segments look at (ratings, overdue totals), none when no segment needs it."""
        segments = self._dunning_segments_of(company)
        if not segments or not partners:
            return {}
        rules = [(segment, segment._dunning_rules()) for segment in segments]
        need_rating = any(r[0] for _s, r in rules)
        need_amount = any(r[3] or r[4] for _s, r in rules)
        partners = partners.commercial_partner_id
        ratings = self._dunning_rating_of(partners, company) if need_rating else {}
        overdue = self._dunning_overdue_of(partners, company, today) if need_amount else {}
        need_tags = any(r[2] for _s, r in rules)
        members = {}
        for partner in partners:
            traits = Traits(ratings.get(partner.id, ""), partner.country_id.id,
                            set(partner.category_id.ids) if need_tags else set(),
                            overdue.get(partner.id, 0.0))
            members[partner.id] = segments.browse(
                [segment.id for segment, rule in rules if self._dunning_meets(rule, traits)])
        return members

    @api.model
    def _dunning_rating_of(self, partners, company):
        """{commercial partner id: rating ("" when not rated)} in a company."""
        Rating = self.env["dunning.payer.rating"]
        Rating.flush_model(["partner_id", "company_id", "rating"])
        self.env.cr.execute(SQL(
            "SELECT partner_id, rating FROM dunning_payer_rating "
            "WHERE company_id = %s AND partner_id = ANY(%s)", company.id, partners.ids))
        return {partner_id: rating or "" for partner_id, rating in self.env.cr.fetchall()}

    @api.model
    def _dunning_overdue_of(self, partners, company, today=None):
        """{commercial partner id: what it owes past the due date in ``company``, in the
        company currency} (instalment by instalment, as the aging view counts it)."""
        today = today or fields.Date.context_today(self)
        self.env["account.move"].flush_model(
            ["state", "move_type", "payment_state", "company_id", "commercial_partner_id"])
        self.env["account.move.line"].flush_model(
            ["move_id", "display_type", "reconciled", "amount_residual", "date_maturity"])
        self.env.cr.execute(SQL("""
            SELECT m.commercial_partner_id, SUM(l.amount_residual)
              FROM account_move m
              JOIN account_move_line l
                ON l.move_id = m.id AND l.display_type = 'payment_term' AND NOT l.reconciled
               AND l.amount_residual > 0 AND l.date_maturity < %(today)s
             WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
               AND m.payment_state IN ('not_paid', 'partial') AND m.company_id = %(company)s
               AND m.commercial_partner_id = ANY(%(partners)s)
             GROUP BY m.commercial_partner_id
        """, today=today, company=company.id, partners=partners.ids))
        return {partner_id: float(total) for partner_id, total in self.env.cr.fetchall()}

    @api.model
    def _dunning_policies(self, partners, company, membership=None):
        """{commercial partner id: (policy, source, segment)} in ``company``: source is
        ``customer`` (the customer's own policy), ``segment`` (the first of its segments naming
        a policy) or ``company`` (the company's default)."""
        partners = partners.commercial_partner_id
        if membership is None:
            membership = self._dunning_membership(partners, company)
        default = company._dunning_default_policy()
        Policy = self.env["dunning.policy"]
        result = {}
        no_segment = self.browse()
        partners = partners.with_company(company)
        partners.fetch(["dunning_policy_id"])  # that column only, for every customer at once
        for partner in partners:
            own = partner.dunning_policy_id
            if own and own.active and own.kind == "overdue":
                result[partner.id] = (own, "customer", no_segment)
                continue
            for segment in membership.get(partner.id, ()):
                policy = segment.policy_id  # read as superuser: given in the caller's rights
                if policy and policy.active and policy.kind == "overdue":
                    result[partner.id] = (Policy.browse(policy.id), "segment", segment)
                    break
            else:
                result[partner.id] = (default, "company", no_segment)
        return result

    # ---------------------------------------------------------------- user actions
    def action_view_customers(self):
        """The customers this segment holds now, among those who owe something overdue."""
        self.ensure_one()
        company = self.company_id or self.env.company
        owing = self.env["dunning.aging"].search([("company_id", "=", company.id),
                                                  ("amount_overdue", ">", 0)]).partner_id
        members = self._dunning_membership(owing, company)
        partner_ids = [pid for pid, segments in members.items() if self in segments]
        return {
            "type": "ir.actions.act_window", "res_model": "res.partner",
            "name": self.env._("Customers of the segment %s", self.name),
            "view_mode": "list,form", "domain": [("id", "in", partner_ids)],
            "context": {"create": False},
        }


class DunningLevel(models.Model):
    _inherit = "dunning.level"

    segment_ids = fields.Many2many(
        "dunning.segment", "dunning_level_segment_rel", "level_id", "segment_id",
        string="Only for Segments",
        help="This step goes only to the customers in one of these segments (e.g. a friendly "
             "notice before the due date for customers rated C or D). Empty: every customer "
             "of the policy. 'Late payers only' is a built-in case of the same idea, from the "
             "average days late and the policy's threshold; both must hold when both are set.")


def group_by_company(keys):
    """{company id: {commercial partner ids}} of (partner id, company id) pairs."""
    grouped = defaultdict(set)
    for partner_id, company_id in keys:
        grouped[company_id].add(partner_id)
    return grouped
