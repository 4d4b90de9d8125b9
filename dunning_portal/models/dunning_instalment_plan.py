from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date

MAX_NOTE = 1000
DEFAULT_RETRY_DAYS = 30

PLAN_STATES = [
    ("requested", "Requested"),
    ("approved", "Running"),
    ("done", "Completed"),
    ("broken", "Not kept"),
    ("refused", "Refused"),
    ("renegotiated", "Renegotiated"),
]
PLAN_SOURCES = [
    ("portal", "Customer page"),
    ("backoffice", "Back office"),
    ("call", "Phone call"),
]
PLAN_FREQUENCIES = [
    ("weekly", "Weekly"),
    ("biweekly", "Every 2 weeks"),
    ("monthly", "Monthly"),
    ("custom", "Custom dates and amounts"),
]


class DunningInstalmentPlan(models.Model):
    """A plan to pay some invoices in instalments: asked for by the customer from their page
    and answered by the accountant, or agreed by the accountant in the back office (or on the
    phone) and running at once (dunning.instalment.plan.wizard).

    Running, the plan's schedule (an optional down payment, then instalments weekly, every two
    weeks, monthly or on agreed dates) adds up to what was due when it started. The hourly run
    follows it (``_dunning_follow``): an instalment covered by the payments received since the
    start is marked paid and the invoices stay paused until the next one; a missed instalment
    ends the plan and the next reminder goes at once, saying which instalment was not received.
    A running plan renegotiated is replaced by a new one; both stay on record.
    """

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
    instalment_count = fields.Integer(
        string="Instalments", required=True, default=2,
        help="Number of instalments, the down payment not counted.")
    first_date = fields.Date(string="First Instalment", required=True)
    frequency = fields.Selection(
        PLAN_FREQUENCIES, required=True, default="monthly",
        help="How far apart the instalments are; custom: dates and amounts agreed one by one.")
    down_payment_amount = fields.Monetary(
        string="Down Payment", copy=False,
        help="Paid first, on its own date; the instalments split the rest.")
    down_payment_date = fields.Date(string="Down Payment On", copy=False)
    source = fields.Selection(
        PLAN_SOURCES, required=True, default="portal", readonly=True, index=True,
        help="Where the plan comes from: asked for by the customer on their page, or agreed by "
             "the accountant in the back office or during a phone call (running at once).")
    agreed_by_id = fields.Many2one(
        "res.users", string="Agreed By", readonly=True, copy=False,
        help="The accountant who approved the customer's request or agreed the plan.")
    replaces_id = fields.Many2one(
        "dunning.instalment.plan", string="Replaces", readonly=True, copy=False, index=True,
        check_company=True, help="The running plan this one replaced when it was renegotiated.")
    replaced_by_id = fields.Many2one(
        "dunning.instalment.plan", string="Replaced By", readonly=True, copy=False,
        check_company=True, help="The plan agreed when this one was renegotiated.")
    note = fields.Text(string="Customer's Message")
    answer = fields.Text(
        string="Answer to the Customer",
        help="Sent to the customer with the approval or the refusal (optional).")
    state = fields.Selection(PLAN_STATES, default="requested", required=True, tracking=True,
                             index=True)
    refused_date = fields.Date(
        string="Refused On", readonly=True, copy=False,
        help="When the plan was refused: the customer can ask for another one from their page "
             "only some days later (system parameter dunning_portal.plan_retry_days, 30 by "
             "default); the accountant can always create one.")
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_total = fields.Monetary(compute="_compute_amount_total", string="Amount Due")
    instalment_amount = fields.Monetary(compute="_compute_amount_total", string="Per Instalment")
    amount_agreed = fields.Monetary(
        string="Amount Agreed", readonly=True, copy=False,
        help="What the invoices still owed when the plan was approved: the instalments add up "
             "to it, and every payment received since then counts towards them.")
    amount_paid = fields.Monetary(compute="_compute_progress", string="Paid Since Approval")
    line_ids = fields.One2many("dunning.instalment.plan.line", "plan_id", string="Schedule",
                               readonly=True)
    next_line_id = fields.Many2one("dunning.instalment.plan.line", compute="_compute_progress",
                                   string="Next Instalment")
    amount_due_next = fields.Monetary(
        compute="_compute_progress", string="To Pay for the Next Instalment",
        help="What is left to pay of the next instalment, counting what was paid already.")

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

    @api.depends("amount_agreed", "invoice_ids.amount_residual_signed", "line_ids.state", "state")
    def _compute_progress(self):
        for plan in self:
            paid = max(0.0, plan.amount_agreed - sum(plan.invoice_ids.mapped(
                "amount_residual_signed"))) if plan.amount_agreed else 0.0
            plan.amount_paid = plan.currency_id.round(paid)
            # only a running plan has a next instalment (not one broken or renegotiated)
            pending = plan.line_ids.filtered(
                lambda line: line.state == "pending")[:1] if plan.state == "approved" \
                else plan.line_ids.browse()
            plan.next_line_id = pending
            plan.amount_due_next = (max(0.0, plan.currency_id.round(
                pending.amount_cumulative - plan.amount_paid)) if pending else 0.0)

    # ------------------------------------------------------------------ request
    @api.model
    def _dunning_request(self, partner, invoices, count, first_date, note=""):
        """Validate and record a customer's request; the collector gets an activity."""
        partner = partner.commercial_partner_id
        if not invoices:
            raise UserError(self.env._("Choose the invoices to pay in instalments."))
        if len(note or "") > MAX_NOTE:
            raise UserError(self.env._("Your message is too long: %s characters at most.",
                                       MAX_NOTE))
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
        if self.search_count([("partner_id", "=", partner.id),
                              ("state", "in", ("requested", "approved")),
                              ("invoice_ids", "in", invoices.ids)]):
            raise UserError(self.env._("These invoices already have a payment plan or a "
                                       "request waiting for our answer."))
        retry_days = self._dunning_retry_days()
        refused_on = max((plan.refused_date or plan.write_date.date() for plan in self.search([
            ("partner_id", "=", partner.id), ("company_id", "=", company.id),
            ("state", "=", "refused")])), default=None)
        if refused_on and today < refused_on + timedelta(days=retry_days):
            raise UserError(self.env._(
                "We refused a payment plan on %(date)s: you can ask for a new one from "
                "%(next)s. Please contact us if you need to talk about it before.",
                date=format_date(self.env, refused_on),
                next=format_date(self.env, refused_on + timedelta(days=retry_days))))
        plan = self.create({
            "partner_id": partner.id, "company_id": company.id,
            "invoice_ids": [fields.Command.set(invoices.ids)],
            "instalment_count": count, "first_date": first_date, "note": note,
        })
        plan.activity_schedule(
            "mail.mail_activity_data_todo", user_id=invoices[0]._dunning_responsible().id,
            summary=self.env._("Payment plan requested by %s", partner.display_name),
            note=note or "")
        body = self.env._("Payment plan requested: %(count)s instalments from %(date)s.",
                          count=count, date=first_date)
        plan.message_post(body=body, author_id=partner.id)
        for inv in invoices:
            inv.message_post(body=body, author_id=partner.id)
        return plan

    @api.model
    def _dunning_retry_days(self):
        """Days after a refusal before the customer may ask again from their page."""
        return self.env["ir.config_parameter"]._dunning_int_param(
            "dunning_portal.plan_retry_days", DEFAULT_RETRY_DAYS)

    # ------------------------------------------------------------------ answer
    def _dunning_schedule_values(self):
        """The schedule of the plan's terms (down payment, instalments at its frequency from
        the first date) adding up to the amount agreed (the last instalment takes the
        rounding). See _dunning_build_schedule."""
        self.ensure_one()
        return self._dunning_build_schedule(
            self.currency_id, self.amount_agreed, self.instalment_count, self.first_date,
            frequency=self.frequency, down_payment=self.down_payment_amount,
            down_payment_date=self.down_payment_date)

    def _dunning_schedule_html(self):
        self.ensure_one()
        rows = Markup("").join(
            Markup("<li>%s: %s</li>") % (
                self.env._("Down payment on %s", format_date(self.env, line.date))
                if line.is_down_payment else format_date(self.env, line.date),
                format_amount(self.env, line.amount, self.currency_id))
            for line in self.line_ids)
        return Markup("<ul>%s</ul>") % rows

    def _dunning_tell_customer(self, subject, intro):
        """E-mail the customer (the plan's chatter keeps it); without an address, a call task.
        Called in the customer's language (_dunning_customer_lang); the words for staff are in
        the user's."""
        self.ensure_one()
        staff = self.with_context(lang=self.env.user.lang or self.env.lang)
        body = Markup("<p>%s</p>") % intro
        if self.state == "approved":
            body += self._dunning_schedule_html()
        if self.answer:
            body += Markup("<p>%s</p>") % self.answer
        link = self.invoice_ids[:1]._dunning_customer_link() if self.invoice_ids else False
        if link:
            body += Markup('<p><a href="%s">%s</a></p>') % (
                link, self.env._("See your invoices and pay"))
        if self.partner_id.email:
            self.message_post(body=body, subject=subject, partner_ids=self.partner_id.ids,
                              message_type="comment", subtype_xmlid="mail.mt_comment")
        else:
            self.message_post(body=body + Markup("<p><b>%s</b></p>") % staff.env._(
                "The customer has no e-mail address: tell them by phone or by post."))
            staff.activity_schedule(
                "mail.mail_activity_data_call",
                user_id=self.invoice_ids[:1]._dunning_responsible().id,
                summary=subject)

    def action_approve(self):
        for plan in self.filtered(lambda p: p.state == "requested"):
            open_invoices = plan.invoice_ids.filtered(lambda m: m._dunning_is_open())
            agreed = plan.currency_id.round(sum(open_invoices.mapped("amount_residual_signed")))
            if plan.currency_id.is_zero(agreed):
                raise UserError(self.env._("The invoices of %s are paid already: refuse the "
                                           "plan instead.", plan.display_name))
            plan.write({"state": "approved", "amount_agreed": agreed,
                        "agreed_by_id": self.env.user.id})
            plan.line_ids = [fields.Command.create(vals)
                             for vals in plan._dunning_schedule_values()]
            plan.activity_feedback(["mail.mail_activity_data_todo"],
                                   feedback=self.env._("Approved"))
            plan._dunning_start(open_invoices)
        return True

    def _dunning_start(self, open_invoices):
        """The plan runs (its schedule is set): the invoices pause until the first payment
        falls due and the customer gets the schedule with the link to their page."""
        self.ensure_one()
        open_invoices._dunning_pause_until(self.line_ids[:1].date)
        instalments = self.line_ids.filtered(lambda line: not line.is_down_payment)
        down = self.line_ids.filtered("is_down_payment")[:1]
        customer = self._dunning_customer_lang()

        def args(env):
            values = {"count": len(instalments), "date": format_date(env, instalments[:1].date)}
            if down:
                values.update(amount=format_amount(env, down.amount, self.currency_id),
                              down_date=format_date(env, down.date))
            return values

        if down:
            note = self.env._(
                "Payment plan approved (a down payment of %(amount)s on %(down_date)s, then "
                "%(count)s instalments from %(date)s): reminders paused until each payment "
                "falls due.", **args(self.env))
            intro = customer.env._(
                "Your payment plan is approved: a down payment of %(amount)s on %(down_date)s, "
                "then %(count)s instalments, the first on %(date)s.", **args(customer.env))
        else:
            note = self.env._(
                "Payment plan approved (%(count)s instalments from %(date)s): reminders "
                "paused until each instalment falls due.", **args(self.env))
            intro = customer.env._(
                "Your payment plan is approved: %(count)s instalments, the first on %(date)s.",
                **args(customer.env))
        for inv in open_invoices:
            inv.message_post(body=note)
        customer._dunning_tell_customer(customer.env._("Your payment plan is approved"), intro)

    def _dunning_customer_lang(self):
        """This plan in the customer's language: what the customer reads is written in it."""
        return self.with_context(lang=self.partner_id.lang or self.env.lang)

    def action_refuse(self):
        for plan in self.filtered(lambda p: p.state == "requested"):
            plan.write({"state": "refused", "refused_date": fields.Date.context_today(plan)})
            for inv in plan.invoice_ids:
                inv.message_post(body=self.env._("Payment plan refused: the reminders go on."))
            plan.activity_feedback(["mail.mail_activity_data_todo"],
                                   feedback=self.env._("Refused"))
            customer = plan._dunning_customer_lang()
            customer._dunning_tell_customer(
                customer.env._("About your payment plan request"),
                customer.env._("We cannot accept the payment plan you asked for: the invoices "
                               "remain due. Please contact us if you need to talk about it."))
        return True

    # ------------------------------------------------------------------ follow
    @api.model
    def _dunning_follow(self, today, companies=None):
        """Follow the running plans: mark the instalments the payments cover, pause the
        invoices until the next one, end the plan when a date passes unpaid (the next reminder
        then goes at once) or when everything is paid."""
        domain = [("state", "=", "approved")]
        if companies:
            domain.append(("company_id", "in", companies.ids))
        for plan in self.search(domain):
            currency = plan.currency_id
            open_invoices = plan.invoice_ids.filtered(lambda m: m._dunning_is_open())
            paid = plan.amount_paid
            missed = False
            for line in plan.line_ids.filtered(lambda l: l.state == "pending"):
                if currency.compare_amounts(paid, line.amount_cumulative) >= 0:
                    line.state = "paid"
                    plan.message_post(body=self.env._("Down payment received.")
                                      if line.is_down_payment else self.env._(
                        "Instalment %(number)s of %(count)s received.",
                        number=line.sequence, count=plan.instalment_count))
                elif line.date < today:
                    line.state = "missed"
                    missed = line
                    break
                else:
                    break
            if missed:
                plan._dunning_break(missed, open_invoices, paid)
            elif not open_invoices or not plan.line_ids.filtered(lambda l: l.state == "pending"):
                plan.state = "done"
                open_invoices.dunning_paused_until = False
                plan.message_post(body=self.env._("Payment plan completed."))
            else:
                open_invoices._dunning_pause_until(plan.next_line_id.date)

    def _dunning_break(self, line, open_invoices, paid):
        self.ensure_one()
        short = format_amount(self.env, self.currency_id.round(line.amount_cumulative - paid),
                              self.currency_id)
        if line.is_down_payment:
            why = self.env._(
                "the down payment of the payment plan (%(amount)s due on %(date)s) was not "
                "received", amount=short, date=format_date(self.env, line.date))
        else:
            why = self.env._(
                "instalment %(number)s of %(count)s of the payment plan (%(amount)s due on "
                "%(date)s) was not received", number=line.sequence, count=self.instalment_count,
                amount=short, date=format_date(self.env, line.date))
        self.state = "broken"
        open_invoices._dunning_remind_at_once(why)
        for inv in open_invoices:
            inv.dunning_paused_until = False
            inv.message_post(body=self.env._("Payment plan not kept: %s. The next reminder "
                                             "goes at once.", why))
        self.message_post(body=self.env._("Payment plan not kept: %s.", why))
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=self.invoice_ids[:1]._dunning_responsible().id,
            summary=self.env._("Payment plan not kept by %s", self.partner_id.display_name),
            note=why)


class DunningInstalmentPlanLine(models.Model):
    _name = "dunning.instalment.plan.line"
    _description = "Dunning Instalment"
    _order = "plan_id, sequence"

    plan_id = fields.Many2one("dunning.instalment.plan", required=True, ondelete="cascade",
                              index=True)
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    sequence = fields.Integer(string="#", required=True,
                              help="0 for the down payment, then the instalments from 1.")
    is_down_payment = fields.Boolean(string="Down Payment")
    label = fields.Char(string="Payment", compute="_compute_label")
    date = fields.Date(required=True)
    amount = fields.Monetary(required=True)
    amount_cumulative = fields.Monetary(string="Cumulative", required=True)
    state = fields.Selection(
        [("pending", "To pay"), ("paid", "Paid"), ("missed", "Missed"),
         ("replaced", "Replaced")],
        default="pending", required=True)

    @api.depends("label", "date")
    def _compute_display_name(self):
        for line in self:
            line.display_name = self.env._("%(payment)s on %(date)s", payment=line.label,
                                           date=format_date(self.env, line.date))

    @api.depends("is_down_payment", "sequence")
    def _compute_label(self):
        for line in self:
            line.label = (self.env._("Down payment") if line.is_down_payment
                          else self.env._("Instalment %s", line.sequence))
