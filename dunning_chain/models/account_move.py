from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


DISPUTE_ACTIVITY = "dunning_chain.mail_activity_type_dispute"
# An invoice the chain follows: a posted customer invoice in one of these payment states
OPEN_PAYMENT_STATES = ("not_paid", "partial")
# Changes after which an invoice may have to leave the messages planned for it
WITHDRAW_TRIGGERS = {"dunning_excluded", "dunning_dispute_state", "dunning_promise_state",
                     "dunning_paused_until"}
# A failed-payment episode is over (paid, or its last step is behind it)
END_OF_EPISODE = {"dunning_payment_failed_at": None, "dunning_payment_failed_reason": None,
                  "dunning_payment_failed_level_id": None, "dunning_payment_retried_at": None}


class AccountMove(models.Model):
    _inherit = "account.move"

    # where the invoice stands in the chain: kept in dunning.move.state (see there)
    dunning_level_id = fields.Many2one(
        "dunning.level", string="Dunning Level", compute="_compute_dunning_state",
        search="_search_dunning_level_id",
        help="The last level of the chain reached by this invoice.")
    dunning_due_date = fields.Date(
        compute="_compute_dunning_state",
        help="Due date (oldest unpaid instalment) for which the level was reached; when an "
             "instalment is paid the chain starts over for the next one.")
    dunning_last_date = fields.Datetime(string="Last Reminder", compute="_compute_dunning_state")
    dunning_remind_reason = fields.Char(
        string="Remind at Once", compute="_compute_dunning_state",
        help="A commitment of the customer was not kept (e.g. a missed instalment of an agreed "
             "payment plan): the next reminder goes at once, saying why.")
    dunning_payment_failed_at = fields.Datetime(
        string="Online Payment Failed On", compute="_compute_dunning_state",
        help="An online payment of this invoice did not go through: the company's "
             "failed-payment policy follows it from then (a notice at once, a retry reminder), "
             "then the invoice rejoins its chain where it stood. A payment ends it.")
    dunning_payment_failed_reason = fields.Char(
        string="Why It Failed", compute="_compute_dunning_state",
        help="What the payment provider said.")
    dunning_payment_failed_level_id = fields.Many2one(
        "dunning.level", string="Failed-Payment Step", compute="_compute_dunning_state",
        help="The last step of the failed-payment policy planned for this invoice.")
    dunning_payment_retried_at = fields.Datetime(
        string="Charge Retried On", compute="_compute_dunning_state",
        help="When the saved payment method was charged again automatically in this "
             "failed-payment episode (once per episode).")
    dunning_paid_at = fields.Datetime(
        string="Paid (Chain Left)", compute="_compute_dunning_state",
        help="When the run found this invoice paid by a payment and took it out of the chain; "
             "should the payment come back (a returned direct debit, a charge-back), the "
             "invoice goes back to the level it had.")
    dunning_thanked_on = fields.Date(
        string="Thanked On", compute="_compute_dunning_thanked_on",
        help="The day (customer's time) the last 'payment received' message covering this "
             "invoice was sent.")
    dunning_excluded = fields.Boolean(
        string="Excluded from Dunning", copy=False, tracking=True,
        help="Never remind the customer of this invoice.")
    dunning_exclusion_reason = fields.Char(copy=False, tracking=True)
    dunning_promise_date = fields.Date(string="Promised Payment Date", copy=False, tracking=True)
    dunning_promise_state = fields.Selection(
        [("none", "No promise"), ("open", "Promised"), ("kept", "Kept"), ("broken", "Broken")],
        default="none", copy=False, tracking=True, string="Promise")
    dunning_dispute_state = fields.Selection(
        [("none", "No dispute"), ("open", "Disputed"), ("accepted", "Accepted"),
         ("rejected", "Rejected")],
        default="none", copy=False, tracking=True, string="Dispute")
    dunning_dispute_reason = fields.Text(copy=False)
    dunning_dispute_answer = fields.Text(
        string="Answer to the Dispute", copy=False, readonly=True,
        help="What the accountant answered the customer when accepting or rejecting the dispute.")
    dunning_paused_until = fields.Date(
        copy=False, tracking=True,
        help="No reminder for this invoice until after this date (e.g. a promise to pay).")
    dunning_communication_line_ids = fields.One2many(
        "dunning.communication.line", "move_id", string="Dunning History")
    dunning_communication_count = fields.Integer(compute="_compute_dunning_communication_count")
    dunning_charge_ids = fields.One2many("dunning.charge", "move_id",
                                         string="Late Payment Charges")
    dunning_is_fee_invoice = fields.Boolean(
        string="Late Payment Charges Invoice", copy=False, readonly=True,
        help="Books late payment charges: reminded like any invoice, never charged itself.")
    dunning_fee_charge_ids = fields.One2many("dunning.charge", "fee_move_id",
                                             string="Charges Booked")

    _dunning_open_idx = models.Index(
        "(company_id, commercial_partner_id) WHERE state = 'posted' "
        "AND move_type = 'out_invoice' AND payment_state IN ('not_paid', 'partial')")

    @api.model
    def _dunning_open_domain(self, partner=None):
        """The invoices the chain follows (of a commercial partner), as a domain."""
        domain = [("state", "=", "posted"), ("move_type", "=", "out_invoice"),
                  ("payment_state", "in", OPEN_PAYMENT_STATES)]
        if partner:
            domain.append(("commercial_partner_id", "=", partner.id))
        return domain

    def _dunning_is_open(self):
        """Whether the chain follows this invoice (see _dunning_open_domain)."""
        self.ensure_one()
        return (self.state == "posted" and self.move_type == "out_invoice"
                and self.payment_state in OPEN_PAYMENT_STATES)

    def _compute_dunning_state(self):
        ids = [move_id for move_id in self._origin.ids if move_id]
        rows = {}
        if ids:
            self.env.cr.execute(SQL(
                """SELECT move_id, level_id, due_date, last_date, remind_reason,
                          payment_failed_at, payment_failed_reason, payment_failed_level_id,
                          paid_at, payment_retried_at
                     FROM dunning_move_state WHERE move_id = ANY(%s)""", ids))
            rows = {row[0]: row for row in self.env.cr.fetchall()}
        Level = self.env["dunning.level"]
        for move in self:
            row = rows.get(move._origin.id) or (None, None, False, False, False, False, False,
                                                None, False, False)
            move.dunning_level_id = Level.browse(row[1])
            move.dunning_due_date = row[2]
            move.dunning_last_date = row[3]
            move.dunning_remind_reason = row[4]
            move.dunning_payment_failed_at = row[5]
            move.dunning_payment_failed_reason = row[6]
            move.dunning_payment_failed_level_id = Level.browse(row[7])
            move.dunning_paid_at = row[8]
            move.dunning_payment_retried_at = row[9]

    def _compute_dunning_thanked_on(self):
        lines = self.env["dunning.communication.line"].sudo().search([
            ("move_id", "in", [move_id for move_id in self._origin.ids if move_id]),
            ("communication_id.kind", "=", "thanks"),
            ("communication_id.state", "=", "sent")])
        last = {}
        for line in lines:
            comm = line.communication_id
            if line.move_id.id not in last or last[line.move_id.id].sent_at < comm.sent_at:
                last[line.move_id.id] = comm
        for move in self:
            comm = last.get(move._origin.id)
            move.dunning_thanked_on = comm and fields.Datetime.context_timestamp(
                comm.with_context(tz=comm.partner_tz or comm.partner_id.tz or "UTC"),
                comm.sent_at).date()

    def _search_dunning_level_id(self, operator, value):
        with_state = self.env["dunning.move.state"]._search([("level_id", operator, value)])
        domain = [("id", "in", with_state.subselect("move_id"))]
        # an invoice without a row has no level: it matches when "no level" does
        if self.env["dunning.move.state"].new({}).filtered_domain(
                [("level_id", operator, value)]):
            any_state = self.env["dunning.move.state"]._search([])
            domain = ["|", *domain, ("id", "not in", any_state.subselect("move_id"))]
        return domain

    @api.constrains("dunning_excluded", "dunning_exclusion_reason")
    def _check_dunning_exclusion_reason(self):
        for move in self:
            if move.dunning_excluded and not move.dunning_exclusion_reason:
                raise UserError(self.env._("Say why invoice %s is excluded from dunning.",
                                           move.display_name))

    def _compute_dunning_communication_count(self):
        counts = dict(self.env["dunning.communication.line"]._read_group(
            [("move_id", "in", self.ids)], ["move_id"], ["communication_id:count_distinct"]))
        for move in self:
            move.dunning_communication_count = counts.get(move, 0)

    def _dunning_customer_link(self):
        """Where the customer sees and settles this invoice (dunning_portal signs a link)."""
        self.ensure_one()
        return self.get_portal_url()

    def write(self, vals):
        result = super().write(vals)
        if WITHDRAW_TRIGGERS.intersection(vals):
            blocked = self.filtered(lambda m: m._dunning_blocked_reason())
            if blocked:
                blocked._dunning_withdraw_planned()
        return result

    # ------------------------------------------------------------------ reactions
    @api.model
    def _dunning_paid_in_chain(self):
        """Invoices of the chain paid (or reversed) since their last step; promises paid in
        time are marked kept on the way."""
        self.search([("dunning_promise_state", "=", "open"),
                     ("payment_state", "in", ("paid", "in_payment"))])._dunning_on_promise_kept()
        return self.search([("dunning_level_id", "!=", False),
                            ("payment_state", "in", ("paid", "in_payment", "reversed"))])

    def _dunning_on_paid(self):
        """Paid invoices leave the chain (a later unpaid instalment starts it over) and end any
        failed-payment episode. Those a payment settled keep where they stood aside
        (dunning.move.state._dunning_park): should the payment come back, they go back there
        (_dunning_on_payment_returned)."""
        by_payment = self.filtered(lambda m: m.payment_state in ("paid", "in_payment")
                                   and m._dunning_settled_by_payment())
        if by_payment:
            self.env["dunning.move.state"]._dunning_park(by_payment.ids, fields.Datetime.now())
        self._dunning_set_state(dunning_level_id=None, dunning_due_date=None,
                                **END_OF_EPISODE)
        self.invalidate_recordset(["dunning_paid_at"])

    def _dunning_settled_by_payment(self):
        """Whether a real payment settled this invoice: the last reconciliation that closed it
        is a payment or a bank statement line (or an unreconciled payment Odoo matched to it),
        not a credit note or a write-off (a miscellaneous entry)."""
        self.ensure_one()
        exchange = self.company_id.currency_exchange_journal_id
        partials = self.line_ids.filtered(lambda line: line.display_type == "payment_term")
        partials = (partials.matched_credit_ids | partials.matched_debit_ids).sorted("id")
        for partial in reversed(partials):
            counterpart = (partial.credit_move_id | partial.debit_move_id).move_id - self
            if not counterpart or counterpart.journal_id == exchange:
                continue
            return bool(counterpart.origin_payment_id or counterpart.statement_line_id)
        return bool(self.matched_payment_ids.filtered(
            lambda p: not p.move_id and p.state in ("in_process", "paid")))

    def _dunning_on_promise_kept(self):
        self.write({"dunning_promise_state": "kept", "dunning_paused_until": False})

    def _dunning_on_promise_broken(self):
        """The promised date passed unpaid: the next reminder (planned now) says so."""
        self.write({"dunning_promise_state": "broken"})

    def _dunning_pause_until(self, day):
        """No reminder for these invoices until after ``day`` (an agreed payment plan, the
        next instalment): a later pause already set stays. Planned messages are withdrawn."""
        for move in self:
            if not move.dunning_paused_until or move.dunning_paused_until < day:
                move.dunning_paused_until = day

    def _dunning_remind_at_once(self, reason):
        """A commitment was not kept (a missed instalment): the next step goes at once,
        saying why."""
        self._dunning_set_state(dunning_remind_reason=reason)

    def _dunning_blocked_reason(self):
        """Why this invoice may not be reminded now, in words, or an empty string."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        if self.dunning_excluded:
            return self.env._("excluded from dunning (%s)", self.dunning_exclusion_reason or "-")
        if self.payment_state == "blocked":
            return self.env._("payment blocked")
        if self.dunning_dispute_state == "open":
            return self.env._("disputed by the customer")
        if (self.dunning_promise_state == "open" and self.dunning_promise_date
                and self.dunning_promise_date >= today):
            return self.env._("payment promised for %s", self.dunning_promise_date)
        if self.dunning_paused_until and self.dunning_paused_until >= today:
            return self.env._("reminders paused until %s", self.dunning_paused_until)
        return ""

    def _dunning_withdraw_planned(self, comms=None, reason=None):
        """Take these invoices out of every planned, not yet sent reminder (or of ``comms``):
        their lines leave it, a message left with no invoice is cancelled with the reason,
        a debt summary goes out later without them. The invoices go back to the level they
        had before the step was planned, so that the chain resumes from there."""
        Line = self.env["dunning.communication.line"].sudo()
        lines = Line.search([("move_id", "in", self.ids),
                             ("communication_id.state", "in", ("to_review", "scheduled")),
                             ("communication_id.kind", "=", "reminder")])
        if comms is not None:
            lines = lines.filtered(lambda line: line.communication_id in comms)
        reasons = {move: reason or move._dunning_blocked_reason() for move in lines.move_id}
        withdrawn = lines.communication_id
        for comm, comm_lines in lines.grouped("communication_id").items():
            why = "; ".join(f"{move.name}: {reasons[move]}" for move in comm_lines.move_id)
            for line in comm_lines:
                if line.move_id.dunning_level_id == comm.level_id:
                    line.move_id._dunning_set_state(
                        dunning_level_id=line.previous_level_id.id or None)
            comm_lines.unlink()
            comm = comm.with_env(self.env).sudo()
            if not comm.line_ids:
                comm._dunning_sys_write({"state": "cancelled", "failure_reason": self.env._(
                    "Withdrawn before sending: %s", why)})
            else:
                comm._dunning_sys_write({"amount_total": sum(
                    comm.line_ids.mapped("amount_residual_company"))})
            comm.message_post(body=self.env._("Taken out of this message before sending: %s",
                                              why), subtype_xmlid="mail.mt_note")
        return withdrawn

    def _dunning_set_state(self, **values):
        """Record where invoices stand in the chain (level, due date, last reminder, reason to
        remind at once): one statement on the narrow dunning.move.state table, however many
        invoices (a run moves thousands)."""
        allowed = set(self.env["dunning.move.state"].COLUMNS)
        assert set(values) <= allowed, set(values) - allowed
        if not self or not values:
            return
        self.env["dunning.move.state"]._dunning_upsert(self.ids, values)
        self.invalidate_recordset(list(values))

    @api.model
    def _dunning_set_states(self, names, rows, writer=None):
        """Like _dunning_set_state, a value per invoice: ``rows`` of (invoice id, value of each
        of ``names``), in one statement (``writer``: a ``tools.bulk.BulkWriter`` writes it)."""
        allowed = set(self.env["dunning.move.state"].COLUMNS)
        assert set(names) <= allowed, set(names) - allowed
        if rows:
            moves = self.browse(row[0] for row in rows)
            self.env["dunning.move.state"]._dunning_upsert_rows(
                names, rows, writer=writer,
                after=lambda: moves.invalidate_recordset(list(names)))

    def action_dunning_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "dunning_chain.action_dunning_communication")
        action["domain"] = [("line_ids.move_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_dunning_promise(self):
        return self._dunning_open_pause_wizard("promise")

    def action_dunning_dispute(self):
        return self._dunning_open_pause_wizard("dispute")

    def _dunning_open_pause_wizard(self, kind):
        return {
            "type": "ir.actions.act_window",
            "res_model": "dunning.pause.wizard",
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Promise to pay") if kind == "promise" else self.env._("Dispute"),
            "context": {"default_move_ids": self.ids, "default_kind": kind},
        }

    def action_dunning_answer_dispute(self):
        """Accept or reject the dispute, with an answer for the customer (a wizard)."""
        return {
            "type": "ir.actions.act_window",
            "res_model": "dunning.dispute.wizard",
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Answer the Dispute"),
            "context": {"default_move_ids": self.ids,
                        "default_decision": self.env.context.get("dunning_decision", "reject")},
        }

    def _dunning_resolve_dispute(self, accept, answer, notify=True):
        """Close the open dispute of these invoices. Accepted: the invoice leaves the chain
        (a credit note usually follows); rejected: the reminders resume. The answer is recorded
        and, with ``notify``, e-mailed to the customer (it also shows on their page)."""
        answer = (answer or "").strip()
        if notify and not answer:
            raise UserError(self.env._("Write the answer the customer will receive."))
        moves = self.filtered(lambda m: m.dunning_dispute_state == "open")
        if not moves:
            raise UserError(self.env._("None of these invoices has an open dispute."))
        for move in moves:
            vals = {"dunning_dispute_state": "accepted" if accept else "rejected",
                    "dunning_dispute_answer": answer}
            if accept:
                vals.update(dunning_excluded=True,
                            dunning_exclusion_reason=self.env._("Dispute accepted"))
            move.write(vals)
            move.activity_ids.filtered(
                lambda a: a.activity_type_id == self.env.ref(DISPUTE_ACTIVITY)).action_feedback(
                feedback=answer or (self.env._("Accepted") if accept else self.env._("Rejected")))
            move._dunning_tell_dispute_answer(accept, answer, notify)
        return moves

    def _dunning_tell_dispute_answer(self, accept, answer, notify):
        self.ensure_one()
        if accept:
            status = self.env._("Dispute accepted: the reminders for this invoice stay stopped.")
        else:
            status = self.env._("Dispute rejected: the reminders resume.")
        if not notify:
            self.message_post(body=Markup("%s<br/>%s") % (status, answer) if answer else status)
            return
        recipient = self.partner_id if self.partner_id.email else self.commercial_partner_id
        if not recipient.email:
            self.message_post(body=Markup("%s<br/>%s<br/><b>%s</b>") % (
                status, answer, self.env._("The customer has no e-mail address: tell them "
                                           "by phone or by post.")))
            self.activity_schedule(
                "mail.mail_activity_data_call", user_id=self._dunning_responsible().id,
                summary=self.env._("Tell the customer the answer to their dispute"), note=answer)
            return
        if accept:
            intro = self.env._("We looked into your dispute about invoice %s and agree with you.",
                               self.name)
        else:
            intro = self.env._("We looked into your dispute about invoice %s and cannot accept "
                               "it: the invoice remains due.", self.name)
        body = Markup("<p>%s</p><p>%s</p>") % (intro, answer)
        link = self._dunning_customer_link()
        if link:
            body += Markup('<p><a href="%s">%s</a></p>') % (
                link, self.env._("See your invoices, pay or contact us"))
        self.message_post(
            body=body, subject=self.env._("Your dispute about invoice %s", self.name),
            partner_ids=recipient.ids, message_type="comment", subtype_xmlid="mail.mt_comment")
        self.message_post(body=status)

    def _dunning_responsible(self):
        """Who follows this invoice's collection (res.partner._dunning_responsible_user, the
        invoice's salesperson first)."""
        self.ensure_one()
        return self.commercial_partner_id._dunning_responsible_user(
            self.company_id, salesperson=self.invoice_user_id)

    def _dunning_promise(self, promise_date, note=""):
        """The customer promises to pay these invoices on a date (within the policy's
        maximum): they pause until then. Returns the chatter messages that say so."""
        today = fields.Date.context_today(self)
        messages = self.env["mail.message"]
        for move in self:
            partner = move.commercial_partner_id
            policy = partner._dunning_policy(move.company_id)
            max_days = policy.max_promise_days if policy else 30
            if promise_date < today:
                raise UserError(self.env._("A promised payment date cannot be in the past."))
            if promise_date > today + timedelta(days=max_days):
                raise UserError(self.env._(
                    "A promise can be at most %(days)s days ahead (until %(date)s).",
                    days=max_days, date=today + timedelta(days=max_days)))
            move.write({"dunning_promise_date": promise_date, "dunning_promise_state": "open",
                        "dunning_paused_until": promise_date})
            messages |= move.message_post(body=self.env._(
                "Payment promised for %(date)s. %(note)s", date=promise_date, note=note or ""))
        return messages

    def _dunning_dispute(self, reason):
        """The customer disputes these invoices: they pause, the responsible gets a task to
        resolve it. Returns the chatter messages that say so."""
        if not (reason or "").strip():
            raise UserError(self.env._("Say why the invoice is disputed."))
        messages = self.env["mail.message"]
        for move in self:
            move.write({"dunning_dispute_state": "open", "dunning_dispute_reason": reason})
            messages |= move.message_post(body=self.env._("Invoice disputed: %s", reason))
            move.activity_schedule(
                DISPUTE_ACTIVITY, user_id=move._dunning_responsible().id,
                summary=self.env._("Dispute to resolve"), note=reason)
        return messages
