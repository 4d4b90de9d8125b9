"""The agency case: a debt handed over to a collection agency or a lawyer, followed until it
ends (recovered, written off or returned).

Created when a hand-off communication is sent (dunning.send._dunning_mark_sent) or by hand from
the customer. While it is open (handed off / in recovery) the chain sends nothing for its
invoices: the planner leaves them out (dunning_agency_hold.py) and
``account.move._dunning_blocked_reason`` says why. Every change of state and every recovery is
appended to the hand-off communication's sealed record as a "case" event, and told in the
case's chatter.
"""
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_amount

CASE_STATES = [
    ("handed_off", "Handed Off"),
    ("in_recovery", "In Recovery"),
    ("recovered", "Recovered"),
    ("written_off", "Written Off"),
    ("returned", "Returned"),
]
#: while a case is in one of these states, the chain is silent for its invoices
OPEN_STATES = ("handed_off", "in_recovery")
#: the payment states of an invoice that nothing is owed on any more
SETTLED_STATES = ("paid", "in_payment", "reversed")


class DunningAgencyCase(models.Model):
    _name = "dunning.agency.case"
    _description = "Collection Agency Case"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "handed_off_at desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", readonly=True, copy=False, default="/")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True,
                                 default=lambda self: self.env.company)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="restrict",
        check_company=True, domain=[("parent_id", "=", False)],
        help="The customer whose debt was handed over (the commercial entity).")
    agency_id = fields.Many2one(
        "res.partner", string="Agency / Lawyer", tracking=True, ondelete="restrict",
        check_company=True,
        help="The collection agency or lawyer the debt was handed to. It receives the case file.")
    agency_reference = fields.Char(string="Agency's Reference", tracking=True,
                                   help="The case number the agency or lawyer gave.")
    handoff_communication_id = fields.Many2one(
        "dunning.communication", string="Hand-off", readonly=True, index="btree_not_null",
        ondelete="restrict", check_company=True,
        help="The hand-off step of the chain that opened this case: the case's progress is "
             "appended to its sealed record.")
    move_ids = fields.Many2many(
        "account.move", "dunning_agency_case_move_rel", "case_id", "move_id",
        string="Invoices Handed Off", check_company=True,
        domain="[('commercial_partner_id', '=', partner_id), ('move_type', '=', 'out_invoice'), "
               "('state', '=', 'posted')]",
        help="While the case is open, the chain sends nothing for these invoices.")
    handed_off_at = fields.Datetime(string="Handed Off On", required=True, readonly=True,
                                    default=fields.Datetime.now)
    state = fields.Selection(CASE_STATES, default="handed_off", required=True, readonly=True,
                             index=True, copy=False)
    closed_at = fields.Datetime(string="Ended On", readonly=True, copy=False)
    close_reason = fields.Text(string="How It Ended", readonly=True, copy=False)
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    amount_handed_off = fields.Monetary(
        string="Amount Handed Off", readonly=True,
        help="What the invoices still owed when they were handed over (company currency).")
    recovery_ids = fields.One2many("dunning.agency.case.recovery", "case_id",
                                   string="Recoveries")
    amount_recovered = fields.Monetary(
        compute="_compute_amounts", store=True, string="Recovered",
        help="What the agency reported having collected, plus the payments registered on the "
             "handed-off invoices while the case was open.")
    amount_fee = fields.Monetary(compute="_compute_amounts", store=True, string="Agency Fees")
    amount_balance = fields.Monetary(compute="_compute_amounts", store=True, string="Balance",
                                     help="Handed off, less what was recovered.")
    amount_net = fields.Monetary(compute="_compute_amounts", store=True, string="Net Recovered",
                                 help="Recovered, less the agency's fees.")
    fee_rate = fields.Float(
        string="Agency Fee (%)", tracking=True, digits=(5, 2),
        help="The agency's commission on what is recovered: the default fee of each recovery "
             "(editable per recovery).")
    note = fields.Html(string="Notes")
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    casefile_pdf_id = fields.Many2one("ir.attachment", string="Case File (PDF)", readonly=True,
                                      copy=False)
    casefile_zip_id = fields.Many2one("ir.attachment", string="Case File (ZIP)", readonly=True,
                                      copy=False)
    casefile_at = fields.Datetime(string="Case File Of", readonly=True, copy=False)

    @api.depends("recovery_ids.amount", "recovery_ids.fee", "amount_handed_off")
    def _compute_amounts(self):
        for case in self:
            recovered = sum(case.recovery_ids.mapped("amount"))
            fee = sum(case.recovery_ids.mapped("fee"))
            case.amount_recovered = recovered
            case.amount_fee = fee
            case.amount_balance = case.amount_handed_off - recovered
            case.amount_net = recovered - fee

    @api.depends("move_ids")
    def _compute_invoice_count(self):
        for case in self:
            case.invoice_count = len(case.move_ids)

    # ------------------------------------------------------------------ rights
    def _dunning_check_user(self):
        """Cases are for dunning users: every public method checks it (ACL aside)."""
        if not (self.env.su or self.env.user.has_group("dunning_chain.group_dunning_user")):
            raise AccessError(self.env._("Only dunning users follow agency cases."))

    # ------------------------------------------------------------------ create, constraints
    @api.model_create_multi
    def create(self, vals_list):
        self._dunning_check_user()
        for vals in vals_list:
            partner = self.env["res.partner"].browse(vals.get("partner_id"))
            if partner:
                vals["partner_id"] = partner.commercial_partner_id.id
        cases = super().create(vals_list)
        for case in cases:
            if case.name in (False, "/"):
                case.name = self.env["ir.sequence"].with_company(case.company_id).next_by_code(
                    "dunning.agency.case") or f"CASE/{case.id}"
            case.amount_handed_off = sum(case.move_ids.mapped("amount_residual_signed"))
            case._dunning_on_opened()
        return cases

    @api.constrains("move_ids", "partner_id", "state")
    def _check_moves(self):
        for case in self:
            if not case.move_ids:
                raise ValidationError(self.env._("Hand off at least one invoice."))
            foreign = case.move_ids.filtered(
                lambda m: m.commercial_partner_id != case.partner_id
                or m.move_type != "out_invoice" or m.state != "posted")
            if foreign:
                raise ValidationError(self.env._(
                    "An agency case holds posted invoices of its customer only: %s.",
                    ", ".join(foreign.mapped("display_name"))))
            if case.state not in OPEN_STATES:
                continue
            other = self.sudo().search([("id", "!=", case.id), ("state", "in", OPEN_STATES),
                                        ("move_ids", "in", case.move_ids.ids)], limit=1)
            if other:
                raise ValidationError(self.env._(
                    "%(invoices)s already are with the agency in case %(case)s.",
                    invoices=", ".join((other.move_ids & case.move_ids).mapped("name")),
                    case=other.name))

    def write(self, vals):
        if "move_ids" in vals and self.filtered(lambda c: c.recovery_ids or
                                                c.handoff_communication_id):
            raise UserError(self.env._(
                "The invoices of a case handed off by the chain or with recoveries are part "
                "of its record: open a new case for other invoices."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_mistakes(self):
        for case in self:
            if case.handoff_communication_id or case.recovery_ids or case.state != "handed_off":
                raise UserError(self.env._(
                    "Case %s is part of the record: set it Returned (or Written Off) instead "
                    "of deleting it.", case.name))

    # ------------------------------------------------------------------ the record
    def _dunning_case_event(self, description, data=None):
        """Tell what happened to the case: a "case" event on the hand-off communication's
        sealed record (when it has one), and the case's chatter."""
        for case in self:
            comm = case.handoff_communication_id.sudo()
            if comm and comm.state == "sent" and comm.hash:
                comm._dunning_record_event("case", description, dict(
                    data or {}, case=case.name, state=case.state))
            case.message_post(body=description, subtype_xmlid="mail.mt_note")

    def _dunning_link(self):
        self.ensure_one()
        return Markup('<a href="#" data-oe-model="%s" data-oe-id="%s">%s</a>') % (
            self._name, self.id, self.name)

    def _dunning_agency_name(self):
        self.ensure_one()
        return self.agency_id.display_name or self.env._("the collection agency")

    def _dunning_on_opened(self):
        """A new case: its invoices leave every planned message, the customer's and the
        invoices' chatter say so, the record too."""
        self.ensure_one()
        amount = format_amount(self.env, self.amount_handed_off, self.currency_id)
        self._dunning_case_event(
            self.env._("Handed off to %(agency)s: %(invoices)s (%(amount)s).",
                       agency=self._dunning_agency_name(),
                       invoices=", ".join(self.move_ids.mapped("name")), amount=amount),
            {"invoices": self.move_ids.mapped("name"),
             "amount": self.currency_id.round(self.amount_handed_off),
             "agency": self.agency_id.display_name or ""})
        note = Markup("%s %s") % (self.env._(
            "Handed off to %(agency)s (%(amount)s): the chain sends nothing for these invoices "
            "while the case is open.", agency=self._dunning_agency_name(), amount=amount),
            self._dunning_link())
        self.partner_id._message_log(body=note)
        self.move_ids._message_log_batch(bodies=dict.fromkeys(self.move_ids.ids, note))
        self.move_ids._dunning_withdraw_planned()

    def _dunning_set_state(self, state, why=""):
        """Move the case to ``state`` and say so (record event, chatter)."""
        labels = dict(CASE_STATES)
        for case in self:
            vals = {"state": state}
            ending = state not in OPEN_STATES
            if ending:
                vals.update(closed_at=fields.Datetime.now(), close_reason=why or False)
            case.write(vals)
            description = self.env._("Case %(case)s: %(state)s.", case=case.name,
                                     state=labels[state])
            if why:
                description = f"{description} {why}"
            case._dunning_case_event(description, {"why": why})
            if ending:
                note = Markup("%s %s") % (case._dunning_ending_words(state), case._dunning_link())
                case.partner_id._message_log(body=note)
                case.move_ids._message_log_batch(bodies=dict.fromkeys(case.move_ids.ids, note))

    def _dunning_ending_words(self, state):
        self.ensure_one()
        agency = self._dunning_agency_name()
        if state == "returned":
            return self.env._("%s returned the case: the chain may remind these invoices "
                              "again.", agency)
        if state == "written_off":
            return self.env._("Written off after the case with %s: these invoices are "
                              "excluded from dunning for good.", agency)
        return self.env._("Recovered by %s: the case is closed.", agency)

    # ------------------------------------------------------------------ user actions
    def _dunning_open_only(self):
        self._dunning_check_user()
        self.check_access("write")
        closed = self.filtered(lambda c: c.state not in OPEN_STATES)
        if closed:
            raise UserError(self.env._("Case %s has ended already.", closed[0].name))

    def action_start_recovery(self):
        """The agency confirmed it took the case on."""
        self._dunning_open_only()
        self.filtered(lambda c: c.state == "handed_off")._dunning_set_state(
            "in_recovery", self.env._("The agency works on it."))
        return True

    def action_mark_recovered(self):
        self._dunning_open_only()
        self._dunning_set_state("recovered", self.env._("Balance: %s.", ", ".join(
            format_amount(self.env, case.amount_balance, case.currency_id) for case in self)))
        return True

    def action_write_off(self):
        """The company gives the debt up. The invoices are excluded from dunning for good
        (with the reason): no reminder ever goes for a debt written off. The accounting
        write-off itself (a credit note, a loss entry, the VAT relief on bad debts) stays the
        accountant's act: it depends on the country's rules."""
        self._dunning_open_only()
        for case in self:
            reason = self.env._("Written off after agency case %s", case.name)
            case._dunning_set_state("written_off", self.env._(
                "Balance written off: %s.", format_amount(self.env, case.amount_balance,
                                                           case.currency_id)))
            case.move_ids.filtered(lambda m: not m.dunning_excluded).write(
                {"dunning_excluded": True, "dunning_exclusion_reason": reason})
        return True

    def action_return(self):
        """The agency gives the case back: the invoices rejoin the chain where they stood."""
        self._dunning_open_only()
        self._dunning_set_state("returned", self.env._("The invoices rejoin the chain."))
        return True

    def action_view_invoices(self):
        self._dunning_check_user()
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type")
        action.update({"domain": [("id", "in", self.move_ids.ids)],
                       "context": {"create": False}})
        return action

    # ------------------------------------------------------------------ payments
    def _dunning_on_payment(self, partials):
        """Payments reconciled with the handed-off invoices while the case is open count as
        recovered (dunning.agency.case.recovery lines of kind "payment"); once every invoice
        is settled the case is recovered."""
        Recovery = self.env["dunning.agency.case.recovery"].sudo()
        for case in self.sudo():
            lines = []
            for partial in partials:
                invoice_line = (partial.debit_move_id | partial.credit_move_id).filtered(
                    lambda line: line.move_id in case.move_ids)[:1]
                if not invoice_line:
                    continue
                counterpart = (partial.debit_move_id | partial.credit_move_id) - invoice_line
                entry = counterpart.move_id
                if not (entry.origin_payment_id or entry.statement_line_id):
                    continue  # a credit note or a write-off is no recovery
                sign = 1 if invoice_line == partial.debit_move_id else -1
                lines.append({
                    "case_id": case.id, "kind": "payment", "date": partial.max_date,
                    "amount": sign * partial.amount, "move_id": invoice_line.move_id.id,
                    "payment_move_id": entry.id, "partial_id": partial.id,
                    "note": entry.display_name,
                })
            if lines:
                Recovery.create(lines)
            if case.state in OPEN_STATES and all(
                    m.payment_state in SETTLED_STATES for m in case.move_ids):
                case._dunning_set_state("recovered", self.env._(
                    "Every handed-off invoice is settled."))
