from datetime import timedelta

from odoo.tests import tagged

from odoo.addons.dunning_chain.tests.common import DunningCommon
from odoo.addons.sms.tests.common import SMSCase

from ..tools.sms_text import analyse

MOBILE = "+34612345678"


@tagged("post_install", "-at_install")
class TestDunningSmsStep(DunningCommon, SMSCase):
    """With dunning_sms installed, the shipped chain texts the customer 10 days after the due
    date (3 days after the first e-mail): a short SMS with the link to their page. Customers
    no SMS can reach skip the step and their chain goes on without it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sms_level = cls.env.ref("dunning_sms.level_sms")
        spain = cls.env.ref("base.es")
        cls.customer.write({"country_id": spain.id, "phone": "612 34 56 78"})  # a mobile
        cls.customer2.write({"country_id": spain.id, "phone": False, "tz": "Europe/Madrid"})

    def _sms_comms(self, partner):
        return self._comms(partner, channel="sms")

    def test_the_default_chain_has_the_sms_step(self):
        self.assertEqual(self.sms_level.policy_id, self.policy)
        self.assertEqual(self.sms_level.offset_days, 10)
        self.assertEqual(self.sms_level.channel_ids.mapped("channel"), ["sms"])
        self.assertEqual(self.sms_level.channel_ids.sms_template_id,
                         self.env.ref("dunning_sms.sms_template_dunning_reminder"))
        self.assertEqual([lvl.offset_days for lvl in self.policy._levels_by_offset()],
                         [-3, 0, 7, 10, 15, 30, 45, 60])

    def test_sms_planned_at_10_days_for_a_mobile_and_none_without(self):
        with_mobile = self._invoice(self.START, 800.0)
        without = self._invoice(self.START, 500.0, partner=self.customer2)
        with self.mockSMSGateway():
            self._run(self.START + timedelta(days=7))
            self.assertEqual(self._comms(level_id=self.levels[7].id).state, "sent")
            self.assertFalse(self._sms_comms(self.customer) | self._sms_comms(self.customer2))

            # +10: planned for the customer with a mobile (in the run at 05:00 UTC, before
            # Madrid's window: it waits), none for the other, whose chain stays at +7
            planned = self._run(self.START + timedelta(days=10), hour=5)
            sms = self._sms_comms(self.customer)
            self.assertEqual(len(sms), 1)
            self.assertEqual((sms.state, sms.level_id), ("scheduled", self.sms_level))
            self.assertIn(sms, planned)
            self.assertEqual(sms.line_ids.move_id, with_mobile)
            self.assertFalse(self._sms_comms(self.customer2), "no mobile: no SMS planned")
            self.assertFalse(planned.filtered(lambda c: c.partner_id == self.customer2))
            self.assertEqual(without.dunning_level_id, self.levels[7])
            self.assertEqual(with_mobile.dunning_level_id, self.sms_level)
            # what the SMS will be: the E.164 number, the encoding and the parts
            self.assertEqual(sms.sms_planned_to, MOBILE)
            self.assertRegex(sms.sms_planned_size, r"^GSM-7, [12] SMS \(\d+ chars\)$")

            # sent in the window, to the E.164 number, with the link to the page
            self._run(self.START + timedelta(days=10), hour=10)
            self.assertEqual(sms.state, "sent", sms.failure_reason)
            self.assertEqual(sms.recipients, MOBILE)
            self.assertTrue(sms.sms_body.endswith(sms.customer_url))
            self.assertEqual((sms.sms_encoding, sms.sms_segments),
                             ("GSM-7", analyse(sms.sms_body).segments))
            self.assertFalse(sms.sms_planned_to, "once sent, the record says what was sent")

            # +15: both customers get the phone call, the one without a mobile straight
            # after +7, with no "steps skipped" note
            self._run(self.START + timedelta(days=15))
        calls = self._comms(self.customer2, level_id=self.levels[15].id)
        self.assertEqual(len(calls), 1)
        self.assertNotIn("skipped", calls.reason)
        self.assertTrue(self._comms(self.customer, level_id=self.levels[15].id))
        self.assertFalse(self._sms_comms(self.customer2))

    def test_without_mobile_an_invoice_found_12_days_late_gets_the_email(self):
        """The SMS step is not in the chain of a customer no SMS can reach: the level reached
        12 days after the due date is the +7 e-mail, as if the step did not exist."""
        self.customer2.phone = "+34 91 123 45 67"  # a landline
        invoice = self._invoice(self.START, 300.0, partner=self.customer2)
        planned = self._run(self.START + timedelta(days=12))
        self.assertEqual(planned.filtered(lambda c: c.partner_id == self.customer2).level_id,
                         self.levels[7])
        self.assertEqual(invoice.dunning_level_id, self.levels[7])
        self.assertFalse(self._sms_comms(self.customer2))

    def test_customer_refusing_sms_skips_the_step_with_the_reason(self):
        """A customer who asked for no SMS (the customer's Dunning tab) has a mobile, yet its
        chain goes from the +7 e-mail to the +15 call, which says the SMS step was left out."""
        self.customer.dunning_no_sms = True
        invoice = self._invoice(self.START, 800.0)
        with self.mockSMSGateway():
            self._run(self.START + timedelta(days=7))
            self.assertFalse(self._run(self.START + timedelta(days=10)))
            self.assertEqual(invoice.dunning_level_id, self.levels[7])
            call = self._run(self.START + timedelta(days=15))
        self.assertEqual(call.level_id, self.levels[15])
        self.assertIn("step SMS reminder (+10 days) left out: no SMS: the customer prefers e-mail",
                      call.reason)
        self.assertFalse(self._sms_comms(self.customer))

    def test_phones_checked_at_once_pick_the_number_the_sender_picks(self):
        """The planner checks the phones of every customer of a run in one query: for each,
        the number the sender picks one by one (own phone, then dunning contacts by id, each
        read in its own country), or none."""
        Partner = self.env["res.partner"]
        spain = self.env.ref("base.es")

        def customer(name, phone=False, contacts=()):
            partner = Partner.create({"name": name, "is_company": True, "country_id": spain.id,
                                      "phone": phone})
            for vals in contacts:
                Partner.create(dict(vals, parent_id=partner.id, name=f"{name} contact"))
            return partner

        landline = customer("Landline", "91 123 45 67", [
            {"dunning_contact": False, "phone": "612 00 00 02"},  # not for dunning
            {"dunning_contact": True, "phone": "612 00 00 01"}])
        # an invoicing address keeps its own country (a contact's follows the company's)
        abroad = customer("Abroad", contacts=[{"dunning_contact": True, "phone": "06 12 34 56 78",
                                               "type": "invoice",
                                               "country_id": self.env.ref("base.fr").id}])
        archived = customer("Archived", contacts=[{"dunning_contact": True, "active": False,
                                                  "phone": "612 00 00 03"}])
        customers = landline | abroad | archived | self.customer | self.customer2
        checks = customers._dunning_sms_checks(self.env.company)
        self.assertEqual({p.name: checks[p.id] and checks[p.id].e164 for p in customers}, {
            "Landline": "+34612000001", "Abroad": "+33612345678", "Archived": None,
            self.customer.name: MOBILE, self.customer2.name: None})
        for partner in customers:
            check = partner._dunning_sms_recipient(self.env.company)[1]
            self.assertEqual(checks[partner.id] and checks[partner.id].e164,
                             check and check.e164, partner.name)
