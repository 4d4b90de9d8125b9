from datetime import timedelta

from odoo.tests import new_test_user, tagged

from .common import DunningCommon

# one customer per way of paying (the demo has three or four of each)
KEYS = ("lisboa", "paris", "sevilla", "amsterdam", "bilbao", "mexico", "losangeles",
        "bruxelles", "porto")


@tagged("post_install", "-at_install")
class TestDunningDemoHistory(DunningCommon):
    """The demo's simulated history (dunning.demo._load_demo_history): what a newcomer sees on
    Insight and the payer ratings of a demo database, from real invoices, messages sent at
    past moments and payments."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        product = cls.env["product.product"].create({"name": "Consulting", "type": "service"})
        cls.env.ref("dunning_chain.level_handoff_handoff").handoff_partner_id = \
            cls.env["res.partner"].create({"name": "Demo agency", "is_company": True})
        cls.customers = cls.env["dunning.demo"]._load_demo_history(
            cls.env.company, product, days=150, keys=KEYS)
        cls.viewer = new_test_user(cls.env, "insight_viewer", groups="base.group_user,"
                                   "account.group_account_invoice,dunning_chain.group_dunning_user",
                                   company_id=cls.env.company.id)

    def test_dashboard_shows_months_of_dso_and_cei(self):
        data = self.env["dunning.insight"].with_user(self.viewer).dunning_dashboard_data(
            months=5)
        months = [row for row in data["months"][:-1] if row["dso"] is not None]
        self.assertGreaterEqual(len(months), 3, data["months"])
        for row in months:
            self.assertTrue(5 <= row["dso"] <= 150, row)
            self.assertIsNotNone(row["cei"], row)
            self.assertTrue(20 <= row["cei"] <= 100, row)
        first = [level for level in data["levels"] if level["level"] == "First reminder"]
        self.assertTrue(first and first[0]["recovered"] > 0, data["levels"])
        self.assertGreater(first[0]["rate"], 0)
        self.assertIsNotNone(first[0]["median_days"])

    def test_customers_get_different_ratings(self):
        ratings = self.env["dunning.payer.rating"].search([
            ("partner_id", "in", self.customers.ids), ("company_id", "=", self.env.company.id)])
        by_customer = {r.partner_id.name: r.rating for r in ratings}
        self.assertGreaterEqual(len({r for r in by_customer.values() if r}), 3, by_customer)
        on_time = self.env.ref("dunning_chain.demo_history_lisboa")
        never = self.env.ref("dunning_chain.demo_history_porto")
        self.assertEqual(by_customer[on_time.name], "A", by_customer)
        self.assertEqual(by_customer[never.name], "D", by_customer)
        # the list grouped by rating shows each group's average share and days late (the
        # aggregate the web client asks for), not their sum ("Paid on Time 400 %")
        Rating = self.env["dunning.payer.rating"]
        fields = ["on_time_share", "avg_days_late", "after_first_share", "after_later_share"]
        aggregates = [f"{name}:{Rating._fields[name].aggregator}" for name in fields]
        for group in Rating.formatted_read_group(
                [("partner_id", "in", self.customers.ids)], ["rating"], aggregates):
            self.assertLessEqual(group[aggregates[0]], 1.0, group)
            self.assertLessEqual(group[aggregates[2]] + group[aggregates[3]], 1.0, group)

    def test_history_is_sent_in_the_past_and_the_record_verifies(self):
        sent = self.Comm.search([("partner_id", "in", self.customers.ids),
                                 ("state", "=", "sent")])
        self.assertGreater(len(sent), 20)
        self.assertGreater(len(set(sent.mapped(lambda c: c.sent_at.date()))), 20)
        self.assertFalse(sent.filtered(lambda c: not c.hash))
        self.assertEqual(self.env["dunning.evidence"]._dunning_verify(
            companies=self.env.company), [])
        facts = self.env["dunning.fact"].search([("partner_id", "in", self.customers.ids)])
        self.assertGreaterEqual(len(set(facts.mapped("sent_weekday"))), 3)
        self.assertGreaterEqual(len(set(facts.mapped("sent_hour"))), 4)
        # nothing was left for staff: calls have their outcome, tasks are done
        self.assertFalse(self.Comm.search([("partner_id", "in", self.customers.ids),
                                           ("state", "=", "failed")]))
        # the simulated gateways delivered them: nothing of the past waits in Odoo's queues
        self.assertFalse(self.env["mail.mail"].search([
            ("mail_message_id", "in", sent.mail_message_id.ids), ("state", "=", "outgoing")]))
        last = max(sent.mapped("sent_at"))
        emails = sent.filtered(lambda c: c.channel == "email"
                               and c.sent_at < last - timedelta(days=2))
        self.assertTrue(emails)
        self.assertEqual(set(emails.mapped("delivery_state")), {"sent"})
        note = self.env["mail.message"].search([("model", "=", "dunning.communication"),
                                                ("res_id", "=", sent[0].id),
                                                ("body", "ilike", "Simulated history")])
        self.assertTrue(note)
