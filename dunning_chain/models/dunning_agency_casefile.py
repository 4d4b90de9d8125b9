"""The case file of an agency case: built (dunning.casefile), kept on the case, sent to the
agency by e-mail (Odoo's composer, the PDF and the ZIP attached) or downloaded."""
from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from ..tools.casefile import sha256


class DunningAgencyCaseFile(models.Model):
    _inherit = "dunning.agency.case"

    def _dunning_casefile_lang(self):
        self.ensure_one()
        return self.agency_id.lang or self.env.lang

    def _dunning_casefile_generate(self):
        """Build the case file as it stands now, keep its PDF and ZIP on the case and append
        the ZIP's digest to the hand-off's record (what was given to the agency). Returns the
        (PDF, ZIP) attachments."""
        self._dunning_check_user()
        self.ensure_one()
        self.check_access("write")
        lang = self._dunning_casefile_lang()
        built = self.env["dunning.casefile"].with_context(lang=lang)._dunning_build(
            self.partner_id, self.company_id, case=self,
            title=self.with_context(lang=lang).env._("Case file"), reference=self.name, lang=lang)
        Attachment = self.env["ir.attachment"]
        pdf = Attachment.create({"name": built["pdf_name"], "raw": built["pdf"],
                                 "res_model": self._name, "res_id": self.id,
                                 "mimetype": "application/pdf" if built["pdf_name"].endswith(
                                     ".pdf") else "text/html"})
        archive = Attachment.create({"name": built["zip_name"], "raw": built["zip"],
                                     "res_model": self._name, "res_id": self.id,
                                     "mimetype": "application/zip"})
        self.write({"casefile_pdf_id": pdf.id, "casefile_zip_id": archive.id,
                    "casefile_at": fields.Datetime.now()})
        comms = built["scope"]["comms"]
        digest = sha256(built["zip"])
        self._dunning_case_event(
            self.env._("Case file %(name)s built: %(count)s communications, %(files)s files "
                       "(ZIP SHA-256 %(digest)s).", name=built["zip_name"], count=len(comms),
                       files=len(built["files"]), digest=digest),
            {"zip": built["zip_name"], "sha256": digest, "communications": comms.mapped("name")})
        return pdf, archive

    def action_casefile_send(self):
        """Open the composer to the agency with the case file (PDF and ZIP) attached."""
        self._dunning_check_user()
        self.ensure_one()
        if not self.agency_id:
            raise UserError(self.env._("Choose the collection agency or lawyer of case %s "
                                       "first.", self.name))
        if not self.agency_id.email:
            raise UserError(self.env._("%s has no e-mail address: download the case file and "
                                       "hand it over another way.", self.agency_id.display_name))
        pdf, archive = self._dunning_casefile_generate()
        env = self.with_context(lang=self._dunning_casefile_lang()).env
        amount = format_amount(env, self.amount_balance, self.currency_id)
        body = Markup("<p>%s</p><p>%s</p><p>%s</p><p>%s</p>") % (
            env._("Dear %s,", self.agency_id.name),
            env._("We hand over to you the collection of %(amount)s owed by %(customer)s "
                  "(invoices %(invoices)s), our reference %(case)s.", amount=amount,
                  customer=self.partner_id.display_name,
                  invoices=", ".join(self.move_ids.mapped("name")), case=self.name),
            env._("The PDF sums up the debt, who the customer is and how we reached them, every "
                  "communication we sent with its delivery and our sealed record. The ZIP holds "
                  "the invoices, every document sent, the e-mails as sent (.eml) and a manifest "
                  "of SHA-256 digests of its files."),
            env._("Kind regards,"))
        return {
            "type": "ir.actions.act_window", "res_model": "mail.compose.message",
            "view_mode": "form", "target": "new",
            "name": self.env._("Send the Case File"),
            "context": {
                "default_model": self._name, "default_res_ids": self.ids,
                "default_composition_mode": "comment",
                "default_partner_ids": self.agency_id.ids,
                "default_subject": env._("Case file %(case)s: %(customer)s", case=self.name,
                                         customer=self.partner_id.display_name),
                "default_body": body,
                "default_attachment_ids": [pdf.id, archive.id],
                "mail_post_autofollow": False,
            },
        }

    def action_casefile_download(self):
        """Build the case file now and download its ZIP (the PDF is inside)."""
        _pdf, archive = self._dunning_casefile_generate()
        return self._dunning_download(archive)

    def action_casefile_download_pdf(self):
        pdf, _archive = self._dunning_casefile_generate()
        return self._dunning_download(pdf)

    def _dunning_download(self, attachment):
        return {"type": "ir.actions.act_url", "target": "self",
                "url": f"/web/content/{attachment.id}?download=true"}
