from datetime import timedelta

from odoo.tests import freeze_time, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningBadInput(DunningCommon):
    """Bad input: that communication fails with its reason, an activity goes to the
    responsible user, the chatter says so, and the rest of the run goes on."""

    def _assert_failed(self, comm, reason_part):
        self.assertEqual(comm.state, "failed")
        self.assertIn(reason_part, comm.failure_reason)
        self.assertTrue(comm.activity_id, "an activity asks someone to fix it")
        self.assertIn("failed", comm.activity_id.summary)
        self.assertTrue(comm.partner_id.message_ids.filtered(
            lambda m: "could not be sent" in (m.body or "")))

    def test_customer_without_email(self):
        self.customer.email = False
        self._invoice(self.START)
        self._invoice(self.START, partner=self.customer2)
        self._run(self.START)
        self._assert_failed(self._comms(), "has no e-mail address")
        self.assertEqual(self._comms(self.customer2).state, "sent", "the rest of the run goes on")

    def test_retry_after_fix(self):
        self.customer.email = False
        self._invoice(self.START)
        self._run(self.START)
        comm = self._comms()
        self.customer.email = "fixed@alcala.example.com"
        with freeze_time(f"{self.START.isoformat()} 10:30:00"):
            comm.action_retry()
        self.assertEqual(comm.state, "scheduled")
        self.assertFalse(comm.activity_ids, "the fix-it activity is done")
        self._run(self.START, hour=11)
        self.assertEqual(comm.state, "sent")
        self.assertIn("fixed@alcala.example.com", comm.recipients)

    def test_template_that_fails_to_render(self):
        template = self.env.ref("dunning_chain.mail_template_dunning_due_today")
        template.body_html = "<p><t t-out='object.no_such_field'/></p>"
        self._invoice(self.START)
        self._invoice(self.START, partner=self.customer2)
        self._run(self.START)
        self._assert_failed(self._comms(), "could not be rendered")
        self._assert_failed(self._comms(self.customer2), "could not be rendered")
        # the next level, with another template, still goes out
        self._run(self.START + timedelta(days=7))
        self.assertEqual(self._comms(level_id=self.levels[7].id).state, "sent")

    def test_archived_salesperson_for_a_call(self):
        salesman = self.env["res.users"].create({
            "name": "Gone Salesman", "login": "gone.salesman", "email": "gone@example.com",
        })
        self.customer.user_id = salesman
        salesman.action_archive()
        collector = self.env["res.users"].create({
            "name": "Carla Collector", "login": "carla", "email": "carla@example.com",
        })
        self.policy.collector_id = collector
        self._invoice(self.START - timedelta(days=15))
        self._run(self.START)
        comm = self._comms()
        self.assertEqual(comm.channel, "call")
        self._assert_failed(comm, "archived")
        self.assertEqual(comm.activity_id.user_id, collector)

    def test_missing_pdf_engine(self):
        """Letters need wkhtmltopdf: without it the letter fails, explained."""
        from unittest.mock import patch
        from odoo.exceptions import UserError
        self._invoice(self.START - timedelta(days=30))

        def no_engine(*args, **kwargs):
            raise UserError("Unable to find Wkhtmltopdf on this system. The PDF can not be created.")

        with patch.object(type(self.env["ir.actions.report"]), "_render_qweb_pdf", no_engine):
            self._run(self.START)
        self._assert_failed(self._comms(), "Wkhtmltopdf")
