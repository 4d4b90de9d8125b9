"""What a case file (for the agency) or an evidence bundle (for the company's lawyer) says, as
values the report (report/dunning_casefile_report.xml) words: the debt, who the customer is
and how they were reached, every sent communication with its events and proofs, the
customer's disputes and promises, and the state of the sealed record now.

One generator for both: the scope is a customer with a company, optionally narrowed to some
invoices (an invoice's bundle: that invoice's communications) or given by an agency case.
The files (PDF, ZIP) are built in dunning_casefile_files.py.
"""
import json
from datetime import timezone
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools.mail import html_to_inner_content

from odoo.addons.base.models.ir_actions_report import _wkhtml

from ..tools.casefile import sha256
from .dunning_statement import OWED_CHARGE_STATES

#: the invoice fields whose changes tell the customer's answers (their chatter tracking)
ANSWER_FIELDS = ("dunning_dispute_state", "dunning_dispute_reason", "dunning_dispute_answer",
                 "dunning_promise_state", "dunning_promise_date", "dunning_paused_until",
                 "dunning_excluded", "dunning_exclusion_reason")


class DunningCasefile(models.AbstractModel):
    _name = "dunning.casefile"
    _description = "Dunning Case File (values)"

    # ------------------------------------------------------------------ scope
    @api.model
    def _dunning_check_user(self):
        if not (self.env.su or self.env.user.has_group("dunning_chain.group_dunning_user")):
            raise AccessError(self.env._("Only dunning users gather the evidence of a debt."))

    @api.model
    def _dunning_scope(self, partner, company, moves=None, case=None):
        """The records a case file or bundle covers: ``comms`` (sent communications: the
        customer's with the company, or those covering ``moves``), ``moves`` (the invoices
        claimed: the case's, the given ones, else the customer's open invoices), ``attached``
        (every invoice whose PDF goes in the ZIP: those and the ones the communications
        covered)."""
        self._dunning_check_user()
        partner = partner.commercial_partner_id
        Comm = self.env["dunning.communication"]
        domain = [("partner_id", "=", partner.id), ("company_id", "=", company.id),
                  ("state", "=", "sent")]
        if case:
            moves = case.move_ids
        elif moves:
            domain.append(("line_ids.move_id", "in", moves.ids))
        else:
            moves = self.env["account.move"].search(
                self.env["account.move"]._dunning_open_domain(partner)
                + [("company_id", "=", company.id)])
        comms = Comm.search(domain, order="sent_at, id")
        attached = moves | comms.line_ids.move_id
        return {"partner": partner, "company": company, "case": case or self.env[
            "dunning.agency.case"], "moves": moves, "comms": comms,
            "attached": attached.sorted(lambda m: (m.invoice_date or m.date, m.id)),
            "invoice_scope": bool(moves) and not case and moves != attached}

    # ------------------------------------------------------------------ times
    @api.model
    def _dunning_tz(self, partner, company):
        tz, _source = self.env["dunning.plan"]._dunning_timezone_for(partner, company, "email")
        return tz or "UTC"

    @api.model
    def _dunning_moment(self, moment, tz):
        """{'local': '2026-03-02 11:00 CET', 'utc': '2026-03-02 10:00 UTC'} of a naive UTC
        datetime."""
        if not moment:
            return {"local": "", "utc": ""}
        aware = moment.replace(tzinfo=timezone.utc)
        local = aware.astimezone(ZoneInfo(tz))
        return {"local": f"{local:%Y-%m-%d %H:%M} {local.tzname()}",
                "utc": f"{aware:%Y-%m-%d %H:%M:%S} UTC"}

    # ------------------------------------------------------------------ values
    @api.model
    def _dunning_casefile_values(self, scope):
        partner, company = scope["partner"], scope["company"]
        tz = self._dunning_tz(partner, company)
        now = fields.Datetime.now()
        return {
            "partner": partner, "company": company, "case": scope["case"], "tz": tz,
            "generated": self._dunning_moment(now, tz),
            "debt": self._dunning_debt(scope["moves"]),
            "identity": self._dunning_identity(partner),
            "contacts_tried": self._dunning_contacts_tried(scope["comms"]),
            "timeline": [self._dunning_timeline_row(comm, tz) for comm in scope["comms"]],
            "answers": self._dunning_answers(scope["attached"], tz),
            "record": self._dunning_record_state(partner, company, scope["comms"], tz),
            "invoice_scope": scope["invoice_scope"],
            "moves": scope["moves"],
        }

    @api.model
    def _dunning_debt(self, moves):
        """One row per invoice claimed (amounts in its currency) and totals per currency."""
        today = fields.Date.context_today(self)
        charges = self.env["dunning.charge"].sudo().search([
            ("move_id", "in", moves.ids), ("state", "in", OWED_CHARGE_STATES)])
        rows, totals = [], {}
        for move in moves.sorted(lambda m: (m.invoice_date_due or m.date, m.name or "")):
            own = charges.filtered(lambda c, m=move: c.move_id == m)
            due = move.invoice_date_due
            row = {"move": move, "currency": move.currency_id, "due": due,
                   "days_late": max((today - due).days, 0) if due else 0,
                   "total": move.amount_total, "residual": move.amount_residual,
                   "charges": sum(own.mapped("amount")), "charge_records": own,
                   "paid": move.payment_state}
            rows.append(row)
            total = totals.setdefault(move.currency_id, {
                "currency": move.currency_id, "total": 0.0, "residual": 0.0, "charges": 0.0})
            for key in ("total", "residual", "charges"):
                total[key] += row[key]
        return {"rows": rows, "totals": sorted(totals.values(), key=lambda t: t["currency"].name),
                "today": today}

    @api.model
    def _dunning_identity(self, partner):
        """The customer and its contacts (addresses, e-mails, phones)."""
        contacts = partner.child_ids.filtered("active").sorted(
            lambda c: ({"invoice": 0, "contact": 1}.get(c.type, 2), c.name or ""))
        return {"partner": partner,
                "contacts": [(contact, self._dunning_address(contact)) for contact in contacts],
                "vat_label": partner.country_id.vat_label or self.env._("VAT"),
                "lang": dict(self.env["res.lang"].get_installed()).get(partner.lang, partner.lang)}

    @api.model
    def _dunning_address(self, partner):
        """A postal address on one line."""
        lines = partner._display_address(without_company=True).splitlines()
        return ", ".join(line.strip(" ,") for line in lines if line.strip(" ,"))

    @api.model
    def _dunning_contacts_tried(self, comms):
        """How the customer was reached: per channel and address, how many times, first and
        last, the delivery states learnt."""
        groups = {}
        states = dict(comms._fields["delivery_state"]._description_selection(self.env))
        traits = self.env["dunning.level.channel"]._dunning_channel_traits()
        for comm in comms:
            key = (comm.channel, (comm.recipients or "").strip())
            address = key[1] or "-"
            if traits.get(comm.channel) and traits[comm.channel].task:
                address = self.env._("task for %s", address)
            group = groups.setdefault(key, {"channel": comm._channel_label(),
                                            "address": address, "count": 0,
                                            "first": comm.sent_at, "last": comm.sent_at,
                                            "states": []})
            group["count"] += 1
            group["last"] = comm.sent_at
            label = states.get(comm.delivery_state, comm.delivery_state)
            if label not in group["states"]:
                group["states"].append(label)
        return list(groups.values())

    @api.model
    def _dunning_timeline_row(self, comm, tz):
        comm_tz = comm.partner_tz or tz
        states = dict(comm._fields["delivery_state"]._description_selection(self.env))
        kinds = dict(comm.event_ids._fields["kind"]._description_selection(self.env))
        events = [{"kind": kinds.get(event.kind, event.kind), "at": self._dunning_moment(
            event.at, comm_tz), "description": event.description or ""}
            for event in comm.event_ids.sorted("id")]
        proofs = []
        if hasattr(comm, "_dunning_proofs"):  # certified letters' proofs (another addon part)
            for proof in comm._dunning_proofs():
                proofs.append({"name": proof.name, "sha256": self._dunning_sha256(proof),
                               "at": self._dunning_moment(proof.create_date, comm_tz)})
        return {
            "comm": comm, "sent": self._dunning_moment(comm.sent_at, comm_tz), "tz": comm_tz,
            "channel": comm._channel_label(), "level": comm.level_id.name,
            "delivery": states.get(comm.delivery_state, comm.delivery_state or ""),
            "recipients": comm.recipients or "", "subject": comm.subject or "",
            "invoices": ", ".join(comm.line_ids.move_id.mapped("name")),
            "attachments": [{"name": att.name, "sha256": self._dunning_sha256(att)}
                            for att in comm.attachment_ids],
            "events": events, "proofs": proofs,
        }

    @api.model
    def _dunning_sha256(self, attachment):
        return sha256(attachment.sudo().raw or b"")

    @api.model
    def _dunning_value(self, value):
        if value is True:
            return self.env._("Yes")
        if value is False or value in (None, ""):
            return "-"
        return str(value).removesuffix("Z")

    @api.model
    def _dunning_answers(self, moves, tz):
        """Per invoice: the dispute and promise as they stand, and its chatter (customer
        messages, notes, tracked changes of the dunning fields), oldest first. The chain's own
        "sent" notes are left out: the timeline has them."""
        messages = self.env["mail.message"].sudo().search([
            ("model", "=", "account.move"), ("res_id", "in", moves.ids),
            ("message_type", "in", ("comment", "notification", "email"))], order="date, id")
        by_move = messages.grouped("res_id")
        result = []
        for move in moves:
            history = []
            for message in by_move.get(move.id, []):
                body = message.body or ""
                if 'data-oe-model="dunning.communication"' in body:
                    continue
                changes = [
                    f"{change['fieldInfo']['changedField']}: {self._dunning_value(change['oldValue'])}"
                    f" → {self._dunning_value(change['newValue'])}"
                    for change in message.tracking_value_ids.filtered(
                        lambda t: t.field_id.name in ANSWER_FIELDS)._tracking_value_format()]
                text = " ".join(html_to_inner_content(body).split())
                if not text and not changes:
                    continue
                history.append({"at": self._dunning_moment(message.date, tz),
                                "author": message.author_id.display_name or message.email_from
                                or "", "text": text, "changes": changes})
            standing = (move.dunning_dispute_state != "none" or move.dunning_promise_state != "none"
                        or move.dunning_paused_until or move.dunning_excluded)
            if history or standing:
                result.append({"move": move, "history": history})
        return result

    @api.model
    def _dunning_record_state(self, partner, company, comms, tz):
        """The seals of these communications, the company's last anchor and whether the
        customer's chain verifies now."""
        Evidence = self.env["dunning.evidence"]
        all_sent = self.env["dunning.communication"].sudo().search([
            ("company_id", "=", company.id), ("state", "=", "sent"),
            "|", ("partner_id", "=", partner.id), ("chain_partner_id", "=", partner.id)])
        keys = Evidence._dunning_chain_keys(all_sent) or {(company.id, partner.id)}
        problems = [text for _comm, _code, text in Evidence._dunning_verify(keys)]
        anchor = self.env["dunning.evidence.anchor"].sudo().search(
            [("company_id", "=", company.id)], limit=1)
        anchored_tip = anchor_ok = False
        if anchor:
            payload = json.loads(anchor.payload or "{}")
            anchor_ok = (Evidence._dunning_sign(payload) == anchor.signature
                         and payload.get("key") == Evidence._dunning_key_fingerprint()
                         and anchor._dunning_file_matches(anchor))
            for customer, comm_id, seal in payload.get("tips", []):
                if customer in {key[1] for key in keys}:
                    anchored_tip = {"comm": self.env["dunning.communication"].sudo().browse(
                        comm_id).exists(), "seal": seal}
        return {
            "rows": [{"comm": comm, "previous": comm.previous_hash or "", "hash": comm.hash or "",
                      "events": len(comm.event_ids),
                      "last_event": comm.event_ids.sorted("id")[-1:].hash or ""}
                     for comm in comms],
            "problems": problems, "ok": not problems, "anchor": anchor,
            "anchor_at": self._dunning_moment(anchor.anchored_at, tz) if anchor else {},
            "anchor_ok": anchor_ok, "anchored_tip": anchored_tip,
            "fingerprint": Evidence._dunning_key_fingerprint(),
            "verified": self._dunning_moment(fields.Datetime.now(), tz),
            "chain_count": len(all_sent),
        }


class ReportDunningCasefile(models.AbstractModel):
    """Values of the case file PDF (a report on res.partner: the customer). ``data`` gives the
    scope (company, invoices, case), the title and the files of the ZIP it lists. Builds of
    wkhtmltopdf without Odoo's patched Qt draw no header: the page uses its margins and a font
    of the server (see report/dunning_letter.py)."""

    _name = "report.dunning_chain.report_dunning_casefile"
    _description = "Dunning Case File"

    @api.model
    def _get_report_values(self, docids, data=None):
        Casefile = self.env["dunning.casefile"]
        Casefile._dunning_check_user()
        data = data or {}
        partner = self.env["res.partner"].browse(docids[:1])
        company = self.env["res.company"].browse(data.get("company_id")) or self.env.company
        case = self.env["dunning.agency.case"].browse(data.get("case_id"))
        moves = self.env["account.move"].browse(data.get("move_ids") or [])
        scope = Casefile._dunning_scope(partner, company, moves=moves or None, case=case or None)
        values = Casefile._dunning_casefile_values(scope)
        values.update({
            "doc_ids": docids, "doc_model": "res.partner", "docs": partner,
            "title": data.get("title") or self.env._("Evidence bundle"),
            "reference": data.get("reference") or "",
            "documents": data.get("documents") or [],
            "zip_name": data.get("zip_name") or "",
            "dunning_local_font": not _wkhtml().is_patched_qt,
            "data_report_margin_top": 12, "data_report_margin_bottom": 12,
            "data_report_header_spacing": 0,
        })
        return values
