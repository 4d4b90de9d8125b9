from odoo import models
from odoo.exceptions import UserError

from .dunning_send import batch_store


class DunningChannelEmail(models.AbstractModel):
    """The e-mail channel, inherited by dunning.communication: recipients, the template
    rendered in the customer's language (per batch when it can), the invoices attached, the
    message posted on the communication (Odoo's mail queue sends it; its notifications tell
    the delivery)."""

    _name = "dunning.channel.email"
    _description = "Dunning Channel: E-mail"

    def _dunning_recipients(self):
        """Where e-mail goes: the customer's contacts marked for dunning, else the customer."""
        partner = self.partner_id
        contacts = partner.child_ids.filtered(lambda p: p.dunning_contact and p.email)
        recipients = contacts or (partner if partner.email else partner.browse())
        if not recipients:
            raise UserError(self.env._("%s has no e-mail address.", partner.display_name))
        return recipients

    def _dunning_render(self, template):
        """Subject, body and sender of a template for this communication, in the customer's
        language (prepared for the whole batch by _dunning_prerender_mails when it can)."""
        rendered = batch_store(self.env.cr).get("dunning_mails", {}).pop(
            (self.id, template.id), None)
        if rendered:
            return rendered
        lang = self.partner_id.lang or self.env.lang
        template = template.with_context(lang=lang)
        try:
            return (template._render_field("subject", self.ids, compute_lang=True)[self.id],
                    template._render_field("body_html", self.ids, compute_lang=True)[self.id],
                    template._render_field("email_from", self.ids)[self.id])
        except Exception as exc:
            raise UserError(self.env._("The template '%(tpl)s' could not be rendered: %(err)s",
                                       tpl=template.name, err=exc)) from exc

    def _dunning_mail_template(self):
        """The e-mail template this communication sends, if its channel sends one (a letter
        goes by e-mail when its channel has a template)."""
        self.ensure_one()
        if not self.env["dunning.level.channel"]._dunning_traits_of(self.channel).mail_template:
            return self.env["mail.template"]
        return self.mail_template_id or self.channel_config_id.mail_template_id

    def _dunning_prerender_mails(self):
        """Render the e-mails of a batch per template, all records at once, the body's QWeb
        compiled once for all of them (mail_template.py: Odoo compiles it again for each
        record), the customers' statements read together beforehand, and what
        ``message_post`` would look up for each message (reply-to, alias domain, company)
        computed for all of them with Odoo's batch methods. A template that fails here is
        rendered again per record at send time, where the failure is recorded."""
        cache = batch_store(self.env.cr).setdefault("dunning_mails", {})
        by_template = {template: comms for template, comms
                       in self.grouped(lambda c: c._dunning_mail_template()).items()
                       if template and len(comms) > 1}
        if by_template:
            self.env["dunning.statement"]._dunning_statement_prefetch(
                self.browse([c.id for comms in by_template.values() for c in comms]))
        for template, comms in by_template.items():
            template = template.with_context(dunning_render_once=True)
            try:
                with self.env.cr.savepoint():
                    subjects = template._render_field("subject", comms.ids, compute_lang=True)
                    bodies = template._render_field("body_html", comms.ids, compute_lang=True)
                    senders = template._render_field("email_from", comms.ids)
            except Exception:  # noqa: BLE001 - see the docstring
                continue
            for comm_id in comms.ids:
                cache[(comm_id, template.id)] = (subjects[comm_id], bodies[comm_id],
                                                 senders[comm_id])
            for comm_id, values in comms._dunning_mail_post_values(senders).items():
                cache[("post", comm_id)] = values

    def _dunning_mail_post_values(self, senders):
        """{communication id: the values ``message_post`` computes record by record when not
        given (``record_alias_domain_id``, ``record_company_id``, ``reply_to``)} for the
        e-mails of these communications (``senders``: their rendered sender), computed in
        one go by Odoo's batch methods, for the author and sender ``_dunning_send_mail``
        gives (the company, the template's sender)."""
        Thread = self.env["mail.thread"]
        froms, authors = {}, {}
        for comm in self:
            authors[comm.id], froms[comm.id] = Thread._message_compute_author(
                comm.company_id.partner_id.id, senders.get(comm.id) or None)
        aliases = self.sudo()._mail_get_alias_domains(default_company=self.env.company)
        companies = self._mail_get_companies(default=self.env.company)
        reply_to = self._notify_get_reply_to_batch(defaults=froms, author_ids=authors)
        return {comm.id: {"record_alias_domain_id": aliases[comm.id].id,
                          "record_company_id": companies[comm.id].id,
                          "reply_to": reply_to[comm.id]} for comm in self}

    def _dunning_invoice_attachments(self):
        attachments = self.env["ir.attachment"]
        for move in self.line_ids.filtered("is_open").move_id:
            if move.invoice_pdf_report_id:
                attachments |= move.invoice_pdf_report_id
                continue
            content, _fmt = self.env["ir.actions.report"]._render_qweb_pdf(
                "account.account_invoices", [move.id])
            attachments |= self.env["ir.attachment"].create({
                "name": f"{move._get_invoice_report_filename()}",
                "raw": content, "res_model": "account.move", "res_id": move.id,
                "mimetype": "application/pdf",
            })
        return attachments

    def _dunning_statement_attachment(self):
        """The customer's statement of account with the company (the invoices this message
        is about in bold), as a file of this communication, when its channel asks for it."""
        if not self.channel_config_id.attach_statement:
            return self.env["ir.attachment"]
        content, filename = self.env["dunning.statement"]._dunning_statement_pdf(
            self.partner_id, self.company_id, highlight=self.line_ids.filtered("is_open").move_id)
        return self.env["ir.attachment"].create({
            "name": filename, "raw": content, "res_model": self._name, "res_id": self.id,
            "mimetype": "application/pdf" if filename.endswith(".pdf") else "text/html",
        })

    def _dunning_send_mail(self, template, attachments):
        """Post the e-mail (the e-mail channel, a letter's covering e-mail) with its files,
        the statement of account among them when the channel attaches it."""
        recipients = self._dunning_recipients()
        attachments |= self._dunning_statement_attachment()
        subject, body, email_from = self._dunning_render(template)
        # the company writes to its customer (named here: Odoo would otherwise look a partner
        # up by the sender's address, for every message); in a send batch, the outgoing mails
        # of its e-mails are created together at its end (dunning_send_chatter.py)
        poster = self.with_context(lang=self.partner_id.lang, dunning_mail_post=True)
        # what the batch computed for it (_dunning_prerender_mails), else Odoo computes it
        post_values = batch_store(self.env.cr).get("dunning_mails", {}).pop(("post", self.id), {})
        message = poster.message_post(
            body=body, subject=subject, partner_ids=recipients.ids,
            attachment_ids=attachments.ids, subtype_xmlid="mail.mt_comment",
            message_type="comment", email_from=email_from or None,
            author_id=self.company_id.partner_id.id, **post_values,
        )
        return {
            "subject": subject, "body": body, "mail_message_id": message.id,
            "recipients": ", ".join(recipients.mapped("email_formatted")),
            "attachment_ids": attachments.ids, "delivery_state": "pending",
        }

    def _dunning_send_email(self):
        template = self._dunning_mail_template()
        if not template:
            raise UserError(self.env._("Level '%s' has no e-mail template.", self.level_id.name))
        attachments = self._dunning_invoice_attachments() \
            if self.channel_config_id.attach_invoices else self.env["ir.attachment"]
        return self._dunning_send_mail(template, attachments)
