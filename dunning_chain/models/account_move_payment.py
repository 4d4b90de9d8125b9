"""The payment journey of an invoice: an online payment that failed, one received, one
returned after the chain had found the invoice paid (reactions called by dunning_portal's
transaction hook and by the run; the planner's side is in dunning_plan_journey.py)."""
from odoo import fields, models

from .account_move import END_OF_EPISODE

RETURNED_ACTIVITY = "mail.mail_activity_data_todo"


class AccountMove(models.Model):
    _inherit = "account.move"

    def _dunning_on_payment_failed(self, reason, transaction=None):
        """An online payment of these invoices did not go through (called by dunning_portal's
        transaction hook: error or cancelled). Those the chain may remind now start a
        failed-payment episode: the company's failed-payment policy follows them from this
        moment (its first step, "the payment did not go through", at once in the send window;
        a retry reminder after some days), then they rejoin their chain where they stood.
        A failure during an episode only updates the reason. Every invoice gets a note.
        Returns the invoices whose episode started now."""
        reason = (reason or "").strip()[:500]
        now = fields.Datetime.now()
        started = ongoing = self.browse()
        for move in self.filtered(lambda m: m._dunning_is_open()):
            if move.dunning_payment_failed_at:
                ongoing |= move
            elif (not move._dunning_blocked_reason()
                  and move.company_id._dunning_failed_policy()
                  and not move.commercial_partner_id.with_company(
                      move.company_id).dunning_excluded):
                started |= move
        started._dunning_set_state(dunning_payment_failed_at=now,
                                   dunning_payment_failed_reason=reason or None,
                                   dunning_payment_failed_level_id=None,
                                   dunning_payment_retried_at=None)
        if started:
            # their chain waits for the failed-payment steps: out of its planned messages
            planned = self.env["dunning.communication"].sudo().search([
                ("line_ids.move_id", "in", started.ids), ("kind", "=", "reminder"),
                ("state", "in", ("to_review", "scheduled")), ("policy_id.kind", "=", "overdue"),
                ("level_id.count_from", "=", "due")])
            started._dunning_withdraw_planned(planned, reason=self.env._(
                "online payment did not go through: the failed-payment steps come first"))
        if reason:
            ongoing._dunning_set_state(dunning_payment_failed_reason=reason)
        what = transaction.reference if transaction else self.env._("an online payment")
        for move in self:
            if move in started:
                then = self.env._("the failed-payment steps follow (%s).",
                                  move.company_id._dunning_failed_policy().name)
            elif move in ongoing:
                then = self.env._("the failed-payment steps already under way go on.")
            else:
                then = self.env._("nothing is sent for it (%s).",
                                  move._dunning_blocked_reason() or self.env._("not followed"))
            move._message_log(body=self.env._(
                "Online payment %(tx)s did not go through%(why)s: %(then)s", tx=what,
                why=f" ({reason})" if reason else "", then=then))
        if started:
            # the run plans the notice at once (then sends it when the window allows)
            cron = self.env.ref("dunning_chain.ir_cron_dunning_run", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()
        return started

    def _dunning_on_payment_received(self, transaction=None):
        """A payment of these invoices went through (an online transaction done): a
        failed-payment episode ends (the run thanks the customer once the invoice is paid)."""
        in_episode = self.filtered("dunning_payment_failed_at")
        in_episode._dunning_set_state(**END_OF_EPISODE)
        for move in in_episode:
            move._message_log(body=self.env._(
                "Payment %s went through: the failed-payment steps stop.",
                transaction.reference if transaction else ""))
        return in_episode

    def _dunning_on_payment_returned(self):
        """A payment of these invoices came back after they were found paid (a returned SEPA
        direct debit, a charge-back: the payment's entry reversed or unreconciled). They go
        back to the level they had when paid; the customer is told, the message referring to
        the thank-you they received for it, if any; the collector gets an activity. Returns
        the returned-payment messages planned."""
        returned = self.browse(self.env["dunning.move.state"]._dunning_unpark(self.ids))
        returned.invalidate_recordset(["dunning_level_id", "dunning_due_date", "dunning_paid_at"])
        if not returned:
            return self.env["dunning.communication"]
        # a thank-you not sent yet would now say the opposite of the truth
        Line = self.env["dunning.communication.line"].sudo()
        thanks = Line.search([("move_id", "in", returned.ids),
                              ("communication_id.state", "in", ("to_review", "scheduled")),
                              ("communication_id.kind", "=", "thanks")])
        for comm, lines in thanks.grouped("communication_id").items():
            lines.unlink()
            if not comm.line_ids:
                comm._dunning_sys_write({"state": "cancelled", "failure_reason": self.env._(
                    "The payment came back before the thank-you left.")})
        for move in returned:
            thanked = move.dunning_thanked_on
            note = self.env._(
                "The payment of this invoice came back (returned or charged back): it is unpaid "
                "again and back at level %(level)s. %(thanks)s", level=move.dunning_level_id.name,
                thanks=self.env._("The customer was thanked for it on %s: the message says it "
                                  "was returned.", thanked) if thanked else "")
            move._message_log(body=note)
            move.activity_schedule(
                RETURNED_ACTIVITY, user_id=move._dunning_responsible().id,
                summary=self.env._("Payment returned: %s", move.name), note=note)
        return self.env["dunning.plan"]._dunning_plan_returned(returned)
