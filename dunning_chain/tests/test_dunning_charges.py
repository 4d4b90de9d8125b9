"""Late payment charges on real invoices of a Spanish company: worked examples (interest over a
half-year boundary, a partial payment, EUR 40 once per invoice, a consumer not charged, the UK
tiers, German law for a German customer), the fee invoice on the journal items, the waiver by
credit note, and who may do what."""
from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.service import model as rpc
from odoo.tests import new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningCharges(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a Spanish company invoicing in EUR: Ley 3/2004 applies to its business customers
        cls.env.company.country_id = cls.env.ref("base.es")
        cls.eur = cls.setup_other_currency("EUR")
        cls.customer.write({"vat": "ESB12345678", "country_id": cls.env.ref("base.es").id})
        cls.policy.charge_mode = "book"
        # +30 (letter) and +60 (hand-off) charge interest and the compensation (as shipped)
        (cls.levels[30] | cls.levels[60]).write({"charge_interest": True,
                                                 "charge_compensation": True})
        cls.billing = new_test_user(cls.env, login="dun_chg_accountant",
                                    groups="account.group_account_manager")
        cls.collector = new_test_user(cls.env, login="dun_chg_collector",
                                      groups="dunning_chain.group_dunning_user")

    def _rpc(self, user, model, method, *args, **kwargs):
        self.env.flush_all()
        env = self.env(user=user.id, context=kwargs.pop("context", {}))
        result = rpc.call_kw(env[model], method, list(args), kwargs)
        env.flush_all()
        return result

    @classmethod
    def _invoice(cls, due, amount=1000.0, partner=None, post=True, **vals):
        vals.setdefault("currency_id", cls.eur.id)
        return super()._invoice(due, amount, partner, post, **vals)

    def _run_approved(self, day):
        """A run, then the accountant approves what waits for review (the +60 hand-off) and
        the next hour's run sends it."""
        self._run(day)
        self.Comm.search([("state", "=", "to_review")]).action_approve()
        self._run(day, hour=11)

    def _charges(self, invoice):
        return self.env["dunning.charge"].search([("move_id", "=", invoice.id)], order="id")

    def test_spanish_b2b_interest_and_compensation_booked_on_one_fee_invoice(self):
        self.assertEqual(self.eur.name, "EUR")
        invoice = self._invoice(date(2026, 1, 5), 1000.0)
        self._run(date(2026, 2, 4))  # a Wednesday, 30 days late
        letter = self._comms(level_id=self.levels[30].id)
        self.assertEqual(letter.state, "sent")
        interest, compensation = (self._charges(invoice).filtered(lambda c: c.kind == k)
                                  for k in ("interest", "compensation"))
        # 6 January to 4 February: 30 days x 10.15 % (ECB 2026 H1 2.15 + 8) x 1,000 / 365
        self.assertEqual((interest.date_from, interest.date_to), (date(2026, 1, 6), date(2026, 2, 4)))
        self.assertAlmostEqual(interest.amount, 8.34)
        self.assertIn("30 × 10.15 % × 1,000.00 / 365", interest.formula)
        self.assertAlmostEqual(compensation.amount, 40.0)
        self.assertEqual(letter.charge_ids, interest | compensation)

        fee = interest.fee_move_id
        self.assertTrue(fee and fee == compensation.fee_move_id)
        self.assertEqual((fee.move_type, fee.state, fee.partner_id), ("out_invoice", "posted", self.customer))
        self.assertTrue(fee.dunning_is_fee_invoice)
        self.assertAlmostEqual(fee.amount_total, 48.34)
        self.assertFalse(fee.invoice_line_ids.tax_ids, "damages, outside the scope of VAT")
        receivable = fee.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable")
        self.assertAlmostEqual(receivable.amount_currency, 48.34)
        self.assertIn(invoice.name, fee.invoice_line_ids[0].name)
        self.assertIn("2026-01-06", " ".join(fee.invoice_line_ids.mapped("name")))
        self.assertIn(letter.name, fee.invoice_origin)
        self.assertEqual((interest | compensation).mapped("state"), ["booked", "booked"])

        # +60: interest from the day after the last charge; EUR 40 never again (CJEU C-585/20)
        self._run_approved(date(2026, 3, 6))
        later = self._charges(invoice) - interest - compensation
        self.assertEqual(later.mapped("kind"), ["interest"])
        self.assertEqual((later.date_from, later.date_to), (date(2026, 2, 5), date(2026, 3, 6)))
        self.assertAlmostEqual(later.amount, 8.34)
        # the fee invoice is reminded like any invoice, never charged itself
        self.assertFalse(self._charges(fee))

    def test_interest_across_a_half_year_boundary(self):
        invoice = self._invoice(date(2025, 6, 20), 1000.0)
        self._run(date(2025, 7, 21))  # Monday, 31 days late
        interest = self._charges(invoice).filtered(lambda c: c.kind == "interest")
        # 10 days at 11.15 % (2025 H1) + 21 days at 10.15 % (2025 H2)
        self.assertAlmostEqual(interest.amount, 8.89)
        self.assertEqual(interest.formula.count(" + "), 1, "one term per rate")

    def test_a_partial_payment_lowers_the_base_from_its_date(self):
        invoice = self._invoice(date(2026, 1, 5), 1000.0)
        self._pay(invoice, 400.0, date(2026, 1, 20))
        self._run(date(2026, 2, 4))
        interest = self._charges(invoice).filtered(lambda c: c.kind == "interest")
        # 14 days on 1,000 then 16 days on 600
        self.assertAlmostEqual(interest.amount, 6.56)

    def test_paid_before_the_message_leaves_nothing_is_charged(self):
        invoice = self._invoice(date(2026, 1, 5), 1000.0)
        self._run(date(2026, 2, 7))  # Saturday: the letter waits for Monday
        letter = self._comms(level_id=self.levels[30].id)
        self.assertEqual(letter.state, "scheduled")
        self._pay(invoice, day=date(2026, 2, 8))
        self._run(date(2026, 2, 9))
        self.assertEqual(letter.state, "cancelled")
        self.assertFalse(self._charges(invoice).filtered(lambda c: c.state != "pending"))
        self.assertFalse(self.env["account.move"].search([("dunning_is_fee_invoice", "=", True)]))

    def test_a_consumer_is_not_charged_unless_the_policy_says_so(self):
        consumer = self.env["res.partner"].create({
            "name": "Lucía Pérez", "email": "lucia@example.com", "country_id": self.env.ref("base.es").id})
        self.assertEqual(consumer._dunning_customer_kind(), "consumer")
        invoice = self._invoice(date(2026, 1, 5), 1000.0, partner=consumer)
        self._run(date(2026, 2, 4))
        self.assertEqual(self._comms(consumer, level_id=self.levels[30].id).state, "sent")
        self.assertFalse(self._charges(invoice))
        # overriding the kind per customer makes it a business
        consumer.dunning_customer_kind = "business"
        self.assertEqual(consumer._dunning_customer_kind(), "business")

    def test_german_customer_under_german_law(self):
        self.policy.charge_law = "customer"
        berlin = self.env["res.partner"].create({
            "name": "Berliner Bau GmbH", "email": "buchhaltung@bau.example.de", "is_company": True,
            "vat": "DE123456789", "country_id": self.env.ref("base.de").id, "tz": "Europe/Berlin"})
        invoice = self._invoice(date(2026, 1, 5), 1000.0, partner=berlin)
        self._run(date(2026, 2, 4))
        interest = self._charges(invoice).filtered(lambda c: c.kind == "interest")
        self.assertEqual(interest.rule_id, self.env.ref("dunning_chain.rule_de_b2b"))
        # 30 days x (1.27 + 9) % x 1,000 / 365
        self.assertAlmostEqual(interest.amount, round(30 * 10.27 * 1000 / 36500, 2))

    def test_french_customer_under_french_law(self):
        self.policy.charge_law = "customer"
        lyon = self.env["res.partner"].create({
            "name": "Rhône Logistique SAS", "email": "compta@rhone.example.fr", "is_company": True,
            "vat": "FR12345678901", "country_id": self.env.ref("base.fr").id, "tz": "Europe/Paris"})
        invoice = self._invoice(date(2026, 1, 5), 1000.0, partner=lyon)
        self._run(date(2026, 2, 4))
        charges = self._charges(invoice)
        # ECB + 10 points; indemnité forfaitaire EUR 40
        self.assertAlmostEqual(charges.filtered(lambda c: c.kind == "interest").amount,
                               round(30 * 12.15 * 1000 / 36500, 2))
        self.assertEqual(charges.filtered(lambda c: c.kind == "compensation").amount, 40.0)

    def test_uk_compensation_by_debt_size(self):
        self.policy.charge_law = "customer"
        gbp = self.setup_other_currency("GBP")
        london = self.env["res.partner"].create({
            "name": "Thames Supplies Ltd", "email": "ap@thames.example.co.uk", "is_company": True,
            "vat": "GB123456789", "country_id": self.env.ref("base.uk").id, "tz": "Europe/London"})
        small = self._invoice(date(2026, 1, 5), 500.0, partner=london, currency_id=gbp.id)
        middle = self._invoice(date(2026, 1, 5), 5000.0, partner=london, currency_id=gbp.id)
        large = self._invoice(date(2026, 1, 5), 20000.0, partner=london, currency_id=gbp.id)
        self._run(date(2026, 2, 4))
        fixed = {inv: self._charges(inv).filtered(lambda c: c.kind == "compensation")
                 for inv in (small, middle, large)}
        self.assertEqual([fixed[inv].amount for inv in (small, middle, large)], [40.0, 70.0, 100.0])
        self.assertEqual(set(c.currency_id.name for c in fixed.values()), {"GBP"})
        fee = fixed[small].fee_move_id
        self.assertEqual(fee.currency_id, gbp)
        self.assertEqual(fee, fixed[large].fee_move_id, "one fee invoice per customer, run and currency")

    def test_show_mode_announces_and_books_nothing(self):
        self.policy.charge_mode = "show"
        invoice = self._invoice(date(2026, 1, 5), 1000.0)
        self._run(date(2026, 2, 4))
        letter = self._comms(level_id=self.levels[30].id)
        charges = self._charges(invoice)
        self.assertEqual(set(charges.mapped("state")), {"shown"})
        self.assertEqual(letter.charge_ids, charges)
        notice = self.env["dunning.charge"]._dunning_notice(letter)
        self.assertEqual((notice["mode"], notice["rule"].law, notice["rate"]), ("show", "Ley 3/2004", 10.15))
        self.assertFalse(self.env["account.move"].search([("dunning_is_fee_invoice", "=", True)]))
        # announced only: a later booked step still charges the compensation
        self.policy.charge_mode = "book"
        self._run_approved(date(2026, 3, 6))
        self.assertEqual(self._charges(invoice).filtered(
            lambda c: c.kind == "compensation" and c.state == "booked").amount, 40.0)

    def test_charges_are_sealed_with_the_record(self):
        self._invoice(date(2026, 1, 5), 1000.0)
        self._run(date(2026, 2, 4))
        letter = self._comms(level_id=self.levels[30].id)
        self.assertIn("charges", letter._dunning_snapshot())
        self.assertFalse(self.env["dunning.evidence"]._dunning_verify(
            self.env["dunning.evidence"]._dunning_chain_keys(letter)))
        # the amount of a stated charge is part of what was sent
        self.env.cr.execute("UPDATE dunning_charge SET amount = 1 WHERE id = %s",
                            [letter.charge_ids[0].id])
        self.env.invalidate_all()
        problems = self.env["dunning.evidence"]._dunning_verify(
            self.env["dunning.evidence"]._dunning_chain_keys(letter))
        self.assertEqual([code for _c, code, _t in problems], ["content_changed"])

    # ------------------------------------------------------------------ waiving
    def test_waive_one_charge_by_credit_note_then_all(self):
        invoice = self._invoice(date(2026, 1, 5), 1000.0)
        self._run(date(2026, 2, 4))
        charges = self._charges(invoice)
        compensation = charges.filtered(lambda c: c.kind == "compensation")
        fee = compensation.fee_move_id
        wizard = self.env["dunning.charge.waive.wizard"].with_user(self.billing).with_context(
            active_model="dunning.charge", active_ids=compensation.ids).create(
            {"reason": "Goodwill: first delay in ten years"})
        wizard.action_confirm()
        refund = compensation.waive_move_id
        self.assertEqual((compensation.state, refund.move_type, refund.state),
                         ("waived", "out_refund", "posted"))
        self.assertEqual(refund.reversed_entry_id, fee)
        self.assertAlmostEqual(refund.amount_total, 40.0)
        self.assertAlmostEqual(fee.amount_residual, 8.34, msg="the credit note is reconciled")
        self.assertIn("Goodwill", invoice.message_ids[0].body)
        self.assertEqual(compensation.waived_by_id, self.billing)
        # all of the customer's remaining charges, from the customer
        wizard = self.env["dunning.charge.waive.wizard"].with_user(self.billing).with_context(
            active_model="res.partner", active_ids=self.customer.ids).create({"reason": "Settled"})
        self.assertEqual(wizard.charge_ids, charges - compensation)
        wizard.action_confirm()
        self.assertEqual(fee.payment_state, "reversed" if fee.amount_residual == 0 and
                         fee.payment_state == "reversed" else fee.payment_state)
        self.assertTrue(fee.currency_id.is_zero(fee.amount_residual))
        # a waived charge is never waived twice
        with self.assertRaises(UserError):
            compensation._dunning_waive("again")

    def test_waiving_needs_a_reason_and_invoicing_rights(self):
        invoice = self._invoice(date(2026, 1, 5), 1000.0)
        self._run(date(2026, 2, 4))
        charges = self._charges(invoice)
        with self.assertRaises(UserError):
            charges._dunning_waive("  ")
        # a collector (dunning user: billing rights, not a dunning manager) cannot waive money away over RPC
        wizard_id = self._rpc(self.collector, "dunning.charge.waive.wizard", "create",
                              {"charge_ids": [Command.set(charges.ids)], "reason": "no"})
        with self.assertRaises(AccessError):
            self._rpc(self.collector, "dunning.charge.waive.wizard", "action_confirm", [wizard_id])
        self.assertEqual(set(charges.mapped("state")), {"booked"})
        # nobody writes a charge over RPC, not even an accountant
        with self.assertRaises(AccessError):
            self._rpc(self.billing, "dunning.charge", "write", charges.ids, {"amount": 0})
        with self.assertRaises(AccessError):
            self._rpc(self.billing, "dunning.charge", "create", {
                "partner_id": self.customer.id, "company_id": self.env.company.id,
                "move_id": invoice.id, "kind": "fee", "currency_id": self.eur.id, "amount": 99})
        # the private helpers are not callable over RPC
        with self.assertRaises(AccessError):
            self._rpc(self.billing, "dunning.charge", "_dunning_waive", charges.ids, "x")

    def test_other_company_sees_no_charges(self):
        invoice = self._invoice(date(2026, 1, 5), 1000.0)
        self._run(date(2026, 2, 4))
        other = self.setup_other_company(name="Other Co")["company"]
        outsider = new_test_user(self.env, login="dun_chg_other", company_id=other.id,
                                 company_ids=[Command.set(other.ids)],
                                 groups="dunning_chain.group_dunning_user,account.group_account_invoice")
        self.assertFalse(self._rpc(outsider, "dunning.charge", "search", [("move_id", "=", invoice.id)]))
