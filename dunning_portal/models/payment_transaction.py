from odoo import models

# What the customer started themselves (the payment form, a saved card at checkout); an
# 'offline' transaction is a charge of a saved payment method the company made (Retry the
# Charge, the automatic retry): its failure is recorded, it starts no episode of its own
CUSTOMER_OPERATIONS = ("online_redirect", "online_direct", "online_token")


class PaymentTransaction(models.Model):
    """Online payments of invoices tell the dunning chain what became of them: a failure or a
    cancellation starts the failed-payment steps of their invoices
    (``account.move._dunning_on_payment_failed``), a payment done ends them. Hooked on the
    state changes providers call (synchronous, whatever called them: the customer's return,
    a webhook, a poll, a charge by token)."""

    _inherit = "payment.transaction"

    def _set_error(self, state_message, extra_allowed_states=()):
        txs = super()._set_error(state_message, extra_allowed_states=extra_allowed_states)
        txs._dunning_on_not_paid()
        return txs

    def _set_canceled(self, state_message=None, extra_allowed_states=()):
        txs = super()._set_canceled(state_message=state_message,
                                    extra_allowed_states=extra_allowed_states)
        txs._dunning_on_not_paid()
        return txs

    def _set_done(self, *, state_message=None, extra_allowed_states=()):
        txs = super()._set_done(state_message=state_message,
                                extra_allowed_states=extra_allowed_states)
        for tx in txs:
            invoices = tx._dunning_invoices()
            if invoices:
                invoices._dunning_on_payment_received(tx)
                if tx.operation == "offline":
                    invoices._dunning_log_charge(tx)
        return txs

    def _dunning_invoices(self):
        """The posted customer invoices this payment was for."""
        self.ensure_one()
        if self.operation not in (*CUSTOMER_OPERATIONS, "offline") or self.amount <= 0:
            return self.env["account.move"]
        return self.sudo().invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted")

    def _dunning_on_not_paid(self):
        for tx in self:
            invoices = tx._dunning_invoices()
            if not invoices:
                continue
            if tx.operation == "offline":
                invoices._dunning_log_charge(tx)
                continue
            # why, when the provider says why
            invoices._dunning_on_payment_failed(tx.state_message or "", transaction=tx)
