"""The evidence of the record: what a sent communication was, sealed in a keyed hash chain.

Every sent communication is sealed with an HMAC-SHA256 (key: ``dunning_chain.evidence_key``, a
system parameter only administrators read) over everything that left and how: level, channel,
policy, recipients, planned and sent moments, subject, body, attachment checksums, amounts per
invoice, the customer link. The seal includes the previous seal of the same chain: one chain per
customer and company (the customer's id is kept as data at sending, so a partner merge leaves the
chain verifiable). What is learnt after sending (delivery, bounce, tracking reference, proof) is
appended as events chained from the communication's seal. Anchors (dunning.evidence.anchor)
copy the tips of every chain out of the table, signed, every day.
"""
import hashlib
import hmac
import json
import secrets
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

KEY_PARAM = "dunning_chain.evidence_key"
# 1: unkeyed SHA-256 of the first snapshot (records sent before keyed seals); 2: keyed
EVIDENCE_VERSION = 2


def _json(payload):
    return json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))


class DunningEvidence(models.AbstractModel):
    """Seal, events and verification of sent communications (inherited by
    dunning.communication)."""

    _name = "dunning.evidence"
    _description = "Dunning Evidence (seal and chain of sent communications)"

    chain_partner_id = fields.Integer(
        string="Chain Customer", readonly=True, copy=False, index=True,
        help="The customer's id when the communication was sent: the chain it belongs to "
             "(kept as data, so that merging customers leaves the record verifiable).")
    evidence_version = fields.Integer(readonly=True, copy=False)
    previous_hash = fields.Char(readonly=True, copy=False)
    hash = fields.Char(readonly=True, copy=False, help="Keyed seal (HMAC-SHA256) of what was sent, "
                       "chained to the previous communication of this customer and company: "
                       "any change shows.")
    event_ids = fields.One2many("dunning.communication.event", "communication_id",
                                string="Events after Sending", readonly=True)

    # ------------------------------------------------------------------ the key
    @api.model
    def _dunning_evidence_key(self):
        """The HMAC key (created on first use: at install by the data file)."""
        params = self.env["ir.config_parameter"].sudo()
        key = params.get_param(KEY_PARAM)
        if not key:
            key = secrets.token_hex(32)
            params.set_param(KEY_PARAM, key)
        return key.encode()

    @api.model
    def _dunning_sign(self, payload):
        return hmac.new(self._dunning_evidence_key(), _json(payload).encode(),
                        hashlib.sha256).hexdigest()

    @api.model
    def _dunning_key_fingerprint(self):
        return self._dunning_sign({"fingerprint": "dunning_chain"})[:16]

    # ------------------------------------------------------------------ the seal
    def _dunning_snapshot(self):
        """Everything that was sent and how, as plain data (dunning_sms adds the SMS text)."""
        self.ensure_one()
        return {
            "v": EVIDENCE_VERSION, "name": self.name, "customer": self.chain_partner_id,
            "company": self.company_id.id, "policy": self.policy_id.id, "kind": self.kind,
            "level": [self.level_id.id, self.level_id.offset_days], "channel": self.channel,
            "recipients": self.recipients or "",
            "scheduled_at": fields.Datetime.to_string(self.scheduled_at),
            "sent_at": fields.Datetime.to_string(self.sent_at),
            "subject": self.subject or "", "body": self.body or "",
            "customer_url": self.sudo().customer_url or "",
            "currency": self.currency_id.name,
            "amount_total": self.currency_id.round(self.amount_total),
            "lines": [[line.move_id.id, line.move_id.name, str(line.due_date or ""),
                       line.currency_id.name, line.amount_residual, line.amount_overdue,
                       line.amount_residual_company, line.is_open]
                      for line in self.line_ids.sorted("id")],
            "attachments": sorted(self.attachment_ids.mapped("checksum")),
            "previous": self.previous_hash or "",
            **self._dunning_snapshot_charges(),
            **self._dunning_snapshot_forced(),
        }

    def _dunning_snapshot_charges(self):
        """The late payment charges the message stated (only when it stated any, so that
        records sealed before charges existed keep their seal)."""
        charges = self.sudo().charge_ids.sorted("id")
        if not charges:
            return {}
        return {"charges": [[c.move_id.id, c.kind, c.currency_id.name, c.amount,
                             str(c.date_from or ""), str(c.date_to or ""), c.formula or ""]
                            for c in charges]}

    def _dunning_snapshot_forced(self):
        """Who had the message sent outside the send window, and when (only when someone did,
        so that records sealed before Send Anyway existed keep their seal)."""
        if not self.window_forced_by_id:
            return {}
        return {"forced": [self.window_forced_by_id.id,
                           fields.Datetime.to_string(self.window_forced_at)]}

    def _dunning_legacy_hash(self):
        """The unkeyed seal of records sent before keyed seals (version 1)."""
        self.ensure_one()
        payload = {
            "name": self.name, "partner": self.chain_partner_id, "company": self.company_id.id,
            "level": self.level_id.id, "channel": self.channel,
            "sent_at": fields.Datetime.to_string(self.sent_at),
            "subject": self.subject or "", "body": self.body or "",
            "recipients": self.recipients or "",
            "amount_total": self.currency_id.round(self.amount_total),
            "lines": [[line.move_id.name, str(line.due_date or ""), self.currency_id.round(
                line.amount_residual_company)] for line in self.line_ids.sorted("id")],
            "attachments": sorted(self.attachment_ids.mapped("checksum")),
            "previous": self.previous_hash or "",
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def _dunning_compute_hash(self):
        self.ensure_one()
        if self.evidence_version == 1:
            return self._dunning_legacy_hash()
        return self._dunning_sign(self._dunning_snapshot())

    def _dunning_seal(self):
        """Append this just-sent communication to its chain: take the chain's tip under a row
        lock (a concurrent sender for the same customer waits, then fails to serialise and
        retries: the chain never forks), link to it and seal."""
        self.ensure_one()
        tip = self.env["dunning.evidence.tip"]._dunning_lock(self.company_id.id,
                                                              self.partner_id.id)
        self._dunning_sys_write({"chain_partner_id": self.partner_id.id,
                                 "evidence_version": EVIDENCE_VERSION,
                                 "previous_hash": tip or False})
        seal = self._dunning_compute_hash()
        self._dunning_sys_write({"hash": seal})
        self.env["dunning.evidence.tip"]._dunning_move(self.company_id.id, self.partner_id.id,
                                                       seal, self.id)
        return seal

    # ------------------------------------------------------------------ events
    def _dunning_record_event(self, kind, description, data=None):
        """Append what was learnt after sending (delivery, bounce, tracking reference,
        proof) to this communication's event chain."""
        self.ensure_one()
        Event = self.env["dunning.communication.event"].sudo()
        last = Event.search([("communication_id", "=", self.id)], order="id desc", limit=1)
        previous = last.hash if last else (self.hash or "")
        at = fields.Datetime.now()
        payload = {"communication": self.name, "kind": kind, "at": fields.Datetime.to_string(at),
                   "description": description, "data": data or {}, "previous": previous}
        return Event.with_context(dunning_event_append=True).create({
            "communication_id": self.id, "at": at, "kind": kind, "description": description,
            "data": _json(data or {}), "previous_hash": previous,
            "hash": self._dunning_sign(payload),
        })

    # ------------------------------------------------------------------ verification
    @api.model
    def _dunning_chain_keys(self, comms):
        """The chains (company id, customer id at sending) these communications belong to."""
        return {(c.company_id.id, c.chain_partner_id or c.partner_id.id) for c in comms}

    @api.model
    def _dunning_verify(self, keys=None, companies=None):
        """Verify chains: every sent communication sealed, matching its seal, linked to the
        chain, its events intact, its proof documents unchanged, and the anchors of these
        companies honoured.

        :param keys: (company id, customer id) chains to verify, else every chain of the
            companies (default: the current companies)
        :return: list of (communication or empty, problem code, text), in chain order
        """
        Comm = self.env["dunning.communication"].sudo()
        if keys is None:
            companies = companies or self.env.companies
            sent = Comm.search([("company_id", "in", companies.ids), ("state", "=", "sent")],
                               order="sent_at, id")
        else:
            keys = set(keys)
            company_ids = {company for company, _customer in keys}
            partner_ids = {customer for _company, customer in keys}
            sent = Comm.search([("company_id", "in", list(company_ids)), ("state", "=", "sent"),
                                "|", ("chain_partner_id", "in", list(partner_ids)),
                                ("partner_id", "in", list(partner_ids))], order="sent_at, id")
            sent = sent.filtered(lambda c: (c.company_id.id, c.chain_partner_id or c.partner_id.id)
                                 in keys)
            companies = sent.company_id | self.env["res.company"].browse(list(company_ids))
        problems = []
        positions = {}  # communication id: (chain key, position in its chain)
        chains = sent.grouped(lambda c: (c.company_id.id, c.chain_partner_id or c.partner_id.id))
        for key, comms in chains.items():
            followers = defaultdict(list)
            for comm in comms:
                if not comm.hash:
                    problems.append((comm, "hash_missing"))
                    continue
                followers[comm.previous_hash or ""].append(comm)
            reached, previous, position = comms.browse(), "", 0
            while followers.get(previous):
                comm = followers[previous].pop(0)
                reached |= comm
                positions[comm.id] = (key, position)
                position += 1
                if comm._dunning_compute_hash() != comm.hash:
                    problems.append((comm, "content_changed"))
                if not comm._dunning_events_intact():
                    problems.append((comm, "event_changed"))
                problems += [(comm, code) for code in comm._dunning_proof_problems()]
                previous = comm.hash
            for comm in comms - reached:
                if comm.hash:
                    problems.append((comm, "link_missing"))
        problems += self.env["dunning.evidence.anchor"]._dunning_check_anchors(
            companies, chains, positions)
        return [(comm, code, self._dunning_problem_text(comm, code))
                for comm, code in problems]

    def _dunning_events_intact(self):
        self.ensure_one()
        previous = self.hash or ""
        for event in self.event_ids.sorted("id"):
            payload = {"communication": self.name, "kind": event.kind,
                       "at": fields.Datetime.to_string(event.at),
                       "description": event.description or "",
                       "data": json.loads(event.data or "{}"), "previous": previous}
            if event.previous_hash != previous or self._dunning_sign(payload) != event.hash:
                return False
            previous = event.hash
        return True

    @api.model
    def _dunning_problem_text(self, comm, code):
        texts = {
            "hash_missing": self.env._("sent without a seal (hash missing)"),
            "content_changed": self.env._("content changed after sending"),
            "link_missing": self.env._("not linked to the chain (a link is missing, forked or "
                                       "forged)"),
            "event_changed": self.env._("an event recorded after sending was changed or "
                                        "removed"),
            "anchor_invalid": self.env._("an anchor's signature does not match"),
            "key_changed": self.env._("the evidence key changed since an anchor"),
            "anchor_file": self.env._("an anchor's copy in the file store is missing or differs"),
            "anchor_tip": self.env._("a communication anchored earlier is gone or changed"),
            "after_anchor": self.env._("dated before an anchor that does not contain it (added "
                                       "afterwards)"),
            "proof_changed": self.env._("a proof document changed after it was recorded"),
            "proof_missing": self.env._("a proof document disappeared after it was recorded"),
        }
        text = texts.get(code, code)
        return f"{comm.name}: {text}" if comm else text

    def _dunning_broken_links(self):
        """Sent communications of these communications' chains that fail verification."""
        broken = self.browse()
        for comm, _code, _text in self._dunning_verify(self._dunning_chain_keys(self)):
            if comm:
                broken |= comm.with_env(self.env)
        return broken

    def action_verify_hash_chain(self):
        """Verify the chains of these communications' customers, and the anchors."""
        if not self.env.user.has_group("dunning_chain.group_dunning_user"):
            raise UserError(self.env._("Only dunning users verify the record."))
        problems = self._dunning_verify(self._dunning_chain_keys(self))
        return self._dunning_verify_answer(problems)

    @api.model
    def _dunning_verify_answer(self, problems):
        if problems:
            raise UserError(self.env._(
                "The record was altered:\n%s", "\n".join(text for _c, _code, text in problems)))
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "title": self.env._("Record intact"),
            "message": self.env._("Every sent communication is sealed, matches its seal and "
                                  "its chain, and the anchors hold."),
        }}

    @api.model
    def _dunning_legacy_tip(self, company_id, partner_id):
        """The tip of a chain sealed before the tip table existed."""
        self.env["dunning.communication"].flush_model(
            ["chain_partner_id", "partner_id", "company_id", "state", "hash", "previous_hash"])
        self.env.cr.execute(SQL("""
            SELECT c.hash FROM dunning_communication c
             WHERE (c.chain_partner_id = %(partner)s
                    OR (c.chain_partner_id IS NULL AND c.partner_id = %(partner)s))
               AND c.company_id = %(company)s AND c.state = 'sent' AND c.hash IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM dunning_communication n
                                WHERE (n.chain_partner_id = %(partner)s
                                       OR (n.chain_partner_id IS NULL
                                           AND n.partner_id = %(partner)s))
                                  AND n.company_id = %(company)s AND n.state = 'sent'
                                  AND n.previous_hash = c.hash)
             ORDER BY c.sent_at DESC, c.id DESC LIMIT 1
        """, partner=partner_id, company=company_id))
        row = self.env.cr.fetchone()
        return row[0] if row else ""
