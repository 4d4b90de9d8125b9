from datetime import timedelta

from odoo.exceptions import ValidationError
from odoo.tests import Form, freeze_time, new_test_user, tagged
from odoo.tools import format_amount

from odoo.addons.dunning_chain.tests.common import DunningCommon
from odoo.addons.sms.tests.common import SMSCase

from ..tools.sms_text import analyse

MOBILE = "+34612345678"


@tagged("post_install", "-at_install")
class TestDunningSms(DunningCommon, SMSCase):
    """The first reminder (+7 days) of the shipped chain gets an SMS next to its e-mail."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = cls.env.ref("dunning_sms.sms_template_dunning_reminder")
        cls.sms_level = cls.levels[7]
        cls.sms_channel = cls.env["dunning.level.channel"].create({
            "level_id": cls.sms_level.id, "channel": "sms", "sms_template_id": cls.template.id,
        })
        cls.spain = cls.env.ref("base.es")
        cls.customer.write({"country_id": cls.spain.id, "phone": "612 34 56 78"})
        cls.customer2.write({"country_id": cls.spain.id, "phone": "+34 699 11 22 33",
                             "tz": "Europe/Madrid"})
        cls.DAY = cls.START + timedelta(days=7)  # Monday 9 March 2026

    def _run_and_send(self, day=None, hour=10):
        """A dunning run, then the SMS queue cron handing the queued SMS to the (mocked)
        provider."""
        planned = self._run(day or self.DAY, hour)
        self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).send()
        return planned

    def _sms_comm(self, partner=None):
        return self._comms(partner, channel="sms")

    def _use_template(self, body):
        self.sms_channel.sms_template_id = self.env["sms.template"].create({
            "name": "Test dunning SMS", "body": body,
            "model_id": self.env["ir.model"]._get_id("dunning.communication"),
        })

    # ------------------------------------------------------------------ sending
    def test_sms_sent_to_e164_mobile_with_amount_and_link(self):
        self._invoice(self.START, amount=1200.0)
        with self.mockSMSGateway():
            self._run(self.DAY)
            comm = self._sms_comm()
            self.assertEqual(comm.state, "sent")
            self.assertEqual(comm.delivery_state, "pending", "queued: leaves once the run commits")
            self.assertFalse(self._sms, "nothing reaches the provider inside the run")
            self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).send()

        text = comm.sms_body
        amount = format_amount(self.env, 1200.0, comm.currency_id).replace("\xa0", " ")
        self.assertIn(amount, text)
        self.assertIn(self.env.company.name, text)
        self.assertTrue(comm.customer_url.startswith("http"))
        self.assertTrue(text.endswith(comm.customer_url), "the link is whole, at the end")
        # the provider got exactly that text, for the E.164 form of '612 34 56 78'
        self.assertSMS(self.customer, MOBILE, "pending", content=text)
        self.assertEqual(self._sms[0]["body"], text)
        self.assertEqual(comm.recipients, MOBILE)
        # recorded like any dunning message: chatter of the communication, snapshot, evidence
        message = comm.mail_message_id
        self.assertEqual(message.message_type, "sms")
        self.assertEqual(message.model, "dunning.communication")
        self.assertIn(comm.customer_url, message.body)
        self.assertFalse(self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)]),
                         "the customer gets the SMS only, not an e-mail copy of it")
        self.assertIn(comm.customer_url, comm.body)
        self.assertEqual(comm.sms_encoding, "GSM-7")
        self.assertEqual(comm.sms_segments, analyse(text).segments)
        self.assertLessEqual(comm.sms_segments, self.policy.sms_max_segments)
        self.assertFalse(comm.sms_adjustments, "the shipped template fits without cuts")
        self.assertTrue(comm.hash)
        self.assertFalse(self._comms()._dunning_broken_links())
        # the e-mail of the level still goes: SMS is one more channel
        self.assertEqual(self._comms(channel="email").state, "sent")
        self.assertTrue(self.customer.message_ids.filtered(
            lambda m: comm.name in (m.body or "") and "SMS" in (m.body or "")),
            "the customer's chatter says an SMS was sent")
        # the provider's answer shows on the communication after the sync
        self.env["dunning.send"]._dunning_sync_delivery(comm)
        self.assertEqual(comm.delivery_state, "sent")

    def test_short_form_says_the_total_owed_and_the_overdue_part(self):
        """The SMS gives the customer's whole account with the company (dunning.statement):
        what is owed in all and how much of it is overdue; cut to one part, the link stays."""
        self._invoice(self.START, amount=800.0)
        self._invoice(self.DAY + timedelta(days=20), amount=434.0)  # not due yet
        with self.mockSMSGateway():
            self._run_and_send()
        comm = self._sms_comm()
        self.assertEqual(comm.state, "sent", comm.failure_reason)

        def amount(value):
            return format_amount(self.env, value, comm.currency_id).replace("\xa0", " ")

        self.assertTrue(comm.sms_body.startswith(
            f"You owe {amount(1234.0)} to {self.env.company.name} ({amount(800.0)} overdue "
            "since 03/02/2026). Pay or reply: "), comm.sms_body)
        self.assertTrue(comm.sms_body.endswith(comm.customer_url))
        self.assertFalse(comm.sms_adjustments, "fits the policy's two parts as it is")

    def test_final_notice_sms_says_the_date_and_keeps_the_link_when_cut(self):
        self.sms_channel.sms_template_id = self.env.ref("dunning_sms.sms_template_dunning_final")
        self.policy.sms_max_segments = 1
        self._invoice(self.START, amount=800.0)
        with self.mockSMSGateway():
            self._run_and_send()
        comm = self._sms_comm()
        self.assertEqual(comm.state, "sent", comm.failure_reason)
        self.assertEqual(comm.sms_segments, 1)
        self.assertTrue(comm.sms_body.startswith(f"Final notice from {self.env.company.name}"))
        self.assertTrue(comm.sms_body.endswith("... " + comm.customer_url), comm.sms_body)
        self.assertRegex(comm.sms_adjustments, r"^shortened: 2 SMS -> 1 SMS$")
        # uncut, it says by when and what happens then (as the final e-mail does)
        with freeze_time(f"{self.DAY.isoformat()} 10:00:00"):
            text = self.env.ref("dunning_sms.sms_template_dunning_final")._render_field(
                "body", comm.ids, compute_lang=True)[comm.id]
        # ten days after the message (the next step here, the +15 call, would come sooner)
        self.assertIn("overdue). Please pay or contact us by 03/19/2026; after that date we will "
                      "hand the debt over for collection: " + comm.customer_url, text)

    def test_landline_refused_others_still_served(self):
        self.customer.phone = "+34 910 000 000"
        self._invoice(self.START, amount=300.0)
        self._invoice(self.START, amount=500.0, partner=self.customer2)
        with self.mockSMSGateway():
            self._run_and_send()
        failed = self._sms_comm()
        self.assertEqual(failed.state, "failed")
        self.assertIn("is a fixed line: SMS cannot reach it", failed.failure_reason)
        self.assertIn("dunning contact", failed.failure_reason, "the reason says how to fix it")
        self.assertTrue(failed.activity_id, "someone is asked to fix the number")
        self.assertIn("fixed line", str(failed.activity_id.note))
        self.assertEqual(self._comms(channel="email").state, "sent")
        other = self._sms_comm(self.customer2)
        self.assertEqual(other.state, "sent")
        self.assertSMS(self.customer2, "+34699112233", "pending")
        self.assertEqual([s["number"] for s in self._sms], ["+34699112233"])

    def test_dunning_contact_mobile_when_main_number_is_landline(self):
        self.customer.phone = "91 123 45 67"
        self.env["res.partner"].create({
            "name": "Sales desk", "parent_id": self.customer.id, "phone": "+34 600 00 00 01"})
        contact = self.env["res.partner"].create({
            "name": "Marta (accounts payable)", "parent_id": self.customer.id,
            "phone": "699 88 77 66", "dunning_contact": True})
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run_and_send()
        comm = self._sms_comm()
        self.assertEqual(comm.state, "sent")
        self.assertEqual(comm.recipients, "+34699887766")
        self.assertSMS(contact, "+34699887766", "pending")
        self.assertIn(contact, comm.mail_message_id.partner_ids)

    def test_garbage_and_missing_number(self):
        self.customer.phone = "ask Pedro"
        self.customer2.phone = False
        self._invoice(self.START)
        self._invoice(self.START, partner=self.customer2)
        with self.mockSMSGateway():
            self._run_and_send()
        self.assertEqual(self._sms_comm().state, "failed")
        self.assertIn("'ask Pedro' is not a phone number", self._sms_comm().failure_reason)
        self.assertEqual(self._sms_comm(self.customer2).state, "failed")
        self.assertIn("no phone number", self._sms_comm(self.customer2).failure_reason)
        self.assertFalse(self._sms)
        self.assertFalse(self.env["sms.sms"].sudo().search([("number", "=", "ask Pedro")]))

    def test_refused_number_said_in_the_customers_language(self):
        """tools/phone.py says why with a code; the failure reason is worded in the customer's
        language (Spanish here), another customer's in theirs (English) in the same run."""
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"].search(
            [("name", "in", ("dunning_chain", "dunning_sms"))])._update_translations(["es_ES"])
        self.customer.write({"lang": "es_ES", "phone": "91 123 45 67"})
        self.customer2.phone = "+34 900 123 456"
        self._invoice(self.START)
        self._invoice(self.START, partner=self.customer2)
        with self.mockSMSGateway():
            self._run_and_send()
        spanish = self._sms_comm().failure_reason
        self.assertIn("Ningún número móvil puede recibir el SMS", spanish)
        self.assertIn("'91 123 45 67' es un teléfono fijo: un SMS no puede llegar a él", spanish)
        english = self._sms_comm(self.customer2).failure_reason
        self.assertIn("No mobile number can receive the SMS", english)
        self.assertIn("'+34 900 123 456' is a toll-free number: SMS cannot reach it", english)
        self.assertFalse(self._sms)

    # ------------------------------------------------------------------ opt-out
    def test_blacklisted_number_cancelled_email_covers(self):
        self.env["phone.blacklist"].sudo().add(MOBILE)
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run_and_send()
            comm = self._sms_comm()
            self.assertEqual(comm.state, "cancelled")
            self.assertEqual(comm.failure_reason,
                             f"{MOBILE} opted out of SMS (blacklist): the e-mail of this level "
                             "covers it")
            self.assertFalse(comm.activity_id, "an opt-out is respected, not a problem to fix")
            self.assertFalse(self._new_sms)
            self.assertEqual(self._comms(channel="email").state, "sent")
            # the next run does not try again
            self._run_and_send(hour=15)
        self.assertEqual(len(self._sms_comm()), 1)
        self.assertFalse(self._sms)

    def test_blacklisted_number_without_email_channel(self):
        self.sms_level.channel_ids.filtered(lambda c: c.channel == "email").unlink()
        self.env["phone.blacklist"].sudo().add("+34 612 34 56 78")
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run_and_send()
        comm = self._sms_comm()
        self.assertEqual(comm.state, "cancelled")
        self.assertEqual(comm.failure_reason, f"{MOBILE} opted out of SMS")
        self.assertFalse(self._sms)

    def test_inbound_stop_blacklists(self):
        Comm = self.Comm
        self.assertFalse(Comm._dunning_sms_inbound(MOBILE, "Hola, pagaré el viernes"))
        self.assertFalse(self.env["phone.blacklist"].sudo().search([("number", "=", MOBILE)]))
        self.assertTrue(Comm._dunning_sms_inbound(MOBILE, "  Stop, por favor"))
        self.assertTrue(Comm._dunning_sms_inbound("0034 699 11 22 33", "BAJA"))
        self.assertTrue(Comm._dunning_sms_inbound("+1 212 736 5000", "alto."))
        numbers = self.env["phone.blacklist"].sudo().search([]).mapped("number")
        for number in (MOBILE, "+34699112233", "+12127365000"):
            self.assertIn(number, numbers)
        self.assertTrue(self.customer.message_ids.filtered(
            lambda m: "opted out of SMS" in (m.body or "")))
        # from now on the customer gets no dunning SMS
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run_and_send()
        self.assertEqual(self._sms_comm().state, "cancelled")
        self.assertFalse(self._sms)

    # ------------------------------------------------------------------ text
    def test_spanish_transliteration_keeps_one_gsm7_segment(self):
        self.customer.lang = "en_US"
        self._use_template("Último aviso nº 3, José Núñez. Pague aquí: {{ object.customer_url }}")
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run_and_send()
        comm = self._sms_comm()
        text = comm.sms_body
        # é and ñ are GSM-7: kept; Ú º ú í would force UCS-2: replaced
        self.assertEqual(text, "Ultimo aviso no 3, José Nuñez. Pague aqui: " + comm.customer_url)
        self.assertEqual(comm.sms_encoding, "GSM-7")
        self.assertEqual(comm.sms_segments, 1)
        # the count before and after is recorded: the accents alone multiplied the price
        before = analyse("Último aviso nº 3, José Núñez. Pague aquí: " + comm.customer_url)
        self.assertEqual(before.encoding, "UCS-2")
        self.assertGreaterEqual(before.segments, 2)
        self.assertEqual(comm.sms_adjustments,
                         f"accents replaced: UCS-2 {before.segments} SMS -> GSM-7 1 SMS")
        self.assertSMS(self.customer, MOBILE, "pending", content="José Nuñez")

    def test_spanish_customer_gets_the_spanish_template(self):
        """The shipped templates are translated (i18n/es.po): a Spanish-speaking customer gets
        the Spanish text, its accents replaced to stay GSM-7."""
        self.env["res.lang"].sudo()._activate_lang("es_ES")
        self.env["ir.module.module"].sudo()._load_module_terms(
            ["dunning_sms"], ["es_ES"], overwrite=True)
        self.customer.lang = "es_ES"
        self._invoice(self.START, amount=80.0)
        with self.mockSMSGateway():
            self._run_and_send()
        comm = self._sms_comm()
        self.assertEqual(comm.state, "sent")
        amount = format_amount(self.env(context={"lang": "es_ES"}), 80.0, comm.currency_id)
        self.assertTrue(comm.sms_body.startswith(
            f"Debe {amount} a {self.env.company.name} ({amount} pendiente".replace("\xa0", " ")),
            comm.sms_body)
        self.assertIn(" pendiente desde el 02/03/2026). Pague aqui o responda: ", comm.sms_body)
        self.assertTrue(comm.sms_body.endswith(comm.customer_url))
        self.assertEqual(comm.sms_encoding, "GSM-7")
        self.assertIn("UCS-2", comm.sms_adjustments, "aquí alone would have forced UCS-2")
        self.assertSMS(self.customer, MOBILE, "pending", content="Pague aqui")

    def test_no_transliteration_when_switched_off(self):
        self.policy.sms_transliterate = False
        self.policy.sms_max_segments = 5  # no shortening here, whatever the link's length
        self._use_template("Último aviso: pague aquí {{ object.customer_url }}")
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run_and_send()
        comm = self._sms_comm()
        self.assertEqual(comm.sms_body, "Último aviso: pague aquí " + comm.customer_url)
        self.assertEqual(comm.sms_encoding, "UCS-2")
        self.assertEqual(comm.sms_segments, analyse(comm.sms_body).segments)
        self.assertGreaterEqual(comm.sms_segments, 2, "UCS-2: 70 characters per SMS")
        self.assertFalse(comm.sms_adjustments)

    def test_too_long_text_shortened_link_kept(self):
        self.policy.sms_max_segments = 1
        prose = " ".join(["We kindly remind you that this invoice is overdue."] * 4)
        self._use_template(prose + " Pay here: {{ object.customer_url }}")
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run_and_send()
        comm = self._sms_comm()
        self.assertEqual(comm.state, "sent")
        self.assertEqual(comm.sms_segments, 1)
        self.assertLessEqual(len(comm.sms_body), 160)
        self.assertTrue(comm.sms_body.startswith("We kindly remind you"))
        self.assertTrue(comm.sms_body.endswith("... " + comm.customer_url), comm.sms_body)
        self.assertRegex(comm.sms_adjustments, r"^shortened: [2-9] SMS -> 1 SMS$")
        self.assertSMS(self.customer, MOBILE, "pending", content=comm.customer_url)

    def test_text_that_cannot_be_shortened_fails(self):
        """The link in the middle of a long text: shortening would drop it."""
        self.policy.sms_max_segments = 1
        self._use_template("Please " * 10 + "pay here: {{ object.customer_url }} " + "thanks " * 30)
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run_and_send()
        comm = self._sms_comm()
        self.assertEqual(comm.state, "failed")
        self.assertIn("would drop the link", comm.failure_reason)
        self.assertFalse(self._sms)

    # ------------------------------------------------------------------ time zone
    def test_us_mobile_of_spanish_customer_gets_new_york_hours(self):
        self.customer.phone = "+1 212 736 5000"
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run_and_send()  # 10:00 UTC: 11:00 in Madrid, 06:00 in New York
            email, sms = self._comms(channel="email"), self._sms_comm()
            self.assertEqual(email.state, "sent")
            self.assertEqual(sms.state, "scheduled")
            self.assertEqual(sms.partner_tz, "America/New_York")
            self.assertEqual(str(sms.scheduled_at), "2026-03-09 13:00:00")  # 09:00 EDT
            self.assertTrue(sms.scheduled_local.startswith("Mon 09 Mar 2026 09:00"))
            self.assertIn("time zone of the mobile number +12127365000", sms.schedule_reason)
            self.assertFalse(self._sms)
            self._run_and_send(hour=13)
        self.assertEqual(sms.state, "sent")
        self.assertSMS(self.customer, "+12127365000", "pending")

    def test_spanish_mobile_keeps_customer_time_zone(self):
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run_and_send()
        self.assertEqual(self._sms_comm().partner_tz, "Europe/Madrid")
        self.assertEqual(self._sms_comm().state, "sent")

    # ------------------------------------------------------------------ delivery reports
    def test_provider_failure_reported_after_sync(self):
        self._invoice(self.START)
        with self.mockSMSGateway(sim_error="credit"):
            self._run_and_send()
        comm = self._sms_comm()
        self.assertEqual(comm.state, "sent")
        self.assertEqual(comm.delivery_state, "pending")
        self.assertSMS(self.customer, MOBILE, "error", failure_type="sms_credit")
        # the hourly run picks up the provider's answer
        with freeze_time(f"{self.DAY.isoformat()} 11:00:00"):
            self.Comm.sudo()._cron_dunning_run()
        self.assertEqual(comm.delivery_state, "error")
        self.assertIn("insufficient SMS credit", comm.failure_reason)
        self.assertTrue(comm.activity_id)
        self.assertIn("not delivered", comm.activity_id.summary)
        self.assertFalse(self._comms()._dunning_broken_links(), "the record stays intact")
        # credit bought, the SMS resent from Odoo's SMS screens: the next sync clears the error
        with self.mockSMSGateway():
            sms = self.env["sms.sms"].sudo().search([("mail_message_id", "=", comm.mail_message_id.id)])
            sms.resend_failed()
        self.env["dunning.send"]._dunning_sync_delivery()
        self.assertEqual(comm.delivery_state, "sent")
        self.assertFalse(comm.failure_reason)

    def test_delivered_report(self):
        self._invoice(self.START)
        with self.mockSMSGateway(force_delivered=True):
            self._run_and_send()
        comm = self._sms_comm()
        self.env["dunning.send"]._dunning_sync_delivery(comm)
        self.assertEqual(comm.delivery_state, "delivered")
        self.assertFalse(comm.failure_reason)

    # ------------------------------------------------------------------ configuration
    def test_level_channel_needs_template_and_shows_size(self):
        with self.assertRaisesRegex(ValidationError, "needs an SMS template"):
            self.env["dunning.level.channel"].create({
                "level_id": self.levels[15].id, "channel": "sms"})
        self.assertRegex(self.sms_channel.sms_text_info, r"^GSM-7, [12] SMS \(~\d+ chars\)$")
        self._use_template("Último aviso " * 10)
        self.assertEqual(self.sms_channel.sms_text_info, "GSM-7, 1 SMS (~130 chars)")
        self.policy.sms_transliterate = False
        self.sms_channel.invalidate_recordset(["sms_text_info"])
        self.assertEqual(self.sms_channel.sms_text_info, "UCS-2, 2 SMS (~130 chars)")
        self.assertEqual(self.policy._dunning_frequency_cap("sms"), 2)
        with self.assertRaises(ValidationError):
            self.policy.sms_max_segments = 0

    def test_dunning_user_approves_and_sends_sms_now(self):
        """No admin rights needed: a dunning user reviews, sends and refreshes an SMS."""
        company = self.env.company
        user = new_test_user(self.env, login="dun_sms_user",
                             groups="dunning_chain.group_dunning_user",
                             company_id=company.id, company_ids=[(6, 0, company.ids)])
        self.policy.mode = "review"
        self._invoice(self.START)
        with self.mockSMSGateway():
            self._run(self.DAY)
            comm = self._sms_comm()
            self.assertEqual(comm.state, "to_review")
            with freeze_time(f"{self.DAY.isoformat()} 10:30:00"):
                comm.with_user(user).action_approve()
                comm.with_user(user).action_send_now()
            self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).send()
        self.assertEqual(comm.state, "sent", comm.failure_reason)
        self.assertSMS(self.customer, MOBILE, "pending", content=comm.customer_url)
        comm.with_user(user).action_dunning_refresh_delivery()
        self.assertEqual(comm.delivery_state, "sent")

    def test_sms_frequency_cap(self):
        """At most 'SMS per 7 Days' SMS reach a customer: one more waits a week."""
        self.policy.write({"grouping": "invoice", "cap_sms": 1})
        self._invoice(self.START, amount=100.0)
        self._invoice(self.START, amount=200.0)
        with self.mockSMSGateway():
            self._run_and_send()
        first, second = self._sms_comm()
        self.assertEqual(first.state, "sent")
        self.assertEqual(second.state, "scheduled")
        self.assertGreaterEqual(second.scheduled_at, first.sent_at + timedelta(days=7))
        self.assertIn("at most 1 SMS in 7 days", second.schedule_reason)
        self.assertEqual(len(self._sms), 1)
        # e-mails have their own cap: both left
        self.assertEqual(set(self._comms(channel="email").mapped("state")), {"sent"})

    def test_level_form_adds_sms_channel(self):
        """Through the level form, as a manager would: the SMS line shows its size."""
        level = self.levels[30]
        with Form(level) as form:
            with form.channel_ids.new() as line:
                line.channel = "sms"
                line.sms_template_id = self.env.ref("dunning_sms.sms_template_dunning_final")
                self.assertRegex(line.sms_text_info, r"^GSM-7, [12] SMS")
        sms_line = level.channel_ids.filtered(lambda c: c.channel == "sms")
        self.assertEqual(sms_line.sms_template_id.name, "Dunning: final notice (SMS)")
        self.assertIn("SMS", level.channel_summary)
        # the policy and communication forms load with the SMS fields
        Form(self.policy)
        self.assertIn("sms_max_segments", self.env["dunning.policy"].get_view(
            self.env.ref("dunning_chain.dunning_policy_view_form").id)["arch"])
