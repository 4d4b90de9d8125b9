from datetime import timedelta

from odoo import api, fields, models

from ..models.dunning_instalment_plan import PLAN_FREQUENCIES, PLAN_SOURCES

DEFAULT_FIRST_DAYS = 7


class DunningInstalmentPlanWizard(models.TransientModel):
    """The accountant agrees a payment plan with a customer (from the customer, from selected
    invoices, from a phone call's outcome, or to renegotiate a running plan): the schedule is
    shown before confirming, and the plan runs at once with exactly that schedule.

    Opened with ``default_partner_id`` alone, it covers the customer's overdue invoices;
    ``default_invoice_ids`` chooses the invoices; ``default_source`` says where it was agreed
    (back office by default, ``call`` for a phone call); ``default_replaces_id`` renegotiates a
    running plan."""

    _name = "dunning.instalment.plan.wizard"
    _description = "Agree a Payment Plan"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True,
                                 default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True,
        domain="['|', ('is_company', '=', True), ('parent_id', '=', False)]")
    invoice_ids = fields.Many2many(
        "account.move", string="Invoices", compute="_compute_invoice_ids", store=True,
        readonly=False, check_company=True,
        domain="[('commercial_partner_id', '=', partner_id), ('company_id', '=', company_id), "
               "('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
               "('payment_state', 'in', ('not_paid', 'partial'))]",
        help="Open invoices of the customer in this company the plan covers (all the overdue "
             "ones by default).")
    amount_due = fields.Monetary(
        compute="_compute_amount_due", string="Amount Due",
        help="What the invoices still owe: the payments of the plan add up to it exactly.")
    instalment_count = fields.Integer(string="Instalments", default=3)
    frequency = fields.Selection(
        PLAN_FREQUENCIES, required=True, default="monthly",
        help="Equal instalments a week, two weeks or a month apart; custom: set each date and "
             "amount in the schedule.")
    first_date = fields.Date(
        string="First Instalment",
        default=lambda self: fields.Date.context_today(self) + timedelta(days=DEFAULT_FIRST_DAYS))
    down_payment_amount = fields.Monetary(
        string="Down Payment", help="Paid first, on its own date; the instalments split the rest.")
    down_payment_date = fields.Date(string="Down Payment On",
                                    default=lambda self: fields.Date.context_today(self))
    line_ids = fields.One2many(
        "dunning.instalment.plan.wizard.line", "wizard_id", string="Schedule",
        compute="_compute_line_ids", store=True, readonly=False)
    schedule_total = fields.Monetary(compute="_compute_schedule", string="Schedule Total")
    schedule_problem = fields.Char(compute="_compute_schedule")
    answer = fields.Text(
        string="Message to the Customer",
        help="Sent to the customer with the schedule and the link to their page (optional).")
    source = fields.Selection(PLAN_SOURCES, required=True, default="backoffice")
    replaces_id = fields.Many2one(
        "dunning.instalment.plan", string="Renegotiates", readonly=True, check_company=True,
        help="The running plan the new one replaces.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        invoices = self.env["account.move"].browse(
            self._dunning_default_invoice_ids(values.get("invoice_ids")))
        if invoices and not values.get("partner_id"):
            values["partner_id"] = invoices[:1].commercial_partner_id.id
        if invoices and len(invoices.company_id) == 1:
            values["company_id"] = invoices.company_id.id
        return values

    @staticmethod
    def _dunning_default_invoice_ids(value):
        """Invoice ids from a default (a list of ids, or commands)."""
        ids = []
        for item in value or []:
            if isinstance(item, int):
                ids.append(item)
            elif isinstance(item, (list, tuple)) and item and item[0] == 6:
                ids.extend(item[2])
            elif isinstance(item, (list, tuple)) and item and item[0] == 4:
                ids.append(item[1])
        return ids

    @api.depends("partner_id", "company_id")
    def _compute_invoice_ids(self):
        Move = self.env["account.move"]
        today = fields.Date.context_today(self)
        for wizard in self:
            partner = wizard.partner_id.commercial_partner_id
            wizard.invoice_ids = Move.search(
                Move._dunning_open_domain(partner)
                + [("company_id", "=", wizard.company_id.id), ("invoice_date_due", "<", today)],
                order="invoice_date_due, id") if partner and wizard.company_id else Move

    @api.depends("invoice_ids", "company_id")
    def _compute_amount_due(self):
        for wizard in self:
            wizard.amount_due = wizard.currency_id.round(
                sum(wizard.invoice_ids.mapped("amount_residual_signed")))

    @api.depends("amount_due", "instalment_count", "frequency", "first_date",
                 "down_payment_amount", "down_payment_date")
    def _compute_line_ids(self):
        Plan = self.env["dunning.instalment.plan"]
        for wizard in self:
            if wizard.frequency == "custom" and wizard.line_ids:
                continue  # the accountant's own dates and amounts
            values = Plan._dunning_build_schedule(
                wizard.currency_id, wizard.amount_due, wizard.instalment_count,
                wizard.first_date,
                frequency="monthly" if wizard.frequency == "custom" else wizard.frequency,
                down_payment=wizard.down_payment_amount,
                down_payment_date=wizard.down_payment_date)
            wizard.line_ids = [fields.Command.clear()] + [
                fields.Command.create({key: vals[key] for key in
                                       ("date", "amount", "is_down_payment")})
                for vals in values]

    @api.depends("line_ids.date", "line_ids.amount", "line_ids.is_down_payment", "amount_due")
    def _compute_schedule(self):
        Plan = self.env["dunning.instalment.plan"]
        for wizard in self:
            wizard.schedule_total = sum(wizard.line_ids.mapped("amount"))
            wizard.schedule_problem = Plan._dunning_schedule_problem(
                wizard.currency_id, wizard.amount_due, wizard._dunning_rows()
            ) if wizard.invoice_ids else self.env._("Choose the invoices the payment plan "
                                                     "covers.")

    def _dunning_rows(self):
        self.ensure_one()
        return [{"date": line.date, "amount": line.amount,
                 "is_down_payment": line.is_down_payment} for line in self.line_ids]

    def action_confirm(self):
        """Create the plan, running at once with the schedule shown; the customer is told.
        Dunning users only."""
        self.ensure_one()
        Plan = self.env["dunning.instalment.plan"]
        Plan._dunning_check_agree_rights()
        plan = Plan._dunning_agree(
            self.partner_id, self.invoice_ids, self._dunning_rows(), source=self.source,
            frequency=self.frequency, answer=self.answer, replaces=self.replaces_id)
        return {"type": "ir.actions.act_window", "res_model": plan._name, "res_id": plan.id,
                "view_mode": "form", "views": [(False, "form")], "target": "current"}


class DunningInstalmentPlanWizardLine(models.TransientModel):
    _name = "dunning.instalment.plan.wizard.line"
    _description = "Payment of a Payment Plan to Agree"
    _order = "id"

    wizard_id = fields.Many2one("dunning.instalment.plan.wizard", required=True,
                                ondelete="cascade", index=True)
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    label = fields.Char(string="Payment", compute="_compute_label")
    date = fields.Date(required=True)
    amount = fields.Monetary(required=True)
    is_down_payment = fields.Boolean(
        string="Down Payment", help="Only the first payment can be the down payment.")

    @api.depends("is_down_payment", "wizard_id.line_ids")
    def _compute_label(self):
        for line in self:
            if line.is_down_payment:
                line.label = self.env._("Down payment")
                continue
            instalments = line.wizard_id.line_ids.filtered(lambda l: not l.is_down_payment)
            number = next((index for index, other in enumerate(instalments, start=1)
                           if other == line), 0)
            line.label = (self.env._("Instalment %s", number) if number
                          else self.env._("Instalment"))
