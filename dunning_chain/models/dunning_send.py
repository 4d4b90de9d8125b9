"""The sender: planned communications whose moment has come leave, at most once each.

``dunning.send`` holds no data (like ``account.move.send``). ``_dunning_run`` is the run (the
hourly cron, *Run Now*, the tests): delivery news, thanks, plan, send. A batch locks its rows,
re-checks every invoice and the send window under the lock, prepares what can be prepared for
the whole batch (letters rendering in the background, e-mails rendered per template), then
calls each channel's ``_dunning_send_<channel>`` on the communication and records the result.
What a batch writes in Odoo's mail stack (notes, the e-mails' outgoing mails) is written together
at its end (dunning_send_chatter.py).

A channel sender returns a dict (``ChannelResult`` keys below) or raises: a UserError (or any
exception) marks the communication failed with the reason and gives the responsible user a
task; ``{"cancelled": reason}`` cancels it without failure (e.g. an SMS opt-out covered by the
level's e-mail).
"""
import logging
from datetime import timedelta

import psycopg2.errors
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import send_window

_logger = logging.getLogger(__name__)

SEND_BATCH_SIZE = 100
#: {communication id: the previous message it states} of a batch, read once for its rendering
PREVIOUS_KEY = "dunning_previous"
#: the statements its letters and e-mails state, shared by the messages of a step
STATEMENTS_KEY = "dunning_statements"
#: What a channel sender may return (all optional): what was sent, for the record
RESULT_KEYS = {
    "subject": "subject of what was sent (or of the task)",
    "body": "HTML of what was sent (sanitised when stored)",
    "recipients": "who it went to, in words (addresses, number, postal address, user)",
    "mail_message_id": "the chatter message that carried it (its notifications tell delivery)",
    "activity_id": "the task created for staff",
    "attachment_ids": "ids of the files sent (their checksums are sealed)",
    "delivery_state": "the delivery state right after sending (default: sent)",
    "cancelled": "a reason: not sent, without failure (the communication is cancelled)",
}


def batch_store(cr):
    """What a send batch prepares for its communications (letters rendering, e-mails rendered,
    chatter notes to write) and the flag of the sending code path, kept on the cursor: unlike
    ``cr.cache``, a failed communication's savepoint rollback does not wipe it, and nothing an
    RPC caller sends reaches it."""
    store = getattr(cr, "_dunning_batch", None)
    if store is None:
        store = cr._dunning_batch = {}
    return store


class DunningSend(models.AbstractModel):
    _name = "dunning.send"
    _description = "Dunning Sender"

    # ---------------------------------------------------------------- the run
    @api.model
    def _dunning_run(self, commit=False):
        """The run: delivery news, thanks for what was paid, plan, then send what is due, for
        the current companies (the cron: every company). With ``commit``, progress is committed
        after each batch (cron progress API). Returns the communications it planned."""
        self._dunning_sync_delivery()
        self.env["dunning.plan"]._dunning_thank_paid()
        planned = self.env["dunning.plan"]._dunning_plan()
        self._dunning_send_due(commit=commit)
        return planned

    @api.model
    def _dunning_send_due(self, commit=False, limit=None):
        """Send every scheduled communication whose moment has come, in batches. With commit,
        progress is committed after each batch, so an interrupted run loses at most one batch,
        which the next run sends: nothing leaves twice."""
        todo = self.env["dunning.communication"].search(
            [("state", "=", "scheduled"), ("scheduled_at", "<=", fields.Datetime.now())],
            order="scheduled_at, id", limit=limit)
        done = 0
        for start in range(0, len(todo), SEND_BATCH_SIZE):
            batch = todo[start:start + SEND_BATCH_SIZE]
            self._dunning_send_batch(batch)
            done += len(batch)
            if commit:
                left = self.env["ir.cron"]._commit_progress(len(batch), remaining=len(todo) - done)
                if not left:
                    break
        # the charges the run's messages stated: one fee invoice per customer
        self.env["dunning.charge"]._dunning_book()
        return done

    # ---------------------------------------------------------------- a batch
    @api.model
    def _dunning_send_batch(self, comms):
        """Send these communications. Rows locked by another run are skipped (that run sends
        them); rows no longer scheduled once locked are skipped too: at most once."""
        locked = comms.try_lock_for_update()
        scheduled = locked.filtered(lambda c: c.state == "scheduled")
        # under the lock, whatever changed since planning: invoices promised, disputed,
        # excluded or paused since leave the message (which is cancelled when none is left)
        self._dunning_withdraw_blocked(scheduled)
        scheduled = scheduled.filtered(lambda c: c.state == "scheduled")
        # the amounts as of now (a partial payment since planning), before letters render them
        scheduled.line_ids._dunning_refresh_amounts()
        # the late payment charges the messages state, computed on those amounts
        self.env["dunning.charge"]._dunning_prepare(scheduled)
        # the customer link each message gives, issued now and kept with the record
        self._dunning_issue_customer_urls(scheduled)
        # their letters and e-mails rendered now (nothing of the batch has left yet): the
        # previous message each states is read for all of them at once, and the e-mail and
        # letter of a step share their statement
        store = batch_store(self.env.cr)
        store[PREVIOUS_KEY] = self.env["dunning.message"]._dunning_previous_of(scheduled)
        store[STATEMENTS_KEY] = {}
        try:
            scheduled._dunning_prerender_letters()
            scheduled._dunning_prerender_mails()
        finally:
            store.pop(PREVIOUS_KEY, None)
            store.pop(STATEMENTS_KEY, None)
        cache = {"prepared": set(scheduled.ids)}  # and company closures, read once
        traits = self.env["dunning.level.channel"]._dunning_channel_traits()
        # the letters render in the background meanwhile: every other channel goes first
        order = locked.sorted(lambda c: (traits[c.channel].letter,
                                         c.scheduled_at or fields.Datetime.now(), c.id))
        # e-mails join Odoo's outgoing queue (sent right after by its queue manager, whose
        # run is triggered below) instead of one SMTP session each inside the batch
        order = order.with_context(mail_notify_force_send=False)
        try:
            with self._dunning_chatter_batch():
                for comm in order:
                    comm.invalidate_recordset(["state"])
                    if comm.state != "scheduled":
                        continue
                    self._dunning_send_one(comm, cache)
            if order.filtered(lambda c: c.mail_message_id and c.delivery_state == "pending"):
                self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
        finally:
            # letters of communications not sent in this batch are not kept for later
            for key in ("dunning_letters", "dunning_letter_runs"):
                for comm_id in locked.ids:
                    store.get(key, {}).pop(comm_id, None)
            store.pop("dunning_mails", None)

    @api.model
    def _dunning_withdraw_blocked(self, comms):
        """Take out of these planned messages every invoice that may not be reminded now
        (promised, disputed, excluded, paused, blocked), whatever changed since planning."""
        reminders = comms.filtered(lambda c: c.kind == "reminder"
                                   and c.state in ("to_review", "scheduled"))
        blocked = reminders.line_ids.move_id.filtered(lambda m: m._dunning_blocked_reason())
        if blocked:
            blocked._dunning_withdraw_planned(reminders)

    @api.model
    def _dunning_issue_customer_urls(self, comms):
        """Issue the link each message gives the customer (kept with the record)."""
        for comm in comms:
            if not comm.sudo().customer_url:
                comm._dunning_sys_write({"customer_url": comm._dunning_customer_url()})

    @api.model
    def _dunning_send_and_report(self, comms, title):
        """Send the scheduled ones of these communications now and say what happened, in a
        notification (the user's language): what left, what the send window moved (to when
        and why), what failed or was cancelled, what was not scheduled."""
        todo = comms.filtered(lambda c: c.state == "scheduled")
        store = batch_store(self.env.cr)
        moved = store["dunning_window_moved"] = {}
        try:
            self.env["dunning.send"]._dunning_send_batch(todo)
            self.env["dunning.charge"]._dunning_book()
        finally:
            store.pop("dunning_window_moved", None)
        words = self.env["dunning.send.window"]
        states = dict(comms._fields["state"]._description_selection(self.env))
        lines, level = [], 0  # 0: all sent, 1: something did not leave, 2: something failed
        for comm in comms:
            if comm.id in moved:
                level = max(level, 1)
                lines.append(self.env._("%(name)s moved to %(when)s", name=comm.name,
                                        when=words._dunning_words(moved[comm.id])))
            elif comm not in todo:
                level = max(level, 1)
                lines.append(self.env._("%(name)s not sent: it is %(state)s, not scheduled",
                                        name=comm.name, state=states[comm.state]))
            elif comm.state == "sent" and comm.window_forced_by_id:
                lines.append(self.env._("%s sent outside the send window", comm.name))
            elif comm.state == "sent":
                lines.append(self.env._("%s sent", comm.name))
            elif comm.state == "failed":
                level = 2
                lines.append(self.env._("%(name)s failed: %(reason)s", name=comm.name,
                                        reason=comm.failure_reason or ""))
            elif comm.state == "cancelled":
                level = max(level, 1)
                lines.append(self.env._("%(name)s cancelled: %(reason)s", name=comm.name,
                                        reason=comm.failure_reason or ""))
            else:  # still scheduled and not moved: locked by another run, which sends it
                level = max(level, 1)
                lines.append(self.env._("%s not sent now: another run is sending it", comm.name))
        worst = ("success", "warning", "danger")[level]
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": worst,
            "title": title,
            "message": "\n".join(lines),
            "sticky": worst != "success",
            "className": "text-prewrap",
            "next": {"type": "ir.actions.client", "tag": "soft_reload"},
        }}

    # ---------------------------------------------------------------- one communication
    @api.model
    def _dunning_send_one(self, comm, cache=None):
        cache = cache if cache is not None else {}
        if self._dunning_recheck_window(comm, cache):
            return
        if comm.id not in cache.get("prepared", ()):
            # sent alone (not prepared by a batch): the same checks as a batch makes
            self._dunning_withdraw_blocked(comm)
            if comm.state != "scheduled":
                return
            comm.line_ids._dunning_refresh_amounts()
            self.env["dunning.charge"]._dunning_prepare(comm)
            self._dunning_issue_customer_urls(comm)
        if comm.kind in ("reminder", "returned") and not comm.line_ids.filtered("is_open"):
            comm._dunning_sys_write({
                "state": "cancelled",
                "failure_reason": self.env._("Every invoice was paid or settled before sending."),
            })
            return
        method = getattr(comm, f"_dunning_send_{comm.channel}", None)
        try:
            with self.env.cr.savepoint():
                if method is None:
                    raise UserError(self.env._("No sender for the channel '%s'.", comm.channel))
                result = method() or {}
                if result.get("cancelled"):
                    self._dunning_mark_cancelled(comm, result["cancelled"])
                else:
                    self._dunning_mark_sent(comm, result)
        except psycopg2.errors.TransactionRollbackError:
            # a concurrent sender moved this customer's chain first: the whole transaction is
            # retried (nothing has left: e-mails and SMS wait in Odoo's queues until commit)
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is recorded, the run goes on
            _logger.info("Dunning communication %s failed: %s", comm.name, exc)
            self._dunning_mark_failed(comm, exc)

    @api.model
    def _dunning_recheck_window(self, comm, cache=None):
        """At send time the window is checked again: a message planned for 17:55 and reached at
        18:20 (a slow run, a Send Now at night) is moved to the next allowed moment, not sent.
        Returns True when it was moved.

        A dunning manager's *Send Anyway* (``dunning.communication.action_send_anyway``) puts
        the communication in the cursor's ``dunning_window_bypass`` (out of reach of any value
        or context key a caller sends): it then leaves outside the window, unless it is 21:00 or
        later or a closed day for the customer, and the record keeps who forced it and when
        (sealed with it). The facts of a move are kept for *Send Now*'s answer when it asks
        (``dunning_window_moved``)."""
        now = fields.Datetime.now().replace(microsecond=0)
        partner, company, policy = comm.partner_id, comm.company_id, comm.policy_id
        tz, _source = self.env["dunning.plan"]._dunning_timezone_for(partner, company,
                                                                      comm.channel)
        # from the day before: the customer's local date may still be yesterday's in UTC
        closed = partner._dunning_closed_days(company, now.date() - timedelta(days=1),
                                              now.date() + timedelta(days=400), cache)
        store = batch_store(self.env.cr)
        forced_by = store.get("dunning_window_bypass", {}).get(comm.id)
        try:
            slot, facts = send_window.next_allowed_moment(now, tz, policy._dunning_window_rules(),
                                                          closed)
        except ValueError:  # rules that fit no moment: nothing to move it to, as before
            slot, facts = now, []
        if slot <= now + timedelta(minutes=1):
            if comm.window_forced_by_id:  # forced once (then failed, retried): not this time
                comm._dunning_sys_write({"window_forced_by_id": False, "window_forced_at": False})
            return False
        if forced_by and not send_window.forcing_refused(now, tz, closed):
            comm._dunning_sys_write({"window_forced_by_id": forced_by, "window_forced_at": now})
            return False
        if store.get("dunning_window_moved") is not None:
            store["dunning_window_moved"][comm.id] = facts
        words = self.env["dunning.send.window"]
        lang = words._dunning_lang(partner)
        comm._dunning_sys_write({
            "scheduled_at": slot, "partner_tz": tz,
            "schedule_reason": self.with_context(lang=lang).env._(
                "Moved at send time: %s", words._dunning_words(facts, lang)),
        })
        return True

    @api.model
    def _dunning_mark_sent(self, comm, result):
        now = fields.Datetime.now()
        vals = {
            "sent_at": now,
            "amount_total": sum(comm.line_ids.filtered("is_open").mapped("amount_residual_company")),
            "delivery_state": result.get("delivery_state", "sent"),
        }
        for key in ("subject", "body", "recipients", "mail_message_id", "activity_id"):
            if key in result:
                vals[key] = result[key]
        if result.get("attachment_ids"):
            vals["attachment_ids"] = [fields.Command.set(result["attachment_ids"])]
        # no tracking message: the e-mail or the note posted here already says it left
        comm = comm.with_context(tracking_disable=True)
        comm._dunning_sys_write(vals)
        self.env["dunning.charge"]._dunning_on_sent(comm)
        comm._dunning_seal()
        comm._dunning_sys_write({"state": "sent"})
        comm.line_ids.move_id._dunning_set_state(dunning_last_date=now)
        comm._dunning_log_in_chatter()

    @api.model
    def _dunning_mark_cancelled(self, comm, reason):
        """The channel decided not to send, without it being a failure (an SMS opt-out)."""
        comm._dunning_sys_write({"state": "cancelled", "failure_reason": reason})
        comm.message_post(body=Markup("<p>%s</p>") % self.env._(
            "%(level)s by %(channel)s skipped: %(reason)s",
            level=comm.level_id.name, channel=comm._channel_label(), reason=reason),
            subtype_xmlid="mail.mt_note")

    @api.model
    def _dunning_mark_failed(self, comm, exc):
        reason = exc.args[0] if isinstance(exc, UserError) and exc.args else str(exc)
        comm._dunning_sys_write({"state": "failed", "failure_reason": reason,
                                 "delivery_state": "error"})
        activity = comm.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Dunning message failed: %s", comm.partner_id.display_name),
            note=escape(reason),
            user_id=comm._dunning_responsible_user().id,
        )
        comm._dunning_sys_write({"activity_id": activity.id})
        body = Markup("<p>%s</p><p>%s</p>") % (
            self.env._("%(level)s by %(channel)s could not be sent.",
                       level=comm.level_id.name, channel=comm._channel_label()),
            reason,
        )
        comm.partner_id._message_log(body=body)
        comm.message_post(body=body, subtype_xmlid="mail.mt_note")

    # ---------------------------------------------------------------- delivery news
    @api.model
    def _dunning_sync_delivery(self, comms=None, notification_type=None):
        """Copy what Odoo knows about the delivery of sent messages (mail.notification: queued,
        sent, delivered, bounced, failed) to their communications: ``comms``, or all those
        still waiting for news, of every channel whose traits name a notification type (or of
        ``notification_type``). A failure records the reason and gives the responsible user a
        task; a message resent successfully afterwards clears it. Returns the changed ones."""
        traits = self.env["dunning.level.channel"]._dunning_channel_traits()
        types = {notification_type} if notification_type else \
            {t.notification for t in traits.values() if t.notification}
        changed = self.env["dunning.communication"]
        for ntype in types:
            channels = [name for name, t in traits.items() if t.notification == ntype]
            todo = comms.filtered(lambda c: c.channel in channels) if comms is not None else \
                self.env["dunning.communication"].search([
                    ("state", "=", "sent"), ("channel", "in", channels),
                    ("delivery_state", "in", ("pending", "sent", "error")),
                    ("mail_message_id", "!=", False)])
            todo = todo.filtered("mail_message_id")
            if todo:
                changed |= self._dunning_sync_notifications(todo, ntype)
        return changed

    @api.model
    def _dunning_sync_notifications(self, comms, notification_type):
        notifications = self.env["mail.notification"].sudo().search([
            ("mail_message_id", "in", comms.mail_message_id.ids),
            ("notification_type", "=", notification_type),
        ])
        by_message = notifications.grouped("mail_message_id")
        changed = comms.browse()
        for comm in comms:
            mine = by_message.get(comm.mail_message_id.sudo(), notifications.browse())
            statuses = set(mine.mapped("notification_status"))
            if not statuses:
                continue
            state = self._dunning_delivery_of(notification_type, statuses)
            if state == comm.delivery_state:
                continue
            vals = {"delivery_state": state}
            failed = state in ("bounced", "error")
            if failed:
                vals["failure_reason"] = self._dunning_delivery_failure(
                    notification_type, mine.filtered(
                        lambda n: n.notification_status in ("bounce", "exception", "canceled"))[:1])
            elif comm.delivery_state in ("bounced", "error"):
                vals["failure_reason"] = False  # resent successfully
            comm.with_context(tracking_disable=True)._dunning_sys_write(vals)
            if failed:
                comm._dunning_sys_write({"activity_id": comm.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Dunning %(channel)s not delivered: %(customer)s",
                                       channel=comm._channel_label(),
                                       customer=comm.partner_id.display_name),
                    note=escape(vals["failure_reason"]),
                    user_id=comm._dunning_responsible_user().id).id})
            changed |= comm
        return changed

    @api.model
    def _dunning_delivery_of(self, notification_type, statuses):
        """The delivery state the statuses of a message's notifications say (e-mail: "sent"
        means handed to the mail server)."""
        if "bounce" in statuses:
            return "bounced"
        if statuses & {"exception", "canceled"}:
            return "error"
        if statuses & {"ready", "process"}:
            return "pending"
        return "sent"

    @api.model
    def _dunning_delivery_failure(self, notification_type, notification):
        """Why a message was not delivered, in words."""
        why = notification.failure_reason or dict(
            notification._fields["failure_type"]._description_selection(self.env)).get(
            notification.failure_type) or notification.notification_status
        return self.env._("The e-mail to %(address)s was not delivered: %(why)s",
                          address=notification.res_partner_id.email or "", why=why)
