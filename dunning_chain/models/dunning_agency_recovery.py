from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from .dunning_agency_case import OPEN_STATES

RECOVERY_KINDS = [
    ("agency", "Reported by the agency"),
    ("payment", "Payment registered"),
]
#: what a recovery says once recorded (its note may still be completed)
RECORDED_FIELDS = {"case_id", "kind", "date", "amount", "fee", "move_id", "payment_move_id",
                   "partial_id"}


class DunningAgencyCaseRecovery(models.Model):
    """What was recovered in an agency case: an amount the agency reports having collected
    (entered by the accountant), or a payment registered on a handed-off invoice while the
    case was open (recorded by itself). Recorded once, like the events of the record: a
    mistake is corrected by a further line (a negative amount)."""

    _name = "dunning.agency.case.recovery"
    _description = "Agency Case Recovery"
    _order = "date, id"

    case_id = fields.Many2one("dunning.agency.case", required=True, ondelete="cascade",
                              index=True)
    company_id = fields.Many2one(related="case_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="case_id.currency_id")
    kind = fields.Selection(RECOVERY_KINDS, required=True, default="agency", readonly=True)
    date = fields.Date(required=True, default=fields.Date.context_today)
    amount = fields.Monetary(
        required=True, help="What was recovered (company currency); negative to correct an "
                            "earlier line.")
    fee = fields.Monetary(string="Agency Fee",
                          help="The agency's commission on this amount (default: the case's "
                               "fee rate).")
    note = fields.Char(help="What the agency reported, the payment's reference...")
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True,
                              ondelete="set null")
    payment_move_id = fields.Many2one("account.move", string="Payment Entry", readonly=True,
                                      ondelete="set null")
    partial_id = fields.Many2one("account.partial.reconcile", readonly=True, ondelete="set null",
                                 index="btree_not_null")

    @api.onchange("amount")
    def _onchange_amount(self):
        for line in self:
            line.fee = line.currency_id.round(line.amount * line.case_id.fee_rate / 100.0)

    @api.model_create_multi
    def create(self, vals_list):
        Case = self.env["dunning.agency.case"]
        Case._dunning_check_user()
        for vals in vals_list:
            if vals.get("kind") == "payment" and not self.env.su:
                raise UserError(self.env._("Payments are recorded by themselves when they are "
                                           "registered on a handed-off invoice."))
            case = Case.browse(vals.get("case_id"))
            if vals.get("kind", "agency") == "agency" and case.state not in OPEN_STATES:
                raise UserError(self.env._("Case %s has ended: no more recoveries.", case.name))
            if "fee" not in vals and case:
                vals["fee"] = case.currency_id.round(
                    (vals.get("amount") or 0.0) * case.fee_rate / 100.0)
        lines = super().create(vals_list)
        # money comes in: the agency works on it
        lines.case_id.filtered(lambda c: c.state == "handed_off")._dunning_set_state(
            "in_recovery")
        for line in lines:
            line._dunning_tell()
        return lines

    def write(self, vals):
        recorded = RECORDED_FIELDS.intersection(vals)
        if recorded:
            raise UserError(self.env._("A recovery is recorded once: add a correcting line "
                                       "(a negative amount) instead of changing it."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("A recovery is part of the case's record: add a correcting "
                                   "line (a negative amount) instead of deleting it."))

    def _dunning_tell(self):
        self.ensure_one()
        case = self.case_id
        amount = format_amount(self.env, self.amount, self.currency_id)
        if self.kind == "payment" and self.amount < 0:
            description = self.env._(
                "Payment of %(amount)s on %(invoice)s undone (%(entry)s): no longer counted.",
                amount=format_amount(self.env, -self.amount, self.currency_id),
                invoice=self.move_id.name, entry=self.payment_move_id.display_name)
        elif self.kind == "payment":
            description = self.env._(
                "Payment of %(amount)s registered on %(invoice)s (%(entry)s): counted as "
                "recovered.", amount=amount, invoice=self.move_id.name,
                entry=self.payment_move_id.display_name)
        else:
            description = self.env._("The agency reports %(amount)s recovered (fee %(fee)s).",
                                     amount=amount,
                                     fee=format_amount(self.env, self.fee, self.currency_id))
        if self.note and self.kind != "payment":
            description = f"{description} {self.note.strip().rstrip('.')}."
        balance = format_amount(self.env, case.amount_balance, case.currency_id)
        case._dunning_case_event(
            self.env._("%(what)s Balance: %(balance)s.", what=description, balance=balance),
            {"recovery": self.id, "kind": self.kind, "date": str(self.date),
             "amount": self.currency_id.round(self.amount),
             "fee": self.currency_id.round(self.fee),
             "balance": self.currency_id.round(case.amount_balance)})


class AccountPartialReconcile(models.Model):
    """A payment reconciled with a handed-off invoice while its case is open is a recovery;
    undone (unreconciled), a correcting line says so."""

    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        moves = (partials.debit_move_id | partials.credit_move_id).move_id.filtered(
            lambda m: m.move_type == "out_invoice")
        if moves:
            cases = self.env["dunning.agency.case"].sudo().search([
                ("move_ids", "in", moves.ids), ("state", "in", OPEN_STATES)])
            if cases:
                cases._dunning_on_payment(partials)
        return partials

    @api.ondelete(at_uninstall=False)
    def _unlink_dunning_recovery(self):
        Recovery = self.env["dunning.agency.case.recovery"].sudo()
        for line in Recovery.search([("partial_id", "in", self.ids)]):
            Recovery.create({
                "case_id": line.case_id.id, "kind": "payment", "date": fields.Date.today(),
                "amount": -line.amount, "fee": -line.fee, "move_id": line.move_id.id,
                "payment_move_id": line.payment_move_id.id,
                "note": self.env._("Undone: %s", line.note or ""),
            })
