import functools
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..tools import customer_calendar
from ..tools.regions import holiday_subdivision


@functools.lru_cache(maxsize=256)
def _public_holidays(country_code, subdivision, years, language):
    return customer_calendar.public_holidays(country_code, subdivision, years=years,
                                             language=language)


# What decides whether and how a customer is chased: set by dunning users only
DUNNING_SETTINGS = ("dunning_policy_id", "dunning_excluded", "dunning_contact",
                    "dunning_customer_kind")


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model_create_multi
    def create(self, vals_list):
        self._dunning_check_settings_access([key for vals in vals_list for key, value
                                             in vals.items() if value])
        return super().create(vals_list)

    def write(self, vals):
        self._dunning_check_settings_access(vals)
        return super().write(vals)

    def _dunning_responsible_user(self, company, salesperson=None):
        """Who follows this customer's collection in a company: the salesperson (of the
        invoice when given, else the customer's), else the policy's collector, else the
        administrator. Archived users are skipped."""
        partner = self.commercial_partner_id
        policy = partner._dunning_policy(company)
        for user in (salesperson or partner.user_id, policy.collector_id if policy else None):
            if user and user.active:
                return user
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        return admin if admin and admin.active else self.env.user

    @api.model
    def _dunning_settings_fields(self):
        """The fields that decide whether and how a customer is chased (an addon adding one,
        such as a channel preference, adds it here)."""
        return DUNNING_SETTINGS

    def _dunning_check_settings_access(self, keys):
        """Whether a customer is chased, how and whom to write to is decided by dunning users:
        anyone else who may edit contacts (a salesperson) cannot switch it off."""
        changed = set(self._dunning_settings_fields()).intersection(keys)
        if changed and not self.env.su and not self.env.user.has_group(
                "dunning_chain.group_dunning_user"):
            raise AccessError(self.env._(
                "Only dunning users change how a customer is chased (%s).",
                ", ".join(sorted(changed))))

    dunning_policy_id = fields.Many2one(
        "dunning.policy", string="Dunning Policy", company_dependent=True,
        domain=[("kind", "=", "overdue")],
        help="The escalation chain for this customer. Empty: the company's default policy.")
    dunning_excluded = fields.Boolean(
        string="Never Remind", company_dependent=True,
        help="No reminder is sent to this customer.")
    dunning_contact = fields.Boolean(
        string="Dunning Contact",
        help="Reminders go to the contacts of the customer marked for dunning (e.g. accounts "
             "payable); when none is marked, to the customer's own address.")
    dunning_customer_kind = fields.Selection(
        [("auto", "Automatic"), ("business", "Business (B2B)"), ("consumer", "Consumer (B2C)")],
        string="Late Payment Law for", default="auto", required=True,
        help="Which late payment rule applies. Automatic: a business when the customer is a "
             "company with a VAT number, else a consumer (never charged unless the policy "
             "says so).")
    dunning_communication_ids = fields.One2many(
        "dunning.communication", "partner_id", string="Dunning Communications")
    dunning_communication_count = fields.Integer(compute="_compute_dunning_stats")
    dunning_overdue_amount = fields.Monetary(
        compute="_compute_dunning_stats", string="Overdue", currency_field="currency_id")
    dunning_closure_ids = fields.One2many(
        "dunning.partner.closure", "partner_id", string="Closures",
        help="Periods when the customer is closed (holidays, inventory...): no reminder reaches "
             "them then.")
    dunning_avg_days_late = fields.Float(
        compute="_compute_dunning_avg_days_late", string="Average Days Late",
        help="Over the paid invoices: average days between due date and payment.")

    def _compute_dunning_stats(self):
        comm_counts = dict(self.env["dunning.communication"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]))
        today = fields.Date.context_today(self)
        overdue = dict(self.env["account.move"]._read_group(
            self.env["account.move"]._dunning_open_domain()
            + [("commercial_partner_id", "in", self.ids), ("invoice_date_due", "<", today)],
            ["commercial_partner_id"], ["amount_residual_signed:sum"]))
        for partner in self:
            partner.dunning_communication_count = comm_counts.get(partner, 0)
            partner.dunning_overdue_amount = overdue.get(partner, 0.0)

    def _compute_dunning_avg_days_late(self):
        late = self._dunning_average_days_late()
        for partner in self:
            partner.dunning_avg_days_late = late.get(partner.commercial_partner_id.id, 0.0)

    def _dunning_average_days_late(self):
        """{commercial partner id: average days late over its paid customer invoices}."""
        ids = self.commercial_partner_id.ids
        if not ids:
            return {}
        self.env["account.move"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        self.env.cr.execute(SQL("""
            SELECT m.commercial_partner_id, AVG(GREATEST(0, p.max_date - l.date_maturity))
              FROM account_move m
              JOIN account_move_line l ON l.move_id = m.id AND l.display_type = 'payment_term'
              JOIN account_partial_reconcile p ON p.debit_move_id = l.id
             WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
               AND m.payment_state = 'paid' AND m.commercial_partner_id = ANY(%s)
             GROUP BY m.commercial_partner_id
        """, ids))
        return {pid: float(avg) for pid, avg in self.env.cr.fetchall()}

    def _dunning_customer_kind(self):
        """'business' or 'consumer', for the late payment rules."""
        self.ensure_one()
        partner = self.commercial_partner_id
        if partner.dunning_customer_kind != "auto":
            return partner.dunning_customer_kind
        return "business" if partner.is_company and partner.vat else "consumer"

    def _dunning_policy(self, company=None):
        """The policy that applies to this customer in the company: its own, else the first of
        its segments naming one, else the company's default (``_dunning_policy_and_reason``,
        res_partner_insight.py, says which)."""
        return self._dunning_policy_and_reason(company)[0]

    def _dunning_timezone(self, company):
        """(time zone, where it comes from): the customer's, else its country's when the
        country has one zone, else the company's. Where it comes from is a fact
        (``tz_customer``, ``tz_country``... of ``tools/customer_calendar.py``) that
        ``dunning.send.window`` words."""
        self.ensure_one()
        partner = self.commercial_partner_id
        company_tz = company.partner_id.tz or company.resource_calendar_id.tz
        return customer_calendar.resolve_timezone(partner.tz or self.tz, partner.country_id.code,
                                                  company_tz)

    def _dunning_closed_days(self, company, date_from, date_to, cache=None):
        """{local date: why} when nothing may reach this customer: public holidays of its
        country and region (``holidays`` library), the company's closures (global leaves of its
        working calendar) and the customer's own closures. Names are in the language the reasons
        about the customer are worded in (``dunning.send.window._dunning_lang``)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        country = partner.country_id.code
        lang = self.env["dunning.send.window"]._dunning_lang(partner)
        closed = {}
        if country:
            subdivision = holiday_subdivision(country, partner.state_id.code)
            years = tuple(range(date_from.year, date_to.year + 1))
            closed.update(_public_holidays(country, subdivision, years, lang))
        cache = cache if cache is not None else {}
        key = ("company_closed", company.id, date_from, date_to)
        if key not in cache:
            cache[key] = company._dunning_closed_days(date_from, date_to)
        closed.update(cache[key])
        for closure in partner.dunning_closure_ids:
            day = max(closure.date_from, date_from)
            while day <= min(closure.date_to, date_to):
                closed[day] = closure.name or self.with_context(lang=lang).env._("customer closed")
                day += timedelta(days=1)
        return closed

    def action_dunning_communications(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "dunning_chain.action_dunning_communication")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False}
        return action
