from odoo import api, models


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    def _dunning_customer_url(self):
        """Every reminder links to the customer's signed dunning page (no login needed) for the
        communication's company: the page shows that company's invoices, plans and messages
        only. Called when the communication is sent (customer_url keeps it). The link names
        the communication (signed with it): what the customer does from it is logged for this
        message (dunning.engagement)."""
        self.ensure_one()
        return self.partner_id.commercial_partner_id._dunning_portal_url(
            self.company_id, communication=self)


class DunningPlan(models.AbstractModel):
    _inherit = "dunning.plan"

    @api.model
    def _dunning_follow_commitments(self, today, companies):
        """Approved payment plans are followed before planning (a missed instalment reminds
        at once)."""
        super()._dunning_follow_commitments(today, companies)
        self.env["dunning.instalment.plan"]._dunning_follow(today, companies)

    @api.model
    def _dunning_at_retry_step(self, plans):
        """At the retry step of a failed-payment policy that allows it, the customer's saved
        payment method is charged once per episode before the reminder is planned: an invoice
        whose charge is under way or went through leaves the plan (the reminder goes only if
        the charge failed at once; a charge still pending leaves it to the next run)."""
        kept = []
        for plan in super()._dunning_at_retry_step(plans):
            policy = plan.policy
            if (policy.kind != "failed_payment" or not policy.auto_retry_charge
                    or plan.level != policy._dunning_retry_level()):
                kept.append(plan)
                continue
            Move = self.env["account.move"]
            entries = [entry for entry in plan.entries
                       if not Move.browse(entry.candidate.move_id)._dunning_auto_retry()]
            if entries:
                kept.append(plan._replace(entries=entries))
        return kept
