"""The customer by behaviour: its payer rating (``dunning.payer.rating``), the policy that
applies and why (its own, a segment's, the company's default: ``dunning.segment``) and the
channels it refused (honoured by the planner and, should the customer change its mind after
planning, by the sender).

The language of the messages is the customer's Language (``lang``): every message, page and
reason about the customer is worded in it (``dunning.send.window._dunning_lang``), so there is
no separate dunning language.
"""
from odoo import api, fields, models
from odoo.exceptions import AccessError

from .dunning_payer_rating import RATING_SELECTION

#: The channel preferences of the core, as settings only dunning users change
PREFERENCE_FIELDS = ("dunning_no_call", "dunning_no_letter")
#: {field of the customer: figure of its rating in the current company}
RATING_FIGURES = {
    "dunning_rating_paid": "invoices_paid", "dunning_rating_on_time": "on_time_share",
    "dunning_rating_after_first": "after_first_share",
    "dunning_rating_after_later": "after_later_share",
    "dunning_rating_days_late": "avg_days_late", "dunning_rating_disputes": "disputes",
    "dunning_rating_handoffs": "handoffs", "dunning_rating_computed_at": "computed_at",
}


class ResPartner(models.Model):
    _inherit = "res.partner"

    dunning_no_call = fields.Boolean(
        string="No Phone Calls",
        help="The customer does not want to be called: call steps are left out of its chain "
             "(the other channels of a step still go; a step with only a call is skipped, the "
             "chain goes on). Certified letters and hand-offs are not the customer's choice.")
    dunning_no_letter = fields.Boolean(
        string="No Letters",
        help="The customer does not want ordinary letters (PDF letters to print and post): "
             "left out of its chain like calls. Certified letters still go.")
    dunning_policy_applied = fields.Char(
        string="Policy Applied", compute="_compute_dunning_policy_applied",
        groups="dunning_chain.group_dunning_user",
        help="The chain this customer follows in the current company, and why: its own policy, "
             "the first of its segments that names one, else the company's default.")
    dunning_rating_ids = fields.One2many(
        "dunning.payer.rating", "partner_id", string="Payer Ratings", readonly=True,
        groups="dunning_chain.group_dunning_user")
    dunning_rating = fields.Selection(
        RATING_SELECTION, string="Payer Rating", compute="_compute_dunning_rating",
        groups="dunning_chain.group_dunning_user",
        help="How the customer pays in the current company, from the last 12 months: A pays "
             "on time, B after a reminder, C needs calls or later steps, D disputes often or "
             "was handed off. Recomputed every night and when one of its invoices is paid.")
    dunning_rating_reason = fields.Char(
        string="Rating Reason", compute="_compute_dunning_rating",
        groups="dunning_chain.group_dunning_user")
    # the figures behind the rating in the current company
    dunning_rating_id = fields.Many2one(
        "dunning.payer.rating", compute="_compute_dunning_rating",
        groups="dunning_chain.group_dunning_user")
    dunning_rating_paid = fields.Integer(compute="_compute_dunning_rating",
                                         groups="dunning_chain.group_dunning_user")
    dunning_rating_on_time = fields.Float(compute="_compute_dunning_rating",
                                          groups="dunning_chain.group_dunning_user")
    dunning_rating_after_first = fields.Float(compute="_compute_dunning_rating",
                                              groups="dunning_chain.group_dunning_user")
    dunning_rating_after_later = fields.Float(compute="_compute_dunning_rating",
                                              groups="dunning_chain.group_dunning_user")
    dunning_rating_days_late = fields.Float(compute="_compute_dunning_rating",
                                            string="Days Late (12 Months)", digits=(16, 1),
                                            groups="dunning_chain.group_dunning_user")
    dunning_rating_disputes = fields.Integer(compute="_compute_dunning_rating",
                                             groups="dunning_chain.group_dunning_user")
    dunning_rating_handoffs = fields.Integer(compute="_compute_dunning_rating",
                                             groups="dunning_chain.group_dunning_user")
    dunning_rating_computed_at = fields.Datetime(compute="_compute_dunning_rating",
                                                 groups="dunning_chain.group_dunning_user")

    @api.model
    def _dunning_settings_fields(self):
        return super()._dunning_settings_fields() + PREFERENCE_FIELDS

    # ---------------------------------------------------------------- rating
    @api.depends_context("company")
    def _compute_dunning_rating(self):
        ids = [pid for pid in self.commercial_partner_id._origin.ids if pid]
        rows = self.env["dunning.payer.rating"].sudo().search(
            [("partner_id", "in", ids), ("company_id", "=", self.env.company.id)])
        by_partner = {row.partner_id.id: row for row in rows}
        for partner in self:
            row = by_partner.get(partner.commercial_partner_id._origin.id, rows.browse())
            partner.dunning_rating_id = row
            partner.dunning_rating = row.rating
            for fname, figure in RATING_FIGURES.items():
                partner[fname] = row[figure]
            partner.dunning_rating_reason = row._dunning_reason_words() if row else self.env._(
                "not rated: no invoice paid in the last 12 months")

    def action_dunning_compute_rating(self):
        """Recompute the payer rating of these customers now (in the companies selected)."""
        if not self.env.user.has_group("dunning_chain.group_dunning_user"):
            raise AccessError(self.env._("Only dunning users recompute payer ratings."))
        self.check_access("read")
        self.env["dunning.payer.rating"].sudo()._dunning_compute(
            self.commercial_partner_id, self.env.companies)
        return True

    # ---------------------------------------------------------------- policy
    @api.depends_context("company")
    @api.depends("dunning_policy_id", "category_id", "country_id")
    def _compute_dunning_policy_applied(self):
        company = self.env.company
        saved = self.filtered(lambda p: p._origin.id)
        resolved = self.env["dunning.segment"]._dunning_policies(saved._origin, company)
        for partner in self:
            found = resolved.get(partner.commercial_partner_id._origin.id)
            partner.dunning_policy_applied = (
                self._dunning_policy_words(*found) if found and found[0] else False)

    def _dunning_policy_and_reason(self, company=None):
        """(policy, why in words) for this customer in the company: its own policy, else the
        first of its segments (by sequence) that names one, else the company's default."""
        self.ensure_one()
        company = company or self.env.company
        partner = self.commercial_partner_id
        policy, source, segment = self.env["dunning.segment"]._dunning_policies(
            partner, company)[partner.id]
        return policy, self._dunning_policy_words(policy, source, segment)

    def _dunning_policy_words(self, policy, source, segment):
        if not policy:
            return self.env._("none (the company has no default policy)")
        if source == "customer":
            return self.env._("%s (set on the customer)", policy.display_name)
        if source == "segment":
            return self.env._("%(policy)s (segment '%(segment)s')", policy=policy.display_name,
                              segment=segment.name)
        return self.env._("%s (the company's default)", policy.display_name)

    # ---------------------------------------------------------------- channel preferences
    def _dunning_refused_channels(self, lang=None):
        """{channel: why} of the channels the customer refused ("no call: the customer prefers
        e-mail"), in ``lang`` (default: the customer's, as the record words what concerns it).
        An addon adding a channel the customer may refuse adds it here."""
        self.ensure_one()
        partner = self.commercial_partner_id
        if not (partner.dunning_no_call or partner.dunning_no_letter):
            return {}
        _ = self._dunning_words_in(lang)
        refused = {}
        if partner.dunning_no_call:
            refused["call"] = _("no call: the customer prefers e-mail")
        if partner.dunning_no_letter:
            refused["letter"] = _("no letter: the customer prefers e-mail")
        return refused

    def _dunning_words_in(self, lang=None):
        """The translation function for words about this customer in ``lang`` (default: the
        customer's)."""
        lang = lang or self.env["dunning.send.window"]._dunning_lang(self.commercial_partner_id)
        return self.with_context(lang=lang).env._
