"""The dunning run as queue jobs (OCA queue_job).

The hourly scheduled action still brings the delivery news, thanks for what was paid and plans
(in its own transaction, as without queue_job); the sending is what grows with a large fleet,
so it becomes jobs on the ``root.dunning`` channel: one per batch (SEND_BATCH_SIZE) of due
communications and company, performed by queue_job's workers on any number of Odoo nodes, and
once they are all done, one job booking the late payment charges the messages stated. Each job
sends its batch through the same ``_dunning_send_batch`` as the in-process run (row locks with
SKIP LOCKED, re-checks under the lock): a communication in two jobs, or in a job and a Send
Now at once, still leaves once. Everything else (Run Now, Send Now, the tests calling
``_dunning_run``) sends at once, as without queue_job.
"""
from odoo import api, fields, models

from odoo.addons.dunning_chain.models.dunning_send import SEND_BATCH_SIZE
from odoo.addons.queue_job.delay import group
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import ENQUEUED, PENDING, STARTED, WAIT_DEPENDENCIES

#: the states of a job that has not finished (it will still send its communications)
WAITING = (WAIT_DEPENDENCIES, PENDING, ENQUEUED, STARTED)

#: the context key of the scheduled action's run: its sending is enqueued
ENQUEUE = "dunning_enqueue_jobs"


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    def _cron_dunning_run(self):
        """Scheduled action: the run, its sending as queue jobs."""
        return super(DunningCommunication, self.with_context(**{ENQUEUE: True}))._cron_dunning_run()

    def _dunning_job_send(self):
        """Job: send these due communications (one batch of one company). Rows another run
        holds are left to it; when it holds every one of them, the job is retried later
        (queue_job's retry pattern), then fails visibly."""
        locked = self.try_lock_for_update()
        if self and not locked:
            raise RetryableJobError(self.env._(
                "Another run is sending these %s communications: retried later.", len(self)))
        self.env["dunning.send"]._dunning_send_batch(locked)
        states = dict.fromkeys(("sent", "scheduled", "failed", "cancelled"), 0)
        for comm in self:
            states[comm.state] = states.get(comm.state, 0) + 1
        return self.env._(
            "%(sent)s sent, %(failed)s failed, %(cancelled)s cancelled, %(scheduled)s still "
            "scheduled (moved by the send window or held by another run), %(count)s in the job",
            count=len(self), **states)

    @api.model
    def _dunning_job_book(self):
        """Job: book the late payment charges of the messages sent (after the run's batches)."""
        moves = self.env["dunning.charge"]._dunning_book()
        return self.env._("%s fee invoice(s) booked", len(moves))


class DunningSend(models.AbstractModel):
    _inherit = "dunning.send"

    @api.model
    def _dunning_send_due(self, commit=False, limit=None):
        """The scheduled action's run enqueues its sending (see the module's docstring)."""
        if not self.env.context.get(ENQUEUE):
            return super()._dunning_send_due(commit=commit, limit=limit)
        return len(self._dunning_enqueue_due(limit=limit))

    @api.model
    def _dunning_enqueue_due(self, limit=None):
        """One job per batch of due communications and company on the dunning channel, then
        one booking the charges once they are done. Returns the sending jobs' delayables.
        A communication already in a job of an earlier run that has not finished is left to
        that job: it is not enqueued twice."""
        waiting = self.env["queue.job"].sudo().search([
            ("model_name", "=", "dunning.communication"), ("method_name", "=", "_dunning_job_send"),
            ("state", "in", WAITING)])
        todo = self.env["dunning.communication"].search(
            [("state", "=", "scheduled"), ("scheduled_at", "<=", fields.Datetime.now()),
             ("id", "not in", [i for job in waiting for i in job.records.ids])],
            order="company_id, scheduled_at, id", limit=limit)
        jobs = []
        for company, comms in todo.grouped("company_id").items():
            comms = comms.with_context(allowed_company_ids=company.ids)
            for start in range(0, len(comms), SEND_BATCH_SIZE):
                batch = comms[start:start + SEND_BATCH_SIZE]
                jobs.append(batch.delayable(
                    priority=10,
                    description=self.env._(
                        "Dunning: send %(count)s communications of %(company)s (%(first)s...)",
                        count=len(batch), company=company.name, first=batch[0].name),
                )._dunning_job_send())
        if jobs:
            book = self.env["dunning.communication"].delayable(
                priority=20, description=self.env._("Dunning: book the late payment charges"),
            )._dunning_job_book()
            group(*jobs).on_done(book).delay()
        return jobs
