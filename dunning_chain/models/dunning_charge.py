"""Late-payment charges: computed per invoice when a level that charges is sent, shown in the
message, and (when the policy books them) invoiced to the customer at the end of the run.

States: *pending* (computed for a message about to leave; recomputed if it is moved),
*shown* (the message said "you may be charged", nothing owed), *to_book* (sent, waiting for
the run's fee invoice), *booked* (a line of a posted fee invoice), *waived* (an accountant
gave it up; a booked one is reversed by a credit note).
"""
from odoo import api, fields, models

CHARGE_KINDS = [
    ("interest", "Late payment interest"),
    ("compensation", "Recovery compensation"),
    ("fee", "Reminder fee"),
    ("percent", "Late payment surcharge"),
]


class DunningCharge(models.Model):
    _name = "dunning.charge"
    _description = "Late Payment Charge"
    _order = "date_to desc, id desc"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True,
                                 readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice Charged", required=True,
                              index=True, ondelete="restrict", readonly=True)
    communication_id = fields.Many2one("dunning.communication", ondelete="restrict",
                                       index=True, readonly=True,
                                       help="The message that applied the charge.")
    communication_ids = fields.Many2many("dunning.communication",
                                         "dunning_charge_communication_rel", "charge_id",
                                         "communication_id", string="Stated In", readonly=True)
    level_id = fields.Many2one("dunning.level", ondelete="set null", readonly=True)
    kind = fields.Selection(CHARGE_KINDS, required=True, readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("shown", "Shown Only"), ("to_book", "To Book"),
         ("booked", "Booked"), ("waived", "Waived")],
        required=True, default="pending", readonly=True, index=True)
    date_from = fields.Date(string="From", readonly=True)
    date_to = fields.Date(string="Charge Date", readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary(readonly=True)
    formula = fields.Char(readonly=True, help="How the amount was computed.")
    rule_id = fields.Many2one("dunning.charge.rule", string="Rule", readonly=True,
                              ondelete="set null")
    fee_move_id = fields.Many2one("account.move", string="Fee Invoice", readonly=True,
                                  index="btree_not_null", ondelete="set null")
    fee_line_id = fields.Many2one("account.move.line", readonly=True, ondelete="set null")
    waive_reason = fields.Text(readonly=True)
    waive_move_id = fields.Many2one("account.move", string="Credit Note", readonly=True,
                                    ondelete="set null")
    waived_by_id = fields.Many2one("res.users", readonly=True)

    @api.depends("kind", "move_id")
    def _compute_display_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for charge in self:
            charge.display_name = f"{labels.get(charge.kind, '')} {charge.move_id.name or ''}"

    # ------------------------------------------------------------------ the rule of a message
    @api.model
    def _dunning_rule_for(self, partner, company, policy, day=None):
        """The late payment rule of a customer under a policy, if any charge may apply:
        consumers only when the policy charges them; the company's or the customer's country
        as the policy says."""
        partner = partner.commercial_partner_id
        kind = partner._dunning_customer_kind()
        if kind == "consumer" and not policy.charge_consumers:
            return self.env["dunning.charge.rule"]
        country = company.country_id if policy.charge_law == "company" else partner.country_id
        return self.env["dunning.charge.rule"]._dunning_find(
            country, kind, day or fields.Date.context_today(self))

    @api.model
    def _dunning_notice(self, comm):
        """What a message says about charges, as data (the templates word it):
        ``mode`` ('show': "you may be charged", 'book': "we charge"), ``rule`` (its ``law``
        is quoted), ``rate`` (the annual rate in force today, in %), ``compensation`` and
        ``compensation_currency`` (per invoice, for this customer's debts), ``charges`` (the
        charges this message states) and ``totals`` ([(currency, amount)]). Empty dict when
        the message states no charge."""
        policy, level = comm.policy_id, comm.level_id
        if policy.charge_mode == "none" or not level or not level._dunning_charges():
            return {}
        charges = comm.charge_ids.filtered(lambda c: c.state != "waived")
        rule = self._dunning_rule_for(comm.partner_id, comm.company_id, policy)
        if not charges and not rule:
            return {}
        today = fields.Date.context_today(self)
        totals = {}
        for charge in charges:
            totals[charge.currency_id] = totals.get(charge.currency_id, 0.0) + charge.amount
        return {
            "mode": policy.charge_mode,
            "rule": rule,
            "rate": rule._dunning_rate_on(today) if rule and level.charge_interest else None,
            "compensation": (rule.compensation_amount if rule and level.charge_compensation
                             else None),
            "compensation_currency": rule.compensation_currency_id if rule else False,
            "charges": charges,
            "totals": sorted(totals.items(), key=lambda item: item[0].name),
        }
