"""Late-payment charges: computed per invoice when a level that charges is sent, shown in the
message, and (when the policy books them) invoiced to the customer at the end of the run.

States: *pending* (computed for a message about to leave; recomputed if it is moved),
*shown* (the message said "you may be charged", nothing owed), *to_book* (sent, waiting for
the run's fee invoice), *booked* (a line of a posted fee invoice), *waived* (an accountant
gave it up; a booked one is reversed by a credit note).
"""
import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

from ..tools import charges as charge_tools

_logger = logging.getLogger(__name__)

#: states that count as charged (a later charge starts after them; compensation only once)
CHARGED_STATES = ("to_book", "booked", "waived")

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

    # ------------------------------------------------------------------ computing
    @api.model
    def _dunning_prepare(self, comms):
        """Compute the charges of these communications about to leave, as *pending* rows the
        message states (the e-mail and the letter of one step share them). Called by the
        sender under its row lock, after the amounts were refreshed; again if a message is
        moved and sent later (pending rows are recomputed, never the others)."""
        today = fields.Date.context_today(self)
        for comm in comms:
            level, policy = comm.level_id, comm.policy_id
            kinds = level._dunning_charges() if level else []
            if comm.kind != "reminder" or policy.charge_mode == "none" or not kinds:
                continue
            rule = self._dunning_rule_for(comm.partner_id, comm.company_id, policy, today)
            stated = self.browse()
            for line in comm.line_ids.filtered("is_open"):
                move = line.move_id
                if move.dunning_is_fee_invoice or move.move_type != "out_invoice":
                    continue  # a charges invoice is reminded, never charged itself
                for kind in kinds:
                    stated |= self._dunning_prepare_one(comm, move, line, kind, rule, today)
            if stated:
                comm._dunning_sys_write(
                    {"charge_ids": [fields.Command.link(c.id) for c in stated]})

    @api.model
    def _dunning_prepare_one(self, comm, move, line, kind, rule, today):
        """The pending charge of one kind on one invoice for this step (created or
        recomputed), or an empty recordset when nothing is due."""
        charges = move.sudo().dunning_charge_ids
        pending = charges.filtered(lambda c: c.kind == kind and c.state == "pending"
                                   and c.level_id == comm.level_id)
        values = self._dunning_compute(comm, move, line, kind, rule, today, charges - pending)
        if not values:
            pending.unlink()
            return self.browse()
        values.update(state="pending", date_to=today)
        if pending:
            pending[1:].unlink()
            pending[:1].write(values)
            return pending[:1]
        return self.sudo().create(dict(
            values, partner_id=comm.partner_id.id, company_id=comm.company_id.id,
            move_id=move.id, communication_id=comm.id, level_id=comm.level_id.id, kind=kind))

    @api.model
    def _dunning_compute(self, comm, move, line, kind, rule, today, previous):
        """Values of a charge (amount, currency, from, formula, rule) or None.

        ``previous``: the invoice's other charges. In *book* mode interest starts after the
        last interest charged (booked, to book or waived); in *show* mode the message states
        everything since the due date that was not charged. The compensation is due once per
        invoice, ever (CJEU C-585/20): any compensation charged or waived before excludes it;
        a fee and a surcharge once per invoice and level."""
        currency = move.currency_id
        charged = previous.filtered(lambda c: c.state in CHARGED_STATES)
        lang = comm.partner_id.lang or self.env.lang

        def fmt(value, digits=None):
            return formatLang(self.with_context(lang=lang).env, value,
                              digits=currency.decimal_places if digits is None else digits)

        if kind == "interest":
            if not rule:
                return None
            last = max(charged.filtered(lambda c: c.kind == "interest").mapped("date_to"),
                       default=None)
            start = last + timedelta(days=1) if last else None
            segments = []
            for term in move.line_ids.filtered(lambda ln: ln.display_type == "payment_term"):
                due = term.date_maturity
                if not due or due >= today:
                    continue
                payments = [(partial.max_date, partial.debit_amount_currency)
                            for partial in term.matched_credit_ids]
                segments += charge_tools.interest_segments(
                    term.amount_currency, due, payments, rule._dunning_rates(),
                    start or due + timedelta(days=1), today)
            amount = currency.round(sum(seg.amount for seg in segments))
            if currency.compare_amounts(amount, 0) <= 0:
                return None
            formula = " + ".join(
                f"{seg.days} × {fmt(seg.rate, 2)} % × {fmt(seg.base)} / 365" for seg in segments)
            return {"amount": amount, "currency_id": currency.id, "rule_id": rule.id,
                    "date_from": min(seg.start for seg in segments), "formula": formula}
        if kind == "compensation":
            if not rule or charged.filtered(lambda c: c.kind == "compensation"):
                return None
            debt = move.currency_id._convert(move.amount_total, rule.compensation_currency_id,
                                             move.company_id, today)
            fixed = rule._dunning_compensation(debt)
            amount = rule.compensation_currency_id._convert(fixed, currency, move.company_id,
                                                            today)
            if currency.compare_amounts(amount, 0) <= 0:
                return None
            return {"amount": amount, "currency_id": currency.id, "rule_id": rule.id,
                    "date_from": line.due_date, "formula": rule.law}
        done = charged.filtered(lambda c: c.kind == kind and c.level_id == comm.level_id)
        if done:
            return None
        if kind == "fee":
            company_currency = move.company_id.currency_id
            amount = company_currency._convert(comm.level_id.charge_fee, currency,
                                               move.company_id, today)
            formula = fmt(comm.level_id.charge_fee)
        else:  # percent of what is overdue
            amount = currency.round(line.amount_overdue * comm.level_id.charge_percent / 100.0)
            formula = f"{fmt(comm.level_id.charge_percent, 2)} % × {fmt(line.amount_overdue)}"
        if currency.compare_amounts(amount, 0) <= 0:
            return None
        return {"amount": amount, "currency_id": currency.id, "rule_id": False,
                "date_from": line.due_date, "formula": formula}

    @api.model
    def _dunning_on_sent(self, comm):
        """The message left: its pending charges were stated. In *book* mode they wait for the
        run's fee invoice; in *show* mode they were only announced."""
        pending = comm.sudo().charge_ids.filtered(lambda c: c.state == "pending")
        if pending:
            pending.state = "to_book" if comm.policy_id.charge_mode == "book" else "shown"

    # ------------------------------------------------------------------ booking
    @api.model
    def _dunning_book(self):
        """One customer invoice per customer, company and currency for the charges sent and
        not yet booked (at the end of a run; left-overs of an interrupted run are booked by
        the next). Each line names the invoice and the period it charges."""
        todo = self.sudo().search([("state", "=", "to_book")], order="id")
        # pending rows of messages that will not leave any more are dropped
        self.sudo().search([("state", "=", "pending"), ("date_to", "<", fields.Date.today()),
                            ("communication_id.state", "in", ("failed", "cancelled"))]).unlink()
        fee_moves = self.env["account.move"]
        groups = todo.grouped(lambda c: (c.company_id, c.partner_id, c.currency_id))
        for (company, partner, currency), charges in groups.items():
            try:
                with self.env.cr.savepoint():
                    fee_moves |= charges._dunning_book_invoice(company, partner, currency)
            except Exception as exc:  # noqa: BLE001 - recorded, the others are booked
                _logger.info("Dunning charges of %s could not be booked: %s",
                             partner.display_name, exc)
                for comm in charges.communication_id:
                    comm.activity_schedule(
                        "mail.mail_activity_data_todo",
                        user_id=partner._dunning_responsible_user(company).id,
                        summary=self.env._("Late payment charges not booked"),
                        note=self.env._("The charges stated in %(name)s could not be invoiced: "
                                        "%(error)s", name=comm.name, error=exc))
        return fee_moves

    def _dunning_book_invoice(self, company, partner, currency):
        """Create and post the fee invoice of these charges (one customer, company, currency)."""
        journal = company.dunning_charge_journal_id or self.env["account.journal"].search([
            *self.env["account.journal"]._check_company_domain(company),
            ("type", "=", "sale")], limit=1)
        if not journal:
            raise UserError(self.env._("No sales journal to book late payment charges in %s.",
                                       company.name))
        products = {
            "interest": company.dunning_interest_product_id
            or self.env.ref("dunning_chain.product_late_interest", raise_if_not_found=False),
        }
        other = (company.dunning_compensation_product_id
                 or self.env.ref("dunning_chain.product_recovery_costs", raise_if_not_found=False))
        lang = partner.lang or self.env.lang
        labels = dict(self.with_context(lang=lang)._fields["kind"]._description_selection(
            self.with_context(lang=lang).env))
        lines = []
        for charge in self.sorted(lambda c: (c.move_id.name or "", c.kind)):
            product = products.get(charge.kind) or other
            label = self.with_context(lang=lang).env._(
                "%(kind)s on %(invoice)s, %(start)s to %(end)s: %(formula)s",
                kind=labels[charge.kind], invoice=charge.move_id.name,
                start=charge.date_from, end=charge.date_to, formula=charge.formula or "")
            lines.append(fields.Command.create({
                "product_id": product.id if product else False,
                "name": label, "quantity": 1, "price_unit": charge.amount,
                "tax_ids": [fields.Command.clear()],
            }))
        fee = self.env["account.move"].sudo().with_company(company).create({
            "move_type": "out_invoice", "partner_id": partner.id, "company_id": company.id,
            "journal_id": journal.id, "currency_id": currency.id,
            "invoice_date": fields.Date.context_today(self),
            "invoice_origin": ", ".join(self.communication_id.mapped("name")),
            "dunning_is_fee_invoice": True,
        })
        # lines once the currency is set: amounts are in the charges' currency
        fee.invoice_line_ids = lines
        # the lines were created in the charges' order
        for charge, aml in zip(self.sorted(lambda c: (c.move_id.name or "", c.kind)),
                               fee.invoice_line_ids.sorted("sequence")):
            charge.write({"state": "booked", "fee_move_id": fee.id, "fee_line_id": aml.id})
        fee.action_post()
        fee.message_post(body=Markup("<p>%s</p>") % self.env._(
            "Late payment charges on %(invoices)s, stated in %(messages)s.",
            invoices=", ".join(self.move_id.mapped("name")),
            messages=", ".join(self.communication_id.mapped("name"))),
            subtype_xmlid="mail.mt_note")
        for move in self.move_id:
            move.message_post(body=Markup("<p>%s</p>") % self.env._(
                "Late payment charges booked on %s.", fee.name), subtype_xmlid="mail.mt_note")
        return fee

    # ------------------------------------------------------------------ waiving
    def _dunning_waive(self, reason):
        """Give these charges up: a booked one is reversed by a credit note of its lines,
        reconciled with the fee invoice; the others are simply not charged. Logged with the
        reason on the invoices charged and the fee invoice."""
        if not reason or not reason.strip():
            raise UserError(self.env._("Say why the charges are waived."))
        charges = self.filtered(lambda c: c.state != "waived")
        if not charges:
            raise UserError(self.env._("These charges were already waived."))
        values = {"state": "waived", "waive_reason": reason, "waived_by_id": self.env.uid}
        for fee, booked in charges.filtered(lambda c: c.state == "booked").grouped(
                "fee_move_id").items():
            refund = booked._dunning_credit_note(fee, reason)
            booked.sudo().write(dict(values, waive_move_id=refund.id))
        (charges.filtered(lambda c: c.state != "booked")).sudo().write(values)
        note = Markup("<p>%s</p>") % self.env._(
            "Late payment charges waived (%(amount)s): %(reason)s",
            amount=", ".join(formatLang(self.env, c.amount, currency_obj=c.currency_id)
                             for c in charges), reason=reason)
        for move in (charges.move_id | charges.fee_move_id).sudo():
            move.message_post(body=note, subtype_xmlid="mail.mt_note")
        return True

    def _dunning_credit_note(self, fee, reason):
        """A posted credit note reversing these booked charges' lines of ``fee``."""
        refund = self.env["account.move"].sudo().with_company(fee.company_id).create({
            "move_type": "out_refund", "partner_id": fee.partner_id.id,
            "company_id": fee.company_id.id, "journal_id": fee.journal_id.id,
            "currency_id": fee.currency_id.id,
            "invoice_date": fields.Date.context_today(self),
            "reversed_entry_id": fee.id,
            "ref": self.env._("Waived: %s", reason),
            "dunning_is_fee_invoice": True,
        })
        refund.invoice_line_ids = [fields.Command.create({
                "product_id": charge.fee_line_id.product_id.id,
                "account_id": charge.fee_line_id.account_id.id,
                "name": charge.fee_line_id.name, "quantity": 1, "price_unit": charge.amount,
                "tax_ids": [fields.Command.clear()],
            }) for charge in self]
        refund.action_post()
        receivable = (fee | refund).line_ids.filtered(
            lambda ln: ln.account_id.account_type == "asset_receivable" and not ln.reconciled)
        if fee.state == "posted" and len(receivable.move_id) == 2:
            receivable.reconcile()
        return refund

    @api.model
    def _dunning_waive_of(self, records):
        """The charges that can be waived from a record: an invoice (its charges, or the ones
        its fee invoice books), a communication, a customer."""
        if records._name == "account.move":
            domain = ["|", ("move_id", "in", records.ids), ("fee_move_id", "in", records.ids)]
        elif records._name == "dunning.communication":
            domain = [("communication_ids", "in", records.ids)]
        else:
            domain = [("partner_id", "in", records.commercial_partner_id.ids)]
        return self.search(domain + [("state", "not in", ("waived", "shown"))])
