import base64
import hashlib
import json
import logging
import os

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from .dunning_evidence import _json

_logger = logging.getLogger(__name__)


class DunningEvidenceAnchor(models.Model):
    """The tips of every chain of a company at a moment, signed, and copied where the
    database's users cannot silently rewrite them: a file in the file store and an e-mail to
    the company's auditor address. A record changed or added behind the chain's back after
    an anchor no longer matches it, even by someone who holds the key."""

    _name = "dunning.evidence.anchor"
    _description = "Dunning Record Anchor"
    _order = "anchored_at desc, id desc"

    name = fields.Char(required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    anchored_at = fields.Datetime(required=True, readonly=True)
    payload = fields.Text(readonly=True, help="The anchored chain tips, as signed (JSON).")
    digest = fields.Char(readonly=True, help="SHA-256 of the payload: compare it with the "
                         "auditor's e-mail and the file.")
    signature = fields.Char(readonly=True)
    chain_count = fields.Integer(string="Chains", readonly=True)
    file_path = fields.Char(readonly=True)
    mailed_to = fields.Char(string="Sent to Auditor", readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su or not self.env.context.get("dunning_anchor_append"):
            raise UserError(self.env._("Anchors are written by the daily anchoring only."))
        return super().create(vals_list)

    def write(self, vals):
        raise UserError(self.env._("An anchor never changes."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Anchors are kept as evidence: they cannot be deleted."))

    # ------------------------------------------------------------------ anchoring
    @api.model
    def _cron_dunning_anchor(self):
        """Daily: anchor the chains of every company whose record moved since its last
        anchor."""
        for company in self.env["res.company"].sudo().search([]):
            self._dunning_anchor(company)

    def action_dunning_anchor_now(self):
        if not self.env.user.has_group("dunning_chain.group_dunning_manager"):
            raise UserError(self.env._("Only dunning managers anchor the record."))
        anchors = self.browse()
        for company in self.env.companies:
            anchors |= self._dunning_anchor(company, force=True)
        return True

    def action_dunning_verify_all(self):
        if not self.env.user.has_group("dunning_chain.group_dunning_user"):
            raise UserError(self.env._("Only dunning users verify the record."))
        Evidence = self.env["dunning.evidence"]
        return Evidence._dunning_verify_answer(Evidence._dunning_verify(companies=self.env.companies))

    @api.model
    def _dunning_payload(self, company, moment):
        Evidence = self.env["dunning.evidence"]
        tips = self.env["dunning.evidence.tip"].sudo()._dunning_tips([company.id])
        self.env["dunning.communication.event"].flush_model()
        self.env.cr.execute("""
            SELECT DISTINCT ON (e.communication_id) e.communication_id, e.hash
              FROM dunning_communication_event e
              JOIN dunning_communication c ON c.id = e.communication_id
             WHERE c.company_id = %s ORDER BY e.communication_id, e.id DESC""", [company.id])
        events = sorted([list(row) for row in self.env.cr.fetchall()])
        return {
            "company": company.id, "at": fields.Datetime.to_string(moment),
            "tips": sorted([customer, comm_id, seal]
                           for (_company, customer), (seal, comm_id) in tips.items()),
            "events": events, "key": Evidence._dunning_key_fingerprint(),
        }

    @api.model
    def _dunning_anchor(self, company, force=False):
        moment = fields.Datetime.now()
        payload = self._dunning_payload(company, moment)
        if not payload["tips"]:
            return self.browse()
        last = self.sudo().search([("company_id", "=", company.id)], limit=1)
        if last and not force:
            previous = json.loads(last.payload)
            if (previous["tips"], previous["events"]) == (payload["tips"], payload["events"]):
                return self.browse()  # nothing moved since
        text = _json(payload)
        digest = hashlib.sha256(text.encode()).hexdigest()
        name = self.env._("Anchor %(company)s %(moment)s", company=company.name,
                          moment=fields.Datetime.to_string(moment))
        path = self._dunning_write_file(company, moment, text)
        anchor = self.sudo().with_context(dunning_anchor_append=True).create({
            "name": name, "company_id": company.id, "anchored_at": moment, "payload": text,
            "digest": digest, "signature": self.env["dunning.evidence"]._dunning_sign(payload),
            "chain_count": len(payload["tips"]), "file_path": path,
            "mailed_to": company.dunning_auditor_email or False,
        })
        if company.dunning_auditor_email:
            self._dunning_mail_auditor(anchor, company, text, digest)
        return anchor

    @api.model
    def _dunning_anchor_dir(self):
        return os.path.join(self.env["ir.attachment"]._filestore(), "dunning_anchors")

    @api.model
    def _dunning_write_file(self, company, moment, text):
        folder = os.path.join(self._dunning_anchor_dir(), str(company.id))
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{moment:%Y%m%dT%H%M%S}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path, 0o444)
        return path

    @api.model
    def _dunning_mail_auditor(self, anchor, company, text, digest):
        body = Markup("<p>%s</p><p>%s <code>%s</code></p>") % (
            self.env._("The dunning record of %(company)s was anchored on %(moment)s UTC: "
                       "%(count)s customer chains.", company=company.name,
                       moment=fields.Datetime.to_string(anchor.anchored_at),
                       count=anchor.chain_count),
            self.env._("Keep this e-mail. Fingerprint (SHA-256 of the attached file):"), digest)
        self.env["mail.mail"].sudo().create({
            "subject": self.env._("Dunning record anchor: %s", anchor.name),
            "body_html": body,
            "email_from": company.email_formatted or self.env.user.email_formatted,
            "email_to": company.dunning_auditor_email,
            "auto_delete": False,
            "attachment_ids": [fields.Command.create({
                "name": os.path.basename(anchor.file_path or "anchor.json"),
                "datas": base64.b64encode(text.encode()), "mimetype": "application/json",
                "res_model": self._name, "res_id": anchor.id,
            })],
        })

    # ------------------------------------------------------------------ verification
    @api.model
    def _dunning_check_anchors(self, companies, chains, positions):
        """Problems the anchors of these companies reveal in the chains being verified:
        [(communication or empty, code)]."""
        Comm = self.env["dunning.communication"].sudo()
        Evidence = self.env["dunning.evidence"]
        problems = []
        fingerprint = Evidence._dunning_key_fingerprint()
        for anchor in self.sudo().search([("company_id", "in", companies.ids)],
                                         order="anchored_at, id"):
            payload = json.loads(anchor.payload or "{}")
            if Evidence._dunning_sign(payload) != anchor.signature:
                problems.append((Comm, "anchor_invalid"))
                continue
            if payload.get("key") != fingerprint:
                problems.append((Comm, "key_changed"))
                continue
            if not self._dunning_file_matches(anchor):
                problems.append((Comm, "anchor_file"))
            anchored = {(anchor.company_id.id, customer): (comm_id, seal)
                        for customer, comm_id, seal in payload.get("tips", [])}
            for key, comms in chains.items():
                if key[0] != anchor.company_id.id:
                    continue
                tip_position = -1
                if key in anchored:
                    comm_id, seal = anchored[key]
                    tip = Comm.browse(comm_id).exists()
                    if not tip or tip.hash != seal or tip.id not in positions:
                        problems.append((tip, "anchor_tip"))
                        continue
                    tip_position = positions[tip.id][1]
                for comm in comms:
                    if (comm.sent_at and comm.sent_at <= anchor.anchored_at
                            and positions.get(comm.id, (key, tip_position + 1))[1] > tip_position):
                        problems.append((comm, "after_anchor"))
            for comm_id, last_event in payload.get("events", []):
                comm = Comm.browse(comm_id).exists()
                key = (comm.company_id.id, comm.chain_partner_id) if comm else None
                if comm and key in chains and last_event not in comm.event_ids.mapped("hash"):
                    problems.append((comm, "event_changed"))
        seen, unique = set(), []
        for comm, code in problems:
            if (comm.id, code) not in seen:
                seen.add((comm.id, code))
                unique.append((comm, code))
        return unique

    def _dunning_file_matches(self, anchor):
        try:
            with open(anchor.file_path or "", encoding="utf-8") as handle:
                return handle.read() == anchor.payload
        except OSError:
            return False
