from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount, format_date

DUNNING_USER = "dunning_chain.group_dunning_user"
# Payments of one plan (down payment included) the accountant may agree at most
MAX_PAYMENTS = 60
FREQUENCY_STEPS = {
    "weekly": relativedelta(weeks=1),
    "biweekly": relativedelta(weeks=2),
    "monthly": relativedelta(months=1),
}
WIZARD = "dunning.instalment.plan.wizard"


class DunningInstalmentPlan(models.Model):
    """Schedules and plans agreed by the accountant (in the back office or on the phone):
    the schedule is built or checked here, the plan runs at once; a running plan renegotiated
    is replaced by the new one."""

    _inherit = "dunning.instalment.plan"

    # ------------------------------------------------------------------ rights
    @api.model
    def _dunning_check_agree_rights(self):
        if not self.env.user.has_group(DUNNING_USER):
            raise AccessError(self.env._(
                "Only dunning users agree or renegotiate payment plans with customers."))

    # ------------------------------------------------------------------ schedules
    @api.model
    def _dunning_build_schedule(self, currency, total, count, first_date, frequency="monthly",
                                down_payment=0.0, down_payment_date=None):
        """Line values of a plan of ``total``: the down payment (when there is one) on its
        date, then ``count`` equal instalments from ``first_date``, a week, two weeks or a
        month apart, splitting the rest (the last one takes the rounding). Empty for custom
        dates (the accountant sets them) or incomplete terms."""
        step = FREQUENCY_STEPS.get(frequency)
        if not step or not first_date or count < 1 or count > MAX_PAYMENTS:
            return []
        rows = []
        down_payment = currency.round(down_payment or 0.0)
        if currency.compare_amounts(down_payment, 0.0) > 0:
            rows.append({"date": down_payment_date, "amount": down_payment,
                         "is_down_payment": True})
        rest = currency.round(total - down_payment)
        each = currency.round(rest / count)
        for index in range(count):
            amount = (currency.round(rest - each * (count - 1)) if index == count - 1
                      else each)
            rows.append({"date": first_date + step * index, "amount": amount,
                         "is_down_payment": False})
        return self._dunning_number_schedule(currency, rows)

    @api.model
    def _dunning_number_schedule(self, currency, rows):
        """Rows (date, amount, is_down_payment) in payment order as plan line values: the
        down payment is number 0, the instalments count from 1, with the running total."""
        values, cumulative, number = [], 0.0, 0
        for row in rows:
            down = bool(row.get("is_down_payment"))
            number += 0 if down else 1
            cumulative = currency.round(cumulative + row["amount"])
            values.append({
                "sequence": 0 if down else number, "date": row["date"],
                "amount": currency.round(row["amount"]), "amount_cumulative": cumulative,
                "is_down_payment": down,
            })
        return values

    @api.model
    def _dunning_schedule_problem(self, currency, total, rows, today=None):
        """What is wrong with a schedule (rows in payment order) for ``total``, in words for
        the accountant, or an empty string."""
        today = today or fields.Date.context_today(self)
        if len(rows) < 2:
            return self.env._("A payment plan has at least two payments: for a single date, "
                              "record a promise to pay instead.")
        if len(rows) > MAX_PAYMENTS:
            return self.env._("A payment plan has at most %s payments.", MAX_PAYMENTS)
        previous = None
        for number, row in enumerate(rows, start=1):
            if row.get("is_down_payment") and number > 1:
                return self.env._("Only the first payment can be the down payment.")
            if not row.get("date"):
                return self.env._("Payment %s has no date.", number)
            if currency.compare_amounts(row.get("amount") or 0.0, 0.0) <= 0:
                return self.env._("Payment %(number)s (%(date)s) must be more than zero.",
                                  number=number, date=format_date(self.env, row["date"]))
            if row["date"] < today:
                return self.env._("Payment %(number)s is on %(date)s, in the past: the "
                                  "payments start today at the earliest.",
                                  number=number, date=format_date(self.env, row["date"]))
            if previous and row["date"] <= previous:
                return self.env._(
                    "Payment %(number)s (%(date)s) must come after payment %(before)s "
                    "(%(previous)s): put the payments in date order, one per day at most.",
                    number=number, date=format_date(self.env, row["date"]),
                    before=number - 1, previous=format_date(self.env, previous))
            previous = row["date"]
        scheduled = currency.round(sum(row["amount"] for row in rows))
        if currency.compare_amounts(scheduled, total):
            return self.env._(
                "The payments add up to %(scheduled)s but %(due)s is due (a difference of "
                "%(diff)s): adjust the amounts so they add up exactly.",
                scheduled=format_amount(self.env, scheduled, currency),
                due=format_amount(self.env, total, currency),
                diff=format_amount(self.env, currency.round(total - scheduled), currency))
        return ""

    # ------------------------------------------------------------------ agreeing
    @api.model
    def _dunning_check_agree_invoices(self, partner, invoices, replaces=None):
        """The invoices a plan agreed by the accountant may cover: open customer invoices of
        the customer, of one company, in no other running plan or waiting request."""
        if not invoices:
            raise UserError(self.env._("Choose the invoices the payment plan covers."))
        partner = partner.commercial_partner_id
        for inv in invoices:
            if not inv._dunning_is_open():
                raise UserError(self.env._(
                    "%s is not an open customer invoice: a payment plan covers posted customer "
                    "invoices not paid yet.", inv.display_name))
            if inv.commercial_partner_id != partner:
                raise UserError(self.env._("%(invoice)s is not an invoice of %(customer)s.",
                                           invoice=inv.display_name,
                                           customer=partner.display_name))
        if len(invoices.company_id) > 1:
            raise UserError(self.env._(
                "A payment plan covers the invoices of one company: choose those of %s only.",
                invoices[0].company_id.name))
        others = self.search([("state", "in", ("requested", "approved")),
                              ("invoice_ids", "in", invoices.ids),
                              ("id", "not in", (replaces or self).ids)])
        if others:
            raise UserError(self.env._(
                "%(invoices)s already in %(plan)s (%(state)s): answer the customer's request "
                "or renegotiate that plan instead.",
                invoices=", ".join((others[0].invoice_ids & invoices).mapped("display_name")),
                plan=others[0].display_name,
                state=dict(self._fields["state"]._description_selection(self.env))[
                    others[0].state]))

    @api.model
    def _dunning_agree(self, partner, invoices, rows, source="backoffice", frequency="custom",
                       answer=None, replaces=None):
        """Create a plan agreed by the accountant, running at once with exactly the schedule
        ``rows`` (date, amount, is_down_payment; in payment order, adding up to what the
        invoices owe). The invoices pause like for an approved plan and the customer gets the
        same e-mail (schedule and link). ``replaces``: the running plan renegotiated."""
        self._dunning_check_agree_rights()
        self.check_access("create")
        if replaces and replaces.state != "approved":
            raise UserError(self.env._("%s is not running any more: it cannot be "
                                       "renegotiated.", replaces.display_name))
        self._dunning_check_agree_invoices(partner, invoices, replaces)
        company = invoices.company_id
        currency = company.currency_id
        total = currency.round(sum(invoices.mapped("amount_residual_signed")))
        problem = self._dunning_schedule_problem(currency, total, rows)
        if problem:
            raise UserError(problem)
        values = self._dunning_number_schedule(currency, rows)
        down = next((vals for vals in values if vals["is_down_payment"]), None)
        instalments = [vals for vals in values if not vals["is_down_payment"]]
        plan = self.create({
            "partner_id": partner.commercial_partner_id.id, "company_id": company.id,
            "invoice_ids": [fields.Command.set(invoices.ids)],
            "instalment_count": len(instalments), "first_date": instalments[0]["date"],
            "frequency": frequency or "custom",
            "down_payment_amount": down["amount"] if down else 0.0,
            "down_payment_date": down["date"] if down else False,
            "source": source, "state": "approved", "amount_agreed": total,
            "agreed_by_id": self.env.user.id, "answer": answer or False,
            "replaces_id": replaces.id if replaces else False,
            "line_ids": [fields.Command.create(vals) for vals in values],
        })
        sources = dict(self._fields["source"]._description_selection(self.env))
        plan.message_post(body=self.env._(
            "Payment plan agreed with the customer by %(user)s (%(origin)s): %(total)s.",
            user=self.env.user.name, origin=sources[source],
            total=format_amount(self.env, total, currency)))
        if replaces:
            replaces._dunning_replace_by(plan)
        plan._dunning_start(invoices)
        return plan

    def _dunning_replace_by(self, new_plan):
        """This running plan was renegotiated: it stops (its pauses end) and links to the new
        one, which says what it replaces."""
        self.ensure_one()
        open_invoices = self.invoice_ids.filtered(lambda m: m._dunning_is_open())
        self.write({"state": "renegotiated", "replaced_by_id": new_plan.id})
        # instalments the payments covered are paid; what was still to pay is the new plan's
        paid = self.amount_paid
        for line in self.line_ids.filtered(lambda line: line.state == "pending"):
            covered = self.currency_id.compare_amounts(paid, line.amount_cumulative) >= 0
            line.state = "paid" if covered else "replaced"
        open_invoices.filtered("dunning_paused_until").dunning_paused_until = False
        link = Markup('<a href="#" data-oe-model="%s" data-oe-id="%s">%s</a>')
        self.message_post(body=self.env._(
            "Payment plan renegotiated by %(user)s: replaced by %(plan)s.",
            user=self.env.user.name, plan=link % (new_plan._name, new_plan.id,
                                                  new_plan.display_name)))
        new_plan.message_post(body=self.env._(
            "Replaces %(plan)s (renegotiated; %(paid)s paid under it).",
            plan=link % (self._name, self.id, self.display_name),
            paid=format_amount(self.env, self.amount_paid, self.currency_id)))

    # ------------------------------------------------------------------ actions
    def action_dunning_renegotiate(self):
        """Agree new terms for a running plan: the plan wizard, prefilled with the same
        customer, the invoices still open and what they still owe."""
        self.ensure_one()
        self._dunning_check_agree_rights()
        self.check_access("write")
        if self.state != "approved":
            raise UserError(self.env._("Only a running payment plan can be renegotiated."))
        open_invoices = self.invoice_ids.filtered(lambda m: m._dunning_is_open())
        if not open_invoices:
            raise UserError(self.env._("Everything is paid: there is nothing to renegotiate."))
        pending = self.line_ids.filtered(
            lambda line: line.state == "pending" and not line.is_down_payment)
        return self._dunning_wizard_action(self.env._("Renegotiate the Payment Plan"), {
            "default_partner_id": self.partner_id.id,
            "default_company_id": self.company_id.id,
            "default_invoice_ids": open_invoices.ids,
            "default_replaces_id": self.id,
            "default_instalment_count": max(2, len(pending)),
            "default_frequency": self.frequency if self.frequency != "custom" else "monthly",
        })

    @api.model
    def _dunning_wizard_action(self, name, context):
        return {
            "type": "ir.actions.act_window", "name": name, "res_model": WIZARD,
            "view_mode": "form", "target": "new", "context": context,
        }


class ResPartner(models.Model):
    _inherit = "res.partner"

    dunning_plan_count = fields.Integer(
        compute="_compute_dunning_plan_count", string="Payment Plans",
        help="Payment plans of this customer (running ones and past ones).")

    def _compute_dunning_plan_count(self):
        Plan = self.env["dunning.instalment.plan"]
        partners = self.commercial_partner_id._origin
        counts = dict(Plan._read_group(
            [("partner_id", "in", partners.ids)], ["partner_id"], ["__count"])
        ) if partners and Plan.has_access("read") else {}
        for partner in self:
            partner.dunning_plan_count = counts.get(partner.commercial_partner_id._origin, 0)

    def action_dunning_instalment_plan(self):
        """Agree a payment plan with this customer (all their overdue invoices by default)."""
        self.ensure_one()
        self.env["dunning.instalment.plan"]._dunning_check_agree_rights()
        self.check_access("read")
        return self.env["dunning.instalment.plan"]._dunning_wizard_action(
            self.env._("Agree a Payment Plan"), {
                "default_partner_id": self.commercial_partner_id.id,
                "default_company_id": self.env.company.id,
            })

    def action_dunning_instalment_plans(self):
        """The payment plans of this customer (for those who may read plans)."""
        self.ensure_one()
        self.env["dunning.instalment.plan"].check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "dunning_portal.action_dunning_instalment_plan")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False}
        return action


class AccountMove(models.Model):
    _inherit = "account.move"

    dunning_instalment_plan_id = fields.Many2one(
        "dunning.instalment.plan", string="Payment Plan",
        compute="_compute_dunning_instalment_plan_id",
        help="The running payment plan (or the customer's request waiting for an answer) "
             "covering this invoice.")

    def _compute_dunning_instalment_plan_id(self):
        Plan = self.env["dunning.instalment.plan"]
        plans = Plan.search([("invoice_ids", "in", self._origin.ids),
                             ("state", "in", ("requested", "approved"))]) \
            if Plan.has_access("read") and self._origin.ids else Plan
        for move in self:
            move.dunning_instalment_plan_id = plans.filtered(
                lambda plan, move=move: move._origin in plan.invoice_ids)[:1]

    def action_dunning_instalment_plan(self):
        """Agree a payment plan for these invoices (one customer, one company)."""
        self.env["dunning.instalment.plan"]._dunning_check_agree_rights()
        self.check_access("read")
        if not self:
            raise UserError(self.env._("Select the invoices the payment plan covers."))
        if len(self.commercial_partner_id) > 1 or len(self.company_id) > 1:
            raise UserError(self.env._(
                "A payment plan is agreed with one customer for the invoices of one company: "
                "select the invoices of one customer and one company."))
        closed = self.filtered(lambda m: not m._dunning_is_open())
        if closed:
            raise UserError(self.env._(
                "A payment plan covers open customer invoices: %s is not one.",
                ", ".join(closed.mapped("display_name"))))
        return self.env["dunning.instalment.plan"]._dunning_wizard_action(
            self.env._("Agree a Payment Plan"), {
                "default_partner_id": self.commercial_partner_id.id,
                "default_company_id": self.company_id.id,
                "default_invoice_ids": self.ids,
            })
