from datetime import date, timedelta

from odoo import fields
from odoo.tests import freeze_time

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class DunningCommon(AccountTestInvoicingCommon):
    """Real invoices of a real company, the shipped default chain, simulated time."""

    START = date(2026, 3, 2)  # a Monday

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Comm = cls.env["dunning.communication"]
        cls.policy = cls.env.ref("dunning_chain.policy_default")
        cls.levels = {lvl.offset_days: lvl for lvl in cls.policy._levels_by_offset()}
        cls.customer = cls.env["res.partner"].create({
            "name": "Alcalá Construcciones", "email": "pagos@alcala.example.com",
            "is_company": True, "lang": "en_US", "tz": "Europe/Madrid",
        })
        cls.customer2 = cls.env["res.partner"].create({
            "name": "Hudson Retail", "email": "ap@hudson.example.com", "is_company": True,
        })
        cls.env.company.dunning_policy_id = cls.policy
        # The chain tests run at 10:00 UTC on weekdays; the Tuesday-Thursday preference is
        # switched off here and tested on its own (test_dunning_send_window).
        cls.policy.preference_delay_days = 0

    @classmethod
    def _invoice(cls, due, amount=1000.0, partner=None, post=True, **vals):
        invoice = cls._create_invoice_one_line(
            price_unit=amount, partner_id=(partner or cls.customer).id,
            invoice_date=due - timedelta(days=30), tax_ids=[],
            invoice_payment_term_id=False, **vals)
        invoice.invoice_date_due = due
        if post:
            invoice.action_post()
        return invoice

    def _run(self, day, hour=10):
        """The hourly run, as the cron runs it (without its commits), at a given day. Returns
        the communications it planned."""
        with freeze_time(f"{day.isoformat()} {hour:02d}:00:00"):
            return self.env["dunning.send"]._dunning_run().with_env(self.env)

    def _comms(self, partner=None, **domain):
        dom = [("partner_id", "=", (partner or self.customer).id)]
        dom += [(k, "=", v) for k, v in domain.items()]
        return self.Comm.search(dom, order="id")

    def _pay(self, invoice, amount=None, day=None):
        vals = {"payment_date": day or fields.Date.today()}
        if amount:
            vals["amount"] = amount
        return self._register_payment(invoice, **vals)
