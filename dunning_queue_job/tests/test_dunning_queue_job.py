import os
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from odoo.addons.dunning_chain.tests.common import DunningCommon
from odoo.addons.queue_job.controllers.main import RunJobController
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

from ..models import dunning_jobs


@tagged("post_install", "-at_install")
class TestDunningQueueJob(DunningCommon):
    """The scheduled run's sending as queue jobs: one per batch and company on the dunning
    channel, each communication sent once, failures and retries visible on the job."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.customer | cls.customer2 | cls.partner_a
        cls.customers.write({"email": "ap@example.com"})
        for partner in cls.customers:
            cls._invoice(cls.START, partner=partner)
        cls.other = cls.setup_other_company(name="Other Dunning Co")["company"]
        cls.other.dunning_policy_id = cls.policy.copy({"company_id": cls.other.id})
        cls.other_customer = cls.env["res.partner"].create({
            "name": "Other Co Customer", "email": "ap@other.example.com"})
        cls._invoice(cls.START, partner=cls.other_customer,
                     company_id=cls.other.id, journal_id=cls.env["account.journal"].search([
                         ("company_id", "=", cls.other.id), ("type", "=", "sale")], limit=1).id)

    def setUp(self):
        super().setUp()
        # queue_job's "run at once" switch (set for the other addons' tests) is off here
        env_patch = patch.dict(os.environ)
        env_patch.start()
        self.addCleanup(env_patch.stop)
        os.environ.pop("QUEUE_JOB__NO_DELAY", None)
        self.day = f"{self.START.isoformat()} 10:00:00"

    def _all_comms(self):
        return self.Comm.search([("partner_id", "in", (self.customers | self.other_customer).ids)])

    def _emails(self, comm):
        return comm.message_ids.filtered(lambda m: m.message_type == "comment")

    def _cron(self):
        with freeze_time(self.day):
            self.Comm.sudo()._cron_dunning_run()

    def test_cron_enqueues_one_job_per_batch_and_company(self):
        with trap_jobs() as trap, patch.object(dunning_jobs, "SEND_BATCH_SIZE", 2):
            self._cron()
            comms = self._all_comms()
            self.assertEqual(len(comms), 4)
            self.assertEqual(set(comms.mapped("state")), {"scheduled"}, "nothing sent yet")
            jobs = [job for job in trap.enqueued_jobs if job.method_name == "_dunning_job_send"]
            self.assertEqual(len(jobs), 3, "company 1: batches of 2 and 1, company 2: 1")
            self.assertEqual([job.method_name for job in trap.enqueued_jobs].count(
                "_dunning_job_book"), 1)
            self.assertEqual({job.channel for job in trap.enqueued_jobs}, {"root.dunning"})
            self.assertEqual(sorted(len(job.recordset) for job in jobs), [1, 1, 2])
            for job in jobs:
                self.assertEqual(len(job.recordset.company_id), 1, "one company per job")
                self.assertEqual(job.recordset.env.context["allowed_company_ids"],
                                 job.recordset.company_id.ids)
            self.assertEqual({c for job in jobs for c in job.recordset.ids}, set(comms.ids))
            self.assertIn("Dunning: send 2 communications of", " ".join(
                job.description for job in jobs))
            with freeze_time(self.day):
                trap.perform_enqueued_jobs()
        self.assertEqual(set(comms.mapped("state")), {"sent"})
        for comm in comms:
            self.assertEqual(len(self._emails(comm)), 1, "one e-mail each")

    def test_communication_in_a_waiting_job_is_not_enqueued_again(self):
        self._cron()
        jobs = self.env["queue.job"].sudo().search([("method_name", "=", "_dunning_job_send")])
        self.assertEqual(len(jobs), 2, "one job per company")
        self.assertEqual(set(jobs.mapped("channel")), {"root.dunning"})
        self._cron()
        self.assertEqual(self.env["queue.job"].sudo().search_count(
            [("method_name", "=", "_dunning_job_send")]), 2, "the next run leaves them to it")

    def test_job_and_run_now_at_once_send_each_once(self):
        """A job performed after a Run Now sent its communications sends nothing twice."""
        with trap_jobs() as trap:
            self._cron()
            with freeze_time(self.day):
                self.env["dunning.send"]._dunning_run()  # Run Now: sends at once, no job
                trap.assert_jobs_count(3)  # the cron's two sending jobs and its booking job
                comms = self._all_comms()
                self.assertEqual(set(comms.mapped("state")), {"sent"})
                trap.perform_enqueued_jobs()
        for comm in comms:
            self.assertEqual(len(self._emails(comm)), 1, "one e-mail each")

    def test_failing_job_shows_failed_with_its_message(self):
        self._cron()
        record = self.env["queue.job"].sudo().search(
            [("method_name", "=", "_dunning_job_send")], limit=1)
        job = Job.load(self.env, record.uuid)

        def fail(self_, comms):
            raise UserError("The mail server refused the batch")

        # not assertRaises: Odoo's rolls back to a savepoint, the job's failure with it
        with freeze_time(self.day), \
                patch.object(type(self.env["dunning.send"]), "_dunning_send_batch", fail), \
                patch.object(Job, "in_temporary_env") as temp_env, \
                mute_logger("odoo.addons.queue_job.controllers.main"):
            temp_env.return_value.__enter__.return_value = self.env
            caught = None
            try:
                RunJobController._runjob(self.env, job)
            except UserError as exc:  # the runner raises it on, after recording the failure
                caught = exc
        self.assertEqual(str(caught), "The mail server refused the batch")
        record.invalidate_recordset()
        self.assertEqual(record.state, "failed")
        self.assertIn("The mail server refused the batch", record.exc_message)
        self.assertEqual(set(record.records.mapped("state")), {"scheduled"}, "nothing left")

    def test_job_whose_rows_are_all_held_is_retried(self):
        """Every row of the batch held by another run: the job raises queue_job's retryable
        error (queue_job postpones it, retry counted, the reason as its result); performed
        again once the rows are free, it sends them."""
        self._cron()
        record = self.env["queue.job"].sudo().search(
            [("method_name", "=", "_dunning_job_send")], limit=1)
        job = Job.load(self.env, record.uuid)
        Comm = type(self.Comm)
        with freeze_time(self.day), self.assertRaises(RetryableJobError) as caught, \
                patch.object(Comm, "try_lock_for_update", lambda self_, **kw: self_.browse()):
            job.perform()
        self.assertIn("Another run is sending", str(caught.exception))
        self.assertEqual(set(record.records.mapped("state")), {"scheduled"})
        # what queue_job's runner does with it (controllers/main.py, retry_postpone)
        job.postpone(result=str(caught.exception), seconds=caught.exception.seconds)
        job.set_pending(reset_retry=False)
        job.store()
        record.invalidate_recordset()
        self.assertEqual((record.state, record.retry), ("pending", 1))
        self.assertIn("Another run is sending", record.result)
        with freeze_time(self.day):
            RunJobController._runjob(self.env, Job.load(self.env, record.uuid))
        record.invalidate_recordset()
        self.assertEqual(record.state, "done")
        self.assertEqual(set(record.records.mapped("state")), {"sent"})
        self.assertIn("sent", record.result)

    def test_run_now_and_tests_still_send_at_once(self):
        with trap_jobs() as trap:
            self._run(self.START)
            trap.assert_jobs_count(0)
        self.assertEqual(set(self._comms().mapped("state")), {"sent"})
