from odoo import api, fields, models
from odoo.exceptions import UserError


class DunningInstalmentPlan(models.Model):
    """A customer's request to pay some invoices in instalments, approved or refused by the
    accountant. Approval pauses the chain for those invoices until the first instalment date
    (following each instalment is left to a later version)."""

    _name = "dunning.instalment.plan"
    _description = "Dunning Instalment Plan"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, index=True,
                                 default=lambda self: self.env.company)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True,
                                 ondelete="restrict")
    invoice_ids = fields.Many2many("account.move", string="Invoices", required=True,
                                   check_company=True,
                                   domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted')]")
    instalment_count = fields.Integer(string="Instalments", required=True, default=2)
    first_date = fields.Date(string="First Instalment", required=True)
    note = fields.Text(string="Customer's Message")
    state = fields.Selection(
        [("requested", "Requested"), ("approved", "Approved"), ("refused", "Refused")],
        default="requested", required=True, tracking=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_total = fields.Monetary(compute="_compute_amount_total", string="Amount Due")
    instalment_amount = fields.Monetary(compute="_compute_amount_total", string="Per Instalment")

    @api.depends("partner_id", "first_date")
    def _compute_name(self):
        for plan in self:
            plan.name = self.env._("Instalments %(partner)s from %(date)s",
                                   partner=plan.partner_id.display_name or "",
                                   date=plan.first_date or "")

    @api.depends("invoice_ids.amount_residual_signed", "instalment_count")
    def _compute_amount_total(self):
        for plan in self:
            plan.amount_total = sum(plan.invoice_ids.mapped("amount_residual_signed"))
            plan.instalment_amount = (plan.amount_total / plan.instalment_count
                                      if plan.instalment_count else 0.0)

    @api.model
    def _dunning_request(self, partner, invoices, count, first_date, note=""):
        """Validate and record a customer's request; the collector gets an activity."""
        partner = partner.commercial_partner_id
        if not invoices:
            raise UserError(self.env._("Choose the invoices to pay in instalments."))
        if any(inv.commercial_partner_id != partner for inv in invoices):
            raise UserError(self.env._("These invoices are not yours."))
        company = invoices[0].company_id
        if any(inv.company_id != company for inv in invoices):
            raise UserError(self.env._("Ask for one plan per company."))
        policy = partner._dunning_policy(company)
        max_count = policy.max_instalments if policy else 3
        if not max_count:
            raise UserError(self.env._("Payment plans are not offered: please contact us."))
        if count < 2 or count > max_count:
            raise UserError(self.env._("A payment plan has between 2 and %s instalments.",
                                       max_count))
        today = fields.Date.context_today(self)
        max_days = policy.max_promise_days if policy else 30
        if not first_date or first_date < today:
            raise UserError(self.env._("The first instalment cannot be in the past."))
        if (first_date - today).days > max_days:
            raise UserError(self.env._("The first instalment can be at most %s days ahead.",
                                       max_days))
        if self.search_count([("partner_id", "=", partner.id), ("state", "=", "requested"),
                              ("invoice_ids", "in", invoices.ids)]):
            raise UserError(self.env._("A payment plan for these invoices is already waiting "
                                       "for our answer."))
        plan = self.create({
            "partner_id": partner.id, "company_id": company.id,
            "invoice_ids": [fields.Command.set(invoices.ids)],
            "instalment_count": count, "first_date": first_date, "note": note,
        })
        user = (policy.collector_id if policy and policy.collector_id.active else
                partner.user_id if partner.user_id.active else
                self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user)
        plan.activity_schedule(
            "mail.mail_activity_data_todo", user_id=user.id,
            summary=self.env._("Payment plan requested by %s", partner.display_name),
            note=note or "")
        body = self.env._("Payment plan requested: %(count)s instalments from %(date)s.",
                          count=count, date=first_date)
        plan.message_post(body=body, author_id=partner.id)
        for inv in invoices:
            inv.message_post(body=body, author_id=partner.id)
        return plan

    def action_approve(self):
        for plan in self.filtered(lambda p: p.state == "requested"):
            plan.state = "approved"
            for inv in plan.invoice_ids:
                if not inv.dunning_paused_until or inv.dunning_paused_until < plan.first_date:
                    inv.dunning_paused_until = plan.first_date
                inv.message_post(body=self.env._(
                    "Payment plan approved (%(count)s instalments from %(date)s): reminders "
                    "paused until the first instalment.",
                    count=plan.instalment_count, date=plan.first_date))
            plan.activity_feedback(["mail.mail_activity_data_todo"],
                                   feedback=self.env._("Approved"))
        return True

    def action_refuse(self):
        for plan in self.filtered(lambda p: p.state == "requested"):
            plan.state = "refused"
            for inv in plan.invoice_ids:
                inv.message_post(body=self.env._("Payment plan refused: the reminders go on."))
            plan.activity_feedback(["mail.mail_activity_data_todo"],
                                   feedback=self.env._("Refused"))
        return True
