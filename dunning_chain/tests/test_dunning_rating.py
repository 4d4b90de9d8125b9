"""The payer rating on real invoices, payments and reminders: on time gives A, paid after the
first reminder B, after a call C, disputes or a hand-off D; recomputed for the paying customer
only when an invoice is paid, for every customer at night; shown on the customer and in
Overdue by Customer."""
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.service import model as rpc
from odoo.tests import freeze_time, new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningRating(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rating = cls.env["dunning.payer.rating"]
        cls.customer.phone = "+34 910 000 001"

    def _pay_on(self, invoice, day):
        with freeze_time(f"{day.isoformat()} 12:00:00"):
            self._pay(invoice, day=day)

    def _row(self, partner=None):
        return self.Rating.search([("partner_id", "=", (partner or self.customer).id),
                                   ("company_id", "=", self.env.company.id)])

    def _late(self, offsets, pay_after):
        """An invoice due START, the steps of ``offsets`` sent, paid ``pay_after`` days late."""
        invoice = self._invoice(self.START)
        for offset in offsets:
            self._run(self.START + timedelta(days=offset))
        self._pay_on(invoice, self.START + timedelta(days=pay_after))
        return invoice

    def test_paid_on_time_is_a(self):
        invoice = self._invoice(self.START)
        self.assertFalse(self.customer.dunning_rating)
        self.assertIn("not rated", self.customer.dunning_rating_reason)
        self._run(self.START)  # the due-date notice is not a reminder
        self._pay_on(invoice, self.START + timedelta(days=1))
        row = self._row()
        self.assertEqual((row.rating, row.invoices_paid, row.on_time_share, row.avg_days_late),
                         ("A", 1, 1.0, 1.0))
        self.customer.invalidate_recordset(["dunning_rating"])
        self.assertEqual(self.customer.dunning_rating, "A")
        self.assertEqual(self.customer.dunning_rating_reason,
                         "100 % of the paid invoices paid on time")

    def test_paid_after_the_first_reminder_is_b(self):
        self._late((0, 7), pay_after=9)
        row = self._row()
        self.assertEqual((row.rating, row.after_first_share, row.after_later_share,
                          row.avg_days_late), ("B", 1.0, 0.0, 9.0))
        self.assertEqual(row.reason, "100 % paid after the first reminder, on average 9 days late")

    def test_paid_after_the_call_is_c_and_transitions(self):
        # first an invoice paid on time: A
        early = self._invoice(self.START - timedelta(days=20))
        self._pay_on(early, self.START - timedelta(days=20))
        self.assertEqual(self._row().rating, "A")
        # then one paid only after the +15 call: half the paid invoices needed a call
        self._late((0, 7, 15), pay_after=16)
        calls = self._comms(channel="call", state="sent")
        self.assertTrue(calls, "the call was made before the payment")
        row = self._row()
        self.assertEqual((row.rating, row.invoices_paid, row.on_time_share,
                          row.after_later_share), ("C", 2, 0.5, 0.5))
        self.assertEqual(row.reason, "50 % of the paid invoices needed a call or later steps")

    def test_disputes_are_d_and_a_hand_off_too(self):
        invoices = self._invoice(self.START) | self._invoice(self.START, amount=50.0)
        self._pay_on(self._invoice(self.START), self.START)
        with freeze_time(f"{self.START.isoformat()} 12:00:00"):
            invoices[0]._dunning_dispute("Goods damaged")
            self.assertEqual(self._row().rating, "A", "one dispute of three is not often")
            invoices[1]._dunning_dispute("Wrong quantity")
        row = self._row()
        self.assertEqual((row.rating, row.disputes, row.invoice_count), ("D", 2, 3))
        self.assertEqual(row.reason, "disputed 2 of 3 invoices in the last 12 months")
        # a hand-off to an agency: D whatever the payments (the nightly run sees it)
        agency = self.env["res.partner"].create({"name": "Recobros", "is_company": True})
        self.env["dunning.agency.case"].create({
            "partner_id": self.customer2.id, "agency_id": agency.id,
            "move_ids": [Command.set(self._invoice(self.START, partner=self.customer2).ids)]})
        self.Rating._cron_dunning_compute_ratings()
        self.assertEqual(self._row(self.customer2).rating, "D")

    def test_payment_recomputes_that_customer_only(self):
        mine = self._invoice(self.START)
        theirs = self._invoice(self.START, partner=self.customer2)
        self._pay_on(theirs, self.START)
        self.assertEqual(self._row(self.customer2).rating, "A")
        before = self._row(self.customer2).computed_at
        # the other customer's history changes behind the rating's back: two disputes
        self._invoice(self.START, partner=self.customer2).dunning_dispute_state = "open"
        self._invoice(self.START, partner=self.customer2).dunning_dispute_state = "rejected"
        with freeze_time(f"{(self.START + timedelta(days=1)).isoformat()} 12:00:00"):
            self._pay(mine, day=self.START)
        self.assertEqual(self._row().rating, "A")
        other = self._row(self.customer2)
        self.assertEqual((other.rating, other.computed_at), ("A", before),
                         "the other customer waits for the night")
        # the night recomputes everyone
        with freeze_time(f"{(self.START + timedelta(days=2)).isoformat()} 02:00:00"):
            self.Rating._cron_dunning_compute_ratings()
        self.assertEqual(self._row(self.customer2).rating, "D")

    def test_history_leaves_the_period_not_rated(self):
        self._pay_on(self._invoice(self.START), self.START)
        self.assertEqual(self._row().rating, "A")
        with freeze_time(f"{(self.START + timedelta(days=400)).isoformat()} 02:00:00"):
            self.Rating._cron_dunning_compute_ratings()
        row = self._row()
        self.assertEqual((row.rating, row.rule, row.invoices_paid), (False, "no_history", 0))

    def test_overdue_by_customer_shows_the_rating(self):
        self._late((0, 7, 15), pay_after=16)
        self._invoice(self.START + timedelta(days=20))  # still owed
        self.env.flush_all()
        Aging = self.env["dunning.aging"]
        row = Aging.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(row.rating, "C")
        self.assertEqual(Aging.search([("rating", "=", "C"),
                                       ("partner_id", "=", self.customer.id)]), row)
        groups = Aging._read_group([("partner_id", "=", self.customer.id)], ["rating"],
                                   ["__count"])
        self.assertEqual(groups, [("C", 1)])
        # the list and the search view offer the column, the filters and the grouping
        arch = Aging.get_views([(False, "list"), (False, "search")])["views"]
        self.assertIn('name="rating"', arch["list"]["arch"])
        self.assertIn('name="rating_d"', arch["search"]["arch"])
        self.assertIn('name="group_rating"', arch["search"]["arch"])

    def test_recompute_rights_over_rpc(self):
        self._pay_on(self._invoice(self.START), self.START)
        billing = new_test_user(self.env, login="rate_billing",
                                groups="account.group_account_invoice")
        portal = new_test_user(self.env, login="rate_portal", groups="base.group_portal")
        user = new_test_user(self.env, login="rate_user", groups="dunning_chain.group_dunning_user")
        for who in (billing, portal):
            env = self.env(user=who.id, context={})
            with self.assertRaises(AccessError, msg=who.login):
                rpc.call_kw(env["res.partner"], "action_dunning_compute_rating",
                            [self.customer.ids], {})
            with self.assertRaises(AccessError, msg=who.login):
                rpc.call_kw(env["dunning.payer.rating"], "search_read", [[]], {})
            with self.assertRaises(AccessError, msg=who.login):
                env["dunning.payer.rating"].browse(self._row().id).write({"rating": "D"})
        # a billing user reads the customer, not its rating
        self.assertNotIn("dunning_rating", self.customer.with_user(billing).fields_get())
        # a dunning user recomputes, reads, never writes a rating
        env = self.env(user=user.id, context={})
        self.assertTrue(rpc.call_kw(env["res.partner"], "action_dunning_compute_rating",
                                    [self.customer.ids], {}))
        self.assertEqual(env["res.partner"].browse(self.customer.id).dunning_rating, "A")
        with self.assertRaises(AccessError):
            env["dunning.payer.rating"].browse(self._row().id).write({"rating": "D"})

    def test_ratings_stay_in_their_company(self):
        self._pay_on(self._invoice(self.START), self.START)
        other = self.setup_other_company()["company"]
        user_b = new_test_user(self.env, login="rate_b", groups="account.group_account_user",
                               company_id=other.id, company_ids=[Command.set(other.ids)])
        self.assertFalse(self.Rating.with_user(user_b).search([]))
        partner_b = self.customer.with_user(user_b).with_company(other)
        self.assertFalse(partner_b.dunning_rating, "not rated in the other company")
