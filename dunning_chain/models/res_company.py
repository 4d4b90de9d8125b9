from datetime import datetime, time, timedelta

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    dunning_policy_id = fields.Many2one(
        "dunning.policy", string="Default Dunning Policy",
        domain="[('company_id', 'in', (id, False)), ('kind', '=', 'overdue')]",
        help="The chain for customers that have no policy of their own.")
    dunning_failed_policy_id = fields.Many2one(
        "dunning.policy", string="Failed-Payment Policy",
        domain="[('company_id', 'in', (id, False)), ('kind', '=', 'failed_payment')]",
        help="What follows an online payment that did not go through (a notice at once, a "
             "retry reminder...), before the invoice rejoins its chain. Empty: the first "
             "failed-payment policy of the company.")
    dunning_auditor_email = fields.Char(
        string="Dunning Record Auditor",
        help="Every day the tips of the communication record's hash chains are signed, written "
             "to the file store and e-mailed to this address (an auditor, an accountant outside "
             "the company, a mailbox only they read): a record rewritten afterwards no longer "
             "matches what they keep.")

    dunning_charge_journal_id = fields.Many2one(
        "account.journal", string="Late Payment Charges Journal",
        domain="[('type', '=', 'sale'), ('company_id', 'in', parent_of_ids)]",
        help="Journal of the invoices that book late payment charges (default: the first sales "
             "journal).")
    dunning_interest_product_id = fields.Many2one(
        "product.product", string="Interest Product",
        help="Product of the interest lines (its income account is used).")
    dunning_compensation_product_id = fields.Many2one(
        "product.product", string="Recovery Costs Product",
        help="Product of the recovery compensation, fee and surcharge lines.")

    def _dunning_default_policy(self):
        self.ensure_one()
        policy = self.dunning_policy_id
        if policy and policy.active:
            return policy
        return self.env["dunning.policy"].search(
            [("company_id", "in", (self.id, False)), ("kind", "=", "overdue")],
            order="company_id, sequence, id", limit=1)

    def _dunning_failed_policy(self):
        """The failed-payment policy of the company (none: failures are only noted)."""
        self.ensure_one()
        policy = self.dunning_failed_policy_id
        if policy and policy.active:
            return policy
        return self.env["dunning.policy"].search(
            [("company_id", "in", (self.id, False)), ("kind", "=", "failed_payment")],
            order="company_id, sequence, id", limit=1)

    def _dunning_closed_days(self, date_from, date_to):
        """{date: name} of the company's closures: global leaves of its working calendar."""
        self.ensure_one()
        calendar = self.resource_calendar_id
        if not calendar:
            return {}
        leaves = self.env["resource.calendar.leaves"].sudo().search([
            ("resource_id", "=", False),
            ("calendar_id", "in", (calendar.id, False)),
            ("company_id", "in", (self.id, False)),
            ("date_to", ">=", datetime.combine(date_from, time.min)),
            ("date_from", "<=", datetime.combine(date_to, time.max)),
        ])
        closed = {}
        for leave in leaves:
            day = max(leave.date_from.date(), date_from)
            while day <= min(leave.date_to.date(), date_to):
                closed[day] = leave.name or self.env._("company closed")
                day += timedelta(days=1)
        return closed
