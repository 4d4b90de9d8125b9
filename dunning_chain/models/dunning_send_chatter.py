"""What a send batch writes in Odoo's mail stack, together at its end (the sender:
dunning_send.py): the notes on customers and invoices, and the e-mails' outgoing mails.

Creating a chatter message costs milliseconds in Odoo's mail stack and a run writes thousands:
what Odoo lets create in one go (messages of a log, mail.mail, mail.notification) is created in
one go per batch. The e-mail itself is still posted by ``message_post`` when its communication
is sent (the chatter message, its recipients, attachments and author as Odoo computes them; its
id is part of the sealed record); only its notification (the outgoing mail to each recipient
and the mail.notification that tells its delivery) waits for the end of the batch, where the
mails of the whole batch are created together, with Odoo's own recipients, layout and values.

Odoo sanitises an HTML field's value at every write, whatever it is (``fields.Html._convert``:
no exception for a ``Markup`` already sanitised): the e-mail's body when its chatter message is
created, the same body again in the sealed record (``dunning.communication.body``, same
options), the same note once per invoice and once for the customer. Within a batch the
sanitiser's result is remembered per (value, options) for the batch (``sanitised_once``): each
text is sanitised once, every field gets exactly what Odoo's sanitiser returns for it.
"""
import contextlib
import threading
from collections import defaultdict

from markupsafe import Markup

from odoo import api, models
from odoo.orm import fields_textual
from odoo.tools import clean_context, split_every

from .dunning_send import batch_store

_html_sanitize = fields_textual.html_sanitize
_batch = threading.local()


def _sanitize_remembered(src, *args, **kwargs):
    """``html_sanitize`` as the HTML fields call it; inside ``sanitised_once`` (this thread's
    send batch), each (value, options) is sanitised once and its result given again."""
    memo = getattr(_batch, "sanitised", None)
    if memo is None or args or not src or not isinstance(src, str):
        return _html_sanitize(src, *args, **kwargs)
    key = (str(src), tuple(sorted(kwargs.items())))
    if key not in memo:
        memo[key] = _html_sanitize(src, **kwargs)
    return memo[key]


@contextlib.contextmanager
def sanitised_once():
    """Within this block (this thread only), HTML fields sanitise each distinct value once."""
    if getattr(_batch, "sanitised", None) is not None:  # nested
        yield
        return
    if fields_textual.html_sanitize is not _sanitize_remembered:
        fields_textual.html_sanitize = _sanitize_remembered
    _batch.sanitised = {}
    try:
        yield
    finally:
        _batch.sanitised = None


class DunningSend(models.AbstractModel):
    _inherit = "dunning.send"

    @contextlib.contextmanager
    def _dunning_chatter_batch(self):
        """The notes a batch posts on its customers and invoices are written together at its
        end, one per record: a customer reached by e-mail and by letter in the same batch gets
        one note naming both (with the attachments), and so does each invoice; the notes
        without files are created in one go. The e-mails posted in the batch get their
        outgoing mails there too (``_dunning_notify_mails``)."""
        cache = batch_store(self.env.cr)
        if "dunning_chatter_notes" in cache:  # nested: the outer batch writes them
            yield
            return
        with sanitised_once():
            yield from self._dunning_chatter_batch_write(cache)

    def _dunning_chatter_batch_write(self, cache):
        notes = cache["dunning_chatter_notes"] = []
        posts = cache["dunning_mail_posts"] = []
        try:
            yield
        finally:
            del cache["dunning_chatter_notes"]
            del cache["dunning_mail_posts"]
        # reached only when the batch went through (an exception skips the writing)
        self._dunning_notify_mails(posts)
        per_partner = defaultdict(lambda: ([], []))
        per_invoice = defaultdict(list)
        for partner_id, move_ids, body, attachment_ids in notes:
            per_partner[partner_id][0].append(body)
            per_partner[partner_id][1].extend(attachment_ids)
            for move_id in move_ids:
                per_invoice[move_id].append(body)
        Partner = self.env["res.partner"]
        plain = {}
        for partner_id, (bodies, attachment_ids) in per_partner.items():
            if attachment_ids:  # Odoo logs files on one record at a time
                Partner.browse(partner_id)._message_log(body=Markup("").join(bodies),
                                                        attachment_ids=attachment_ids)
            else:
                plain[partner_id] = Markup("").join(bodies)
        if plain:
            Partner.browse(list(plain))._message_log_batch(bodies=plain)
        if per_invoice:
            self.env["account.move"].browse(list(per_invoice))._message_log_batch(
                bodies={move_id: Markup("").join(bodies)
                        for move_id, bodies in per_invoice.items()})

    @api.model
    def _dunning_notify_mails(self, posts):
        """Notify the e-mails the batch posted (``posts``: communication, message, message
        values, notification options, as ``_notify_thread`` got them): per message, Odoo's
        recipients, layout and mail values; for all of them, one create of their mail.mail and
        one of their mail.notification (status ready: Odoo's mail queue sends them, the
        delivery states follow). Messages of communications not sent in the end (rolled back
        with their savepoint) are skipped; a message with recipients notified otherwise than
        by e-mail (a follower's inbox, an SMS) is notified by Odoo's own ``_notify_thread``."""
        if not posts:
            return
        comms = self.env["dunning.communication"].browse([comm.id for comm, *_rest in posts])
        comms.invalidate_recordset(["state", "mail_message_id"])
        alive = set(self.env["mail.message"].browse(
            [message.id for _comm, message, *_rest in posts]).exists().ids)
        SafeMail = self.env["mail.mail"].sudo().with_context(clean_context(self.env.context))
        batch_size = int(self.env["ir.config_parameter"].sudo().get_param("mail.batch_size")) or 50
        mail_values, notif_values = [], []
        for comm, message, msg_vals, kwargs in posts:
            if message.id not in alive or comm.mail_message_id != message or \
                    comm.state != "sent":
                continue
            record = comm.with_context(dunning_notify_now=True)._fallback_lang()
            recipients = record._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
            if kwargs or any(r["notif"] != "email" for r in recipients):
                record._notify_thread(message, msg_vals=msg_vals, **kwargs)
                continue
            record._notify_thread_with_out_of_office(message, recipients, msg_vals=msg_vals)
            if not recipients:
                continue
            base = record._notify_by_email_get_base_mail_values(
                message, recipients, additional_values={"auto_delete": True})
            base_notif = record._notify_by_email_get_base_notification_values(message)
            for _lang, render_values, group in record._notify_get_classified_recipients_iterator(
                    message, recipients, msg_vals=msg_vals):
                body = record._notify_by_email_render_layout(
                    message, group, msg_vals=msg_vals, render_values=render_values)
                for chunk in split_every(batch_size, group["recipients_ids"]):
                    mail_values.append(record._notify_by_email_get_final_mail_values(
                        chunk, base, additional_values={"body_html": body}))
                    notif_values.append([{"res_partner_id": pid, **base_notif} for pid in chunk])
                if group["recipients_emails"]:
                    values = record._notify_by_email_get_final_mail_values(
                        [], base, additional_values={"body_html": body})
                    values["email_to"] = ",".join(group["recipients_emails"])
                    mail_values.append(values)
                    notif_values.append([{"mail_email_address": email, **base_notif}
                                         for email in group["recipients_emails"]])
            record._notify_thread_by_web_push(message, recipients, msg_vals=msg_vals)
        if not mail_values:
            return
        mails = SafeMail.create(mail_values)
        self.env["mail.notification"].sudo().with_context(clean_context(self.env.context)).create([
            dict(values, mail_mail_id=mail.id)
            for mail, group in zip(mails, notif_values) for values in group])


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    def _notify_thread(self, message, msg_vals=False, **kwargs):
        """An e-mail posted by a send batch (``dunning_mail_post`` in the context, the batch's
        list on the cursor) is notified at the end of the batch, with the others
        (``dunning.send._dunning_notify_mails``); any other message now, as Odoo does."""
        posts = batch_store(self.env.cr).get("dunning_mail_posts")
        if posts is None or not self.env.context.get("dunning_mail_post") or \
                self.env.context.get("dunning_notify_now") or \
                self._is_notification_scheduled(kwargs.get("scheduled_date")):
            return super()._notify_thread(message, msg_vals=msg_vals, **kwargs)
        self.ensure_one()
        posts.append((self, message, dict(msg_vals or {}), kwargs))
        return []
