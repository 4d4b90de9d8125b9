"""The files of a case file or evidence bundle: the PDF (report/dunning_casefile_report.xml)
and a ZIP with the invoices' PDFs, every file sent, every proof, each e-mail as an RFC 5322
``.eml``, the PDF itself and a manifest of SHA-256 digests (tools/casefile.py)."""
from datetime import timezone

from odoo import api, models
from odoo.tools import html2plaintext

from ..tools.casefile import build_zip, eml, safe_name, sha256, unique_path

CASEFILE_REPORT = "dunning_chain.action_report_dunning_casefile"
INVOICE_REPORT = "account.account_invoices"


class DunningCasefileFiles(models.AbstractModel):
    _inherit = "dunning.casefile"

    @api.model
    def _dunning_build(self, partner, company, moves=None, case=None, title=None,
                       reference=None, lang=None):
        """Build the PDF and the ZIP of a scope (see _dunning_scope). Returns a dict:
        ``pdf_name``, ``pdf``, ``zip_name``, ``zip`` (bytes), ``files`` (the ZIP's files but
        the manifest: ``path``, ``content``, ``what``), ``scope``."""
        scope = self._dunning_scope(partner, company, moves=moves, case=case)
        title = title or self.env._("Evidence bundle")
        taken, files = set(), []

        def add(path, content, what):
            files.append({"path": unique_path(path, taken), "content": content, "what": what})

        for move in scope["attached"]:
            content, ext = self._dunning_invoice_pdf(move)
            add(f"invoices/{safe_name(move.name)}.{ext}", content,
                self.env._("Invoice %s", move.name))
        for comm in scope["comms"]:
            folder = f"communications/{safe_name(comm.name)}"
            if self._dunning_is_email(comm):
                add(f"{folder}/{safe_name(comm.name)}.eml", self._dunning_eml(comm),
                    self.env._("E-mail %s as sent", comm.name))
            for attachment in comm.attachment_ids:
                add(f"{folder}/{safe_name(attachment.name)}", attachment.sudo().raw or b"",
                    self.env._("Sent with %s", comm.name))
            if hasattr(comm, "_dunning_proofs"):  # certified letters' proofs, when recorded
                for proof in comm._dunning_proofs():
                    add(f"{folder}/proofs/{safe_name(proof.name)}", proof.sudo().raw or b"",
                        self.env._("Proof of %s", comm.name))
        base = safe_name(" ".join(filter(None, [title, reference or scope["partner"].name])))
        zip_name = f"{base}.zip"
        data = {
            "company_id": company.id, "move_ids": moves.ids if moves else [],
            "case_id": case.id if case else False, "title": title, "reference": reference or "",
            "zip_name": zip_name,
            "documents": [[f["path"], sha256(f["content"]), len(f["content"]), f["what"]]
                          for f in files],
        }
        report = self.env["ir.actions.report"].with_context(lang=lang or self.env.lang)
        pdf, fmt = report._render_qweb_pdf(CASEFILE_REPORT, [scope["partner"].id], data=data)
        pdf_name = f"{base}.{'pdf' if fmt == 'pdf' else 'html'}"
        files.insert(0, {"path": unique_path(pdf_name, taken), "content": pdf, "what": title})
        return {"pdf_name": pdf_name, "pdf": pdf, "zip_name": zip_name, "zip": build_zip(files),
                "files": files, "scope": scope}

    @api.model
    def _dunning_invoice_pdf(self, move):
        """(content, extension) of an invoice: the PDF Odoo keeps of it, else its report."""
        stored = move.sudo().invoice_pdf_report_id
        if stored and stored.raw:
            return stored.raw, "pdf"
        content, fmt = self.env["ir.actions.report"].with_context(
            lang=move.partner_id.lang or self.env.lang)._render_qweb_pdf(INVOICE_REPORT, [move.id])
        return content, "pdf" if fmt == "pdf" else "html"

    @api.model
    def _dunning_is_email(self, comm):
        """Whether the communication left as an e-mail (an e-mail, a letter's covering
        e-mail)."""
        traits = self.env["dunning.level.channel"]._dunning_traits_of(comm.channel)
        return bool(comm.mail_message_id) and traits.notification == "email"

    @api.model
    def _dunning_eml(self, comm):
        """The e-mail as it was sent and sealed: the company writes, to the recipients of the
        record, the sealed subject, body and files, at the moment it was sent."""
        message = comm.mail_message_id.sudo()
        company = comm.company_id
        sender = company.partner_id.email_formatted or message.email_from or company.name
        recipients = comm.recipients or ", ".join(
            message.partner_ids.filtered("email").mapped("email_formatted"))
        attachments = [(attachment.name, attachment.mimetype, attachment.sudo().raw or b"")
                       for attachment in comm.attachment_ids]
        return eml(
            sender=sender, to=recipients, subject=comm.subject or "",
            date=comm.sent_at.replace(tzinfo=timezone.utc), html=comm.body or "",
            text=html2plaintext(comm.body or ""), attachments=attachments,
            message_id=message.message_id or None,
            headers=[("X-Dunning-Reference", comm.name), ("X-Dunning-Seal", comm.hash or "")])
