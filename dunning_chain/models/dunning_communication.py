import contextlib
import io
import logging
import os
import re
import subprocess
import tempfile
from collections import defaultdict, namedtuple
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import lxml.html
import psycopg2.errors
from markupsafe import Markup, escape

from odoo import api, fields, models, modules, tools
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount
from odoo.tools.pdf import OdooPdfFileReader, OdooPdfFileWriter

from odoo.addons.base.models.ir_actions_report import _wkhtml

from ..tools import chain, send_window
from .dunning_level_channel import CHANNELS

_logger = logging.getLogger(__name__)

# An open invoice found by the planner's query, with where it stands in the chain
Candidate = namedtuple("Candidate", [
    "move_id", "partner_id", "company_id", "due_date", "currency_id", "total", "residual",
    "residual_company", "reference", "overdue", "name", "level_id", "due_state",
    "promise_state", "promise_date", "remind_reason"])
# A candidate given a level, with the reason in words
Entry = namedtuple("Entry", ["candidate", "why"])

STATES = [
    ("to_review", "To Review"),
    ("scheduled", "Scheduled"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
DELIVERY_STATES = [
    ("none", "Not sent"),
    ("pending", "Pending"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("opened", "Opened"),
    ("to_post", "To print and post"),
    ("posted", "Posted"),
    ("task", "Task assigned"),
    ("done", "Done"),
    ("bounced", "Bounced"),
    ("error", "Error"),
]
# What was sent: frozen once the communication is sent (evidence, see dunning_evidence.py).
SNAPSHOT_FIELDS = {
    "partner_id", "level_id", "policy_id", "channel", "line_ids", "subject", "body",
    "recipients", "attachment_ids", "sent_at", "amount_total", "hash", "previous_hash",
    "company_id", "scheduled_at", "state", "kind", "name", "currency_id", "customer_url",
    "chain_partner_id", "evidence_version", "mail_message_id", "partner_tz", "schedule_reason",
    "reason", "mail_template_id", "channel_config_id", "delivery_state", "failure_reason",
    "activity_id", "event_ids",
}
# Written by the sending code path only, never by a caller (create or write)
SENDER_FIELDS = {
    "sent_at", "hash", "previous_hash", "chain_partner_id", "evidence_version", "subject",
    "body", "recipients", "attachment_ids", "mail_message_id", "customer_url", "event_ids",
    "delivery_state", "activity_id",
}
PLANNING_STATES = ("to_review", "scheduled")
# After sending, these changes are learnt facts: each one is appended to the record's events
EVENT_FIELDS = ("delivery_state", "failure_reason", "tracking_reference")
SEND_BATCH_SIZE = 100
LETTERS_PER_RUN = 50
# databases whose report assets were built by a letter run of this process
_ASSETS_WARM = set()
LETTER_MARK = re.compile(rb"0\.99607\d* 0\.99215\d* 0\.98431\d* (?:scn|sc|rg)\b")
LETTER_REPORT = "dunning_chain.action_report_dunning_letter"
LETTER_CHANNELS = ("letter", "certified", "handoff")


def _run_letter_job(job):
    """Run wkhtmltopdf for one batch of letters (in a worker thread: no ORM here) and cut the
    PDF at its top-level outlines, one per letter. {communication id: PDF bytes}, or {} when the
    output cannot be cut safely (the letters are then rendered one by one)."""
    with tempfile.TemporaryDirectory(prefix="dunning-letters-") as tmp:
        paths = {}
        for key in ("header", "footer", "body"):
            paths[key] = os.path.join(tmp, f"{key}.html")
            with open(paths[key], "w", encoding="utf-8") as handle:
                handle.write(job[key])
        output = os.path.join(tmp, "letters.pdf")
        process = subprocess.run(
            [_wkhtml().bin, *job["args"], "--header-html", paths["header"],
             "--footer-html", paths["footer"], paths["body"], output],
            capture_output=True, encoding="utf-8", check=False)
        if process.returncode not in (0, 1) or not os.path.exists(output):
            _logger.warning("wkhtmltopdf failed on a batch of letters: %s", process.stderr[-500:])
            return {}
        with open(output, "rb") as handle:
            pdf = handle.read()
    # wkhtmltopdf with unpatched Qt writes neither outlines nor text (glyphs are drawn): each
    # letter opens with a near-white dot, rgb(254, 253, 251), found in the page's drawing
    try:
        reader = OdooPdfFileReader(io.BytesIO(pdf), strict=False)
        starts = [number for number in range(len(reader.pages))
                  if LETTER_MARK.search(reader.pages[number].get_contents().get_data())]
    except Exception:  # noqa: BLE001
        _logger.warning("Could not cut a batch of letters", exc_info=True)
        return {}
    if len(starts) != len(job["ids"]) or not starts or starts[0] != 0:
        _logger.warning("A batch of %s letters gave %s letter starts: rendering them one by one",
                        len(job["ids"]), len(starts))
        return {}
    result = {}
    for index, comm_id in enumerate(job["ids"]):
        end = starts[index + 1] if index + 1 < len(starts) else len(reader.pages)
        writer = OdooPdfFileWriter()
        for number in range(starts[index], end):
            writer.add_page(reader.pages[number])
        stream = io.BytesIO()
        writer.write(stream)
        result[comm_id] = stream.getvalue()
    return result


class DunningCommunication(models.Model):
    """One contact with one customer: a level of its chain, through one channel.

    Created *scheduled* (or *to review*) by the planner with the moment it may leave and the
    reason for that moment; sent at most once by the sender, which keeps a snapshot of what
    left and chains its hash to the customer's previous communication.
    """

    _name = "dunning.communication"
    _description = "Dunning Communication"
    _inherit = ["mail.thread", "mail.activity.mixin", "dunning.evidence"]
    _order = "scheduled_at desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", readonly=True, copy=False, default="/")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True,
                                 default=lambda self: self.env.company)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True,
                                 index=True, ondelete="restrict", check_company=True)
    policy_id = fields.Many2one("dunning.policy", required=True, readonly=True, ondelete="restrict",
                                check_company=True)
    level_id = fields.Many2one("dunning.level", required=True, readonly=True, ondelete="restrict",
                               index=True, check_company=True)
    level_offset = fields.Integer(related="level_id.offset_days", string="Level Days")
    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    channel_config_id = fields.Many2one("dunning.level.channel", readonly=True, ondelete="set null")
    state = fields.Selection(STATES, default="scheduled", required=True, readonly=True,
                             tracking=True, index=True)
    scheduled_at = fields.Datetime(string="Planned For", readonly=True, index=True,
                                   help="The moment the message may leave (server time).")
    scheduled_local = fields.Char(string="Planned (customer's time)",
                                  compute="_compute_scheduled_local")
    partner_tz = fields.Char(string="Customer Time Zone", readonly=True)
    schedule_reason = fields.Char(string="Why Then", readonly=True,
                                  help="Why the message is planned for this moment.")
    reason = fields.Text(string="Why", readonly=True,
                         help="Why this level was reached (days overdue, promise broken...).")
    sent_at = fields.Datetime(readonly=True, copy=False)
    line_ids = fields.One2many("dunning.communication.line", "communication_id", string="Invoices",
                               readonly=True)
    invoice_ids = fields.Many2many("account.move", compute="_compute_invoice_ids",
                                   search="_search_invoice_ids", string="Invoices Covered")
    invoice_count = fields.Integer(compute="_compute_invoice_ids")
    # stored and precomputed: creating thousands of planned records must not compute a
    # related field per record to round their amounts
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id", store=True,
                                  precompute=True)
    amount_total = fields.Monetary(string="Amount Due", readonly=True,
                                   help="Total residual of the covered invoices, company currency.")
    # snapshot of what left
    subject = fields.Char(readonly=True, copy=False)
    body = fields.Html(readonly=True, copy=False, sanitize=True, sanitize_style=True)
    recipients = fields.Char(readonly=True, copy=False)
    attachment_ids = fields.Many2many("ir.attachment", string="Attachments", readonly=True,
                                      copy=False)
    mail_message_id = fields.Many2one("mail.message", readonly=True, copy=False, index="btree_not_null")
    kind = fields.Selection([("reminder", "Reminder"), ("thanks", "Payment received")],
                            default="reminder", required=True, readonly=True)
    mail_template_id = fields.Many2one("mail.template", readonly=True, ondelete="set null",
                                       help="Template of the e-mail, when the channel has one.")
    delivery_state = fields.Selection(DELIVERY_STATES, default="none", readonly=True, copy=False,
                                      tracking=True)
    failure_reason = fields.Text(readonly=True, copy=False)
    tracking_reference = fields.Char(
        copy=False, tracking=True,
        help="Certified letters and burofax: the postal tracking / proof-of-delivery reference.")
    activity_id = fields.Many2one("mail.activity", readonly=True, copy=False)
    customer_url = fields.Char(
        string="Customer Link", readonly=True, copy=False,
        groups="dunning_chain.group_dunning_user",
        help="The link this message gave the customer to see and settle what they owe, issued "
             "when it was sent.")

    # ------------------------------------------------------------------ computes
    @api.depends("company_id")
    def _compute_currency_id(self):
        for comm in self:
            comm.currency_id = comm.company_id.currency_id

    @api.depends("line_ids.move_id")
    def _compute_invoice_ids(self):
        for comm in self:
            comm.invoice_ids = comm.line_ids.move_id
            comm.invoice_count = len(comm.invoice_ids)

    def _search_invoice_ids(self, operator, value):
        return [("line_ids.move_id", operator, value)]

    @api.depends("scheduled_at", "partner_tz")
    def _compute_scheduled_local(self):
        for comm in self:
            if not comm.scheduled_at:
                comm.scheduled_local = False
                continue
            tz = comm.partner_tz or comm.partner_id.tz or "UTC"
            local = fields.Datetime.context_timestamp(comm.with_context(tz=tz), comm.scheduled_at)
            comm.scheduled_local = f"{local:%a %d %b %Y %H:%M} ({tz})"

    @api.model_create_multi
    def create(self, vals_list):
        # only the planner creates communications, and only planned ones: a sent one comes
        # from sending, never from a caller's values
        for vals in vals_list:
            if vals.get("state", "scheduled") not in PLANNING_STATES:
                raise UserError(self.env._("A communication is created planned (to review or "
                                           "scheduled); only sending makes it sent."))
            given = self._dunning_sender_fields().intersection(
                key for key, value in vals.items() if value)
            if given:
                raise UserError(self.env._(
                    "These values are written by sending, not given: %s.",
                    ", ".join(sorted(given))))
        comms = super().create(vals_list)
        # References follow the record id (no sequence row lock per record: the planner
        # creates thousands at once): DUN/2026/000123
        unnamed = comms.filtered(lambda c: c.name in (False, "/"))
        if unnamed:
            unnamed.flush_recordset(["name"])
            self.env.cr.execute(SQL("""
                UPDATE dunning_communication
                   SET name = 'DUN/' || to_char(COALESCE(create_date, now()), 'YYYY') || '/'
                              || lpad(id::text, 6, '0')
                 WHERE id IN %s""", tuple(unnamed.ids)))
            unnamed.invalidate_recordset(["name"])
        return comms

    @api.model
    def _dunning_sender_fields(self):
        """Fields only the sending code path writes (dunning_sms adds the SMS text)."""
        return set(SENDER_FIELDS)

    @api.model
    def _dunning_frozen_fields(self):
        """Fields of a sent communication that nothing changes any more, not even the sending
        code path (what it learns later is appended as events)."""
        return set(SNAPSHOT_FIELDS) - {"delivery_state", "failure_reason", "activity_id",
                                       "event_ids"}

    def _dunning_privileged(self):
        """True inside the sending code path (_dunning_sys_write): a flag on the database
        cursor, out of reach of anything an RPC caller sends (values, context)."""
        return bool(self._dunning_batch_store().get("sys_write"))

    def _dunning_sys_write(self, vals):
        """The sending code path writes the record through here."""
        store = self._dunning_batch_store()
        store["sys_write"] = store.get("sys_write", 0) + 1
        try:
            return self.write(vals)
        finally:
            store["sys_write"] -= 1

    def write(self, vals):
        sent = self.filtered(lambda c: c.state == "sent")
        privileged = self._dunning_privileged()
        frozen = self._dunning_frozen_fields()
        if not privileged:
            frozen |= self._dunning_sender_fields() | {"failure_reason"}
        frozen &= set(vals)
        if sent and frozen:
            raise UserError(self.env._(
                "A sent communication is a record of what the customer received: it cannot "
                "be changed (%s).", ", ".join(sorted(frozen))))
        forbidden = self._dunning_sender_fields().intersection(vals)
        if not privileged and (vals.get("state") == "sent" or forbidden):
            raise UserError(self.env._(
                "Only sending writes what was sent (%s).",
                ", ".join(sorted(forbidden or {"state"}))))
        learnt = [name for name in EVENT_FIELDS if name in vals]
        before = {comm: {name: comm[name] for name in learnt} for comm in sent} if learnt else {}
        result = super().write(vals)
        for comm, values in before.items():
            changes = {name: comm[name] for name in learnt if comm[name] != values[name]}
            if changes:
                comm._dunning_record_event(*comm._dunning_event_of(changes))
        return result

    def _dunning_event_of(self, changes):
        """(kind, description, data) of what was learnt after sending."""
        labels = dict(self._fields["delivery_state"]._description_selection(self.env))
        if "tracking_reference" in changes:
            return ("tracking", self.env._("Tracking reference: %s",
                                           changes["tracking_reference"] or "-"), changes)
        state = changes.get("delivery_state", self.delivery_state)
        if state in ("bounced", "error") or changes.get("failure_reason"):
            return ("failure", self.failure_reason or labels.get(state, state), changes)
        return ("delivery", labels.get(state, state or ""), changes)

    def _dunning_check_lines_open(self):
        """The invoices of a sent communication are part of its record: read-only."""
        if any(comm.state == "sent" or comm.hash for comm in self.sudo()):
            raise UserError(self.env._("The invoices of a sent communication are part of the "
                                       "record: they cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sent(self):
        if any(comm.state == "sent" or comm.hash for comm in self):
            raise UserError(self.env._("Sent communications are kept as evidence: they cannot be "
                                       "deleted."))

    # ------------------------------------------------------------------ user actions
    def action_approve(self):
        """Review mode: approve the planned messages (in bulk from the list)."""
        to_approve = self.filtered(lambda c: c.state == "to_review")
        to_approve.write({"state": "scheduled"})
        return True

    def action_cancel(self):
        for comm in self.filtered(lambda c: c.state in ("to_review", "scheduled", "failed")):
            comm.state = "cancelled"
            # the invoices go back to the level they had before this step was planned
            for line in comm.line_ids:
                if line.move_id.dunning_level_id == comm.level_id:
                    line.move_id._dunning_set_state(
                        dunning_level_id=line.previous_level_id.id or None)
        return True

    def action_retry(self):
        """Failed communications: plan them again for now (after fixing the cause)."""
        failed = self.filtered(lambda c: c.state == "failed")
        failed.write({"state": "scheduled", "failure_reason": False,
                      "scheduled_at": fields.Datetime.now(),
                      "schedule_reason": self.env._("Retry requested by %s", self.env.user.name)})
        failed.activity_id.action_feedback(feedback=self.env._("Retried"))
        return True

    def action_send_now(self):
        """Send the selected scheduled communications now (skipping the planned moment)."""
        self.filtered(lambda c: c.state == "scheduled")._dunning_send_batch()
        return True

    def action_mark_posted(self):
        """The letter was printed and posted (an event of the record)."""
        self.filtered(lambda c: c.delivery_state == "to_post")._dunning_sys_write(
            {"delivery_state": "posted"})
        return True

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action.update({"domain": [("id", "in", self.invoice_ids.ids)], "context": {"create": False}})
        return action

    # ------------------------------------------------------------------ the run
    @api.model
    def _cron_dunning_run(self):
        """Scheduled action: plan, then send what is due, committing progress as it goes.
        Runs for every company (the cron user is the superuser)."""
        comms = self.with_context(allowed_company_ids=self.env["res.company"].search([]).ids)
        comms._dunning_email_sync_delivery()
        comms._dunning_thank_paid()
        comms._dunning_plan()
        comms._dunning_send_due(commit=True)

    # ---------------------------------------------------------------- planning
    @api.model
    def _dunning_candidates(self, today, companies):
        """Open posted customer invoices whose oldest unpaid instalment falls within reach of the
        earliest level, with where they stand in the chain. One SQL query (partial index on
        account_move), no ORM loop: a list of Candidate tuples."""
        min_offset = self.env["dunning.level"].search(
            [], order="offset_days", limit=1).offset_days or 0
        self.env["account.move.line"].flush_model(
            ["move_id", "display_type", "reconciled", "amount_residual", "date_maturity"])
        self.env["account.move"].flush_model([
            "state", "move_type", "payment_state", "company_id", "commercial_partner_id",
            "dunning_excluded", "dunning_paused_until", "dunning_dispute_state",
            "amount_total", "amount_residual", "amount_residual_signed", "currency_id",
            "payment_reference", "name", "dunning_promise_state", "dunning_promise_date"])
        self.env.cr.execute(SQL("""
            SELECT m.id, m.commercial_partner_id, m.company_id, MIN(l.date_maturity),
                   m.currency_id, m.amount_total, m.amount_residual, m.amount_residual_signed,
                   COALESCE(m.payment_reference, m.name),
                   COALESCE(SUM(l.amount_residual_currency)
                            FILTER (WHERE l.date_maturity <= %(today)s), 0),
                   m.name, s.level_id, s.due_date, m.dunning_promise_state,
                   m.dunning_promise_date, s.remind_reason
              FROM account_move m
              LEFT JOIN dunning_move_state s ON s.move_id = m.id
              JOIN account_move_line l
                ON l.move_id = m.id AND l.display_type = 'payment_term'
               AND NOT l.reconciled AND l.amount_residual > 0
             WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
               AND m.payment_state IN ('not_paid', 'partial')
               AND m.company_id = ANY(%(companies)s)
               AND NOT COALESCE(m.dunning_excluded, FALSE)
               AND COALESCE(m.dunning_dispute_state, 'none') != 'open'
               AND (m.dunning_paused_until IS NULL OR m.dunning_paused_until < %(today)s)
               AND NOT EXISTS (
                   SELECT 1 FROM dunning_communication_line cl
                     JOIN dunning_communication c ON c.id = cl.communication_id
                    WHERE cl.move_id = m.id AND c.state IN ('to_review', 'scheduled'))
             GROUP BY m.id, s.id
            HAVING MIN(l.date_maturity) <= %(horizon)s
        """, companies=companies.ids, today=today, horizon=today - timedelta(days=min_offset)))
        return [Candidate(*row) for row in self.env.cr.fetchall()]

    @api.model
    def _dunning_commitment_broken(self, candidate, today):
        """Why the next reminder of this invoice goes at once (a promise or an agreement the
        customer did not keep), in words, or an empty string."""
        if candidate.remind_reason:
            return candidate.remind_reason
        if (candidate.promise_state == "open" and candidate.promise_date
                and candidate.promise_date < today):
            return self.env._("payment promised for %(date)s was not received",
                              date=candidate.promise_date)
        return ""

    def _dunning_reached_why(self, days, skipped, memo):
        """The reason of a level reached by the calendar, in words (memoised per run)."""
        key = (days, skipped)
        if key not in memo:
            if days < 0:
                why = self.env._("due in %s days", -days)
            elif days == 0:
                why = self.env._("due today")
            else:
                why = self.env._("%s days overdue", days)
            if skipped:
                why += self.env._(" (earlier steps skipped: the level reached is sent, not a "
                                  "burst)")
            memo[key] = why
        return memo[key]

    @api.model
    def _dunning_plan(self, today=None, companies=None, dry_run=False):
        """Decide each open invoice's level and plan one communication per customer, level and
        channel. Idempotent: invoices with a communication still planned are left alone.

        The decision works on the candidates' plain values (tools/chain.py), not on records:
        tens of thousands of invoices per run.

        :return: the planned communications (or, with dry_run, a list of dicts describing them)
        """
        today = today or fields.Date.context_today(self)
        companies = companies or self.env.companies
        if not dry_run:
            self._dunning_follow_commitments(today, companies)
        candidates = self._dunning_candidates(today, companies)
        if not candidates:
            return [] if dry_run else self.browse()
        partners = self.env["res.partner"].browse({c.partner_id for c in candidates})
        late_days = partners._dunning_average_days_late()
        # every level an invoice may stand at: (offset, is_final)
        Level = self.env["dunning.level"].with_context(active_test=False)
        level_meta = {lvl.id: (lvl.offset_days, lvl.is_final) for lvl in Level.browse(
            {c.level_id for c in candidates if c.level_id})}

        by_partner = defaultdict(list)
        for candidate in candidates:
            by_partner[(candidate.partner_id, candidate.company_id)].append(candidate)

        plans = []  # (partner, company, policy, level, [Entry])
        eligible_cache = {}
        why_memo = {}
        for (partner_id, company_id), items in by_partner.items():
            partner = partners.browse(partner_id).with_prefetch(partners._prefetch_ids)
            company = self.env["res.company"].browse(company_id)
            policy = partner.with_company(company)._dunning_policy(company)
            if not policy or partner.dunning_excluded:
                continue
            is_late_payer = late_days.get(partner_id, 0.0) > policy.late_payer_days
            key = (policy.id, is_late_payer)
            if key not in eligible_cache:
                levels = policy._levels_by_offset().filtered(
                    lambda lvl: not lvl.late_payers_only or is_late_payer)
                level_meta.update({lvl.id: (lvl.offset_days, lvl.is_final) for lvl in levels})
                eligible_cache[key] = (levels, [lvl.offset_days for lvl in levels])
            levels, offsets = eligible_cache[key]
            per_level = defaultdict(list)
            for c in items:
                current = level_meta[c.level_id] if c.level_id and c.due_state == c.due_date \
                    else None
                days = (today - c.due_date).days
                broken = self._dunning_commitment_broken(c, today)
                decision = chain.level_reached(offsets, current, days, bool(broken))
                if decision is None:
                    continue
                index, skipped = decision
                why = broken or self._dunning_reached_why(days, skipped, why_memo)
                per_level[levels[index]].append(Entry(c, why))
            if not per_level:
                continue
            if policy.minimum_amount:
                total = sum(e.candidate.residual_company
                            for entries in per_level.values() for e in entries)
                if company.currency_id.compare_amounts(total, policy.minimum_amount) < 0:
                    continue
            for level, entries in per_level.items():
                if policy.grouping == "invoice":
                    for entry in entries:
                        plans.append((partner, company, policy, level, [entry]))
                else:
                    plans.append((partner, company, policy, level, entries))

        if dry_run:
            Move = self.env["account.move"]
            return [{
                "partner": partner, "level": level,
                "invoices": Move.browse([e.candidate.move_id for e in entries]),
                "amount": sum(e.candidate.residual_company for e in entries),
                "reason": "; ".join(e.why for e in entries),
                "channels": level.channel_summary,
            } for partner, company, policy, level, entries in plans]
        return self._dunning_create_planned(plans, today)

    def _dunning_create_planned(self, plans, today):
        vals_list = []
        move_levels = defaultdict(list)
        broken, reminded = [], []
        # from the start of the minute: a message allowed now is due in this very run
        now = fields.Datetime.now().replace(second=0, microsecond=0)
        planning = {}
        for partner, company, policy, level, entries in plans:
            state = "to_review" if level._needs_review() else "scheduled"
            reason = "\n".join(f"{e.candidate.name}: {e.why}" for e in entries)
            lines = []
            for entry in entries:
                c = entry.candidate
                lines.append({
                    "move_id": c.move_id, "previous_level_id": c.level_id, "due_date": c.due_date,
                    "currency_id": c.currency_id, "amount_total": c.total,
                    "amount_residual": c.residual, "amount_residual_company": c.residual_company,
                    "payment_reference": c.reference, "amount_overdue": c.overdue,
                    "is_open": True,
                })
                move_levels[(level.id, c.due_date)].append(c.move_id)
                if c.promise_state == "open" and c.promise_date and c.promise_date < today:
                    broken.append(c.move_id)
                if c.remind_reason:
                    reminded.append(c.move_id)
            amount = sum(line["amount_residual_company"] for line in lines)
            for channel in level.channel_ids:
                scheduled_at, tz, why_then = self._dunning_plan_moment(
                    partner, company, policy, channel.channel, now, planning)
                vals_list.append({
                    "company_id": company.id,
                    "currency_id": company.currency_id.id,
                    "partner_id": partner.id,
                    "policy_id": policy.id,
                    "level_id": level.id,
                    "channel": channel.channel,
                    "channel_config_id": channel.id,
                    "mail_template_id": channel.mail_template_id.id,
                    "state": state,
                    "scheduled_at": scheduled_at,
                    "partner_tz": tz,
                    "schedule_reason": why_then,
                    "reason": reason,
                    "amount_total": amount,
                    "line_ids": lines,
                })
        # planned records log nothing in their chatter: sending them does
        line_lists = [vals.pop("line_ids") for vals in vals_list]
        comms = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True,
                                  tracking_disable=True).create(vals_list)
        comms = comms.with_context(self.env.context)
        self.env["dunning.communication.line"]._dunning_insert(
            [dict(line, communication_id=comm.id)
             for comm, lines in zip(comms, line_lists) for line in lines])
        comms.invalidate_recordset(["line_ids"])
        Move = self.env["account.move"]
        for (level_id, due), move_ids in move_levels.items():
            Move.browse(move_ids)._dunning_set_state(dunning_level_id=level_id,
                                                     dunning_due_date=due)
        Move.browse(broken).write({"dunning_promise_state": "broken"})
        Move.browse(reminded)._dunning_set_state(dunning_remind_reason=None)
        return comms

    @api.model
    def _dunning_follow_commitments(self, today, companies):
        """Before planning: follow what customers agreed to (dunning_portal follows approved
        payment plans here and flags a missed instalment with ``dunning_remind_reason``)."""

    def _dunning_plan_moment(self, partner, company, policy, channel, now, planning=None):
        """When may this message leave? Returns (naive UTC datetime, time zone, reason in words).

        The next moment inside the policy's send window in the customer's time zone, skipping
        weekends, the customer's public holidays and closures and the company's closures,
        spread so that no channel exceeds its messages per hour, and after the frequency cap
        of the channel allows another contact. ``planning`` carries the counts of one run.
        """
        planning = planning if planning is not None else {}
        tz, tz_source = self._dunning_timezone_for(partner, company, channel)
        rules = policy._dunning_window_rules()
        closed = partner._dunning_closed_days(company, now.date(), now.date() + timedelta(days=400),
                                              planning)
        moment, cap_reason = now, None
        cap = policy._dunning_frequency_cap(channel)
        if cap:
            key = ("contacts", channel)
            if key not in planning:
                planning[key] = self._dunning_contacts(channel, now - timedelta(days=7))
            contacts = planning[key][partner.id]
            moment, cap_reason = send_window.frequency_cap_date(
                now, contacts, cap, channel_label=self._channel_label_for(channel), tz_name=tz)
        key = ("taken", channel, company.id)
        if key not in planning:
            planning[key] = self._dunning_taken_slots(channel, company, now)
        taken = planning[key]
        try:
            slot, why = send_window.spread_slot(moment, tz, rules, closed, taken, policy.max_per_hour)
        except ValueError as exc:
            raise UserError(self.env._("No moment to send fits the policy '%(policy)s': %(err)s",
                                       policy=policy.name, err=exc)) from exc
        bucket = slot.replace(minute=0, second=0, microsecond=0)
        taken[bucket] = taken.get(bucket, 0) + 1
        if cap:
            contacts.append(slot)
        reason = why if slot > now else self.env._("Now: inside the send window (%s)",
                                                    send_window.format_local(slot, tz))
        if cap_reason:
            reason = f"{cap_reason}; {reason}"
        if tz_source != "customer's time zone":
            reason = f"{reason} [{tz_source}]"
        return slot, tz, reason

    @api.model
    def _dunning_timezone_for(self, partner, company, channel):
        """(time zone, where it comes from) of the recipient for a channel. Channels whose
        address has a zone of its own (an SMS to a foreign mobile) override this."""
        return partner._dunning_timezone(company)

    def _dunning_customer_url(self):
        """The link a message gives the customer to see and settle what they owe: the portal
        page of the oldest open invoice (dunning_portal replaces it with the customer's signed
        dunning page)."""
        self.ensure_one()
        moves = self.line_ids.filtered("is_open").move_id or self.line_ids.move_id
        move = moves.sorted(lambda m: (m.invoice_date_due or m.date, m.id))[:1]
        if not move:
            return self.partner_id.get_base_url()
        return move.get_base_url() + move._get_share_url(redirect=False)

    def _channel_label_for(self, channel):
        return dict(self._fields["channel"]._description_selection(self.env)).get(channel, channel)

    @api.model
    def _dunning_contacts(self, channel, since):
        """{customer id: moments of its contacts through a channel since a date (sent or
        planned)}: the frequency caps count them. One query for every customer."""
        self.flush_model(["partner_id", "channel", "state", "sent_at", "scheduled_at"])
        self.env.cr.execute(SQL("""
            SELECT partner_id, COALESCE(sent_at, scheduled_at) FROM dunning_communication
             WHERE channel = %s AND state IN ('sent', 'scheduled', 'to_review')
               AND COALESCE(sent_at, scheduled_at) >= %s""", channel, since))
        contacts = defaultdict(list)
        for partner_id, moment in self.env.cr.fetchall():
            contacts[partner_id].append(moment)
        return contacts

    @api.model
    def _dunning_taken_slots(self, channel, company, since):
        """{UTC hour: number of messages of the company already planned in it} for a channel."""
        self.flush_model(["channel", "state", "scheduled_at", "company_id"])
        self.env.cr.execute(SQL("""
            SELECT date_trunc('hour', scheduled_at), COUNT(*) FROM dunning_communication
             WHERE channel = %s AND company_id = %s AND state IN ('scheduled', 'to_review')
               AND scheduled_at >= %s
             GROUP BY 1""", channel, company.id, since - timedelta(hours=1)))
        return dict(self.env.cr.fetchall())

    # ---------------------------------------------------------------- sending
    @api.model
    def _dunning_send_due(self, commit=False, limit=None):
        """Send every scheduled communication whose moment has come, in batches. With commit,
        progress is committed after each batch (cron progress API), so an interrupted run loses
        at most one batch, which the next run sends: nothing leaves twice."""
        domain = [("state", "=", "scheduled"), ("scheduled_at", "<=", fields.Datetime.now())]
        todo = self.search(domain, order="scheduled_at, id", limit=limit)
        done = 0
        for start in range(0, len(todo), SEND_BATCH_SIZE):
            batch = todo[start:start + SEND_BATCH_SIZE]
            batch._dunning_send_batch()
            done += len(batch)
            if commit:
                left = self.env["ir.cron"]._commit_progress(len(batch), remaining=len(todo) - done)
                if not left:
                    break
        return done

    def _dunning_send_batch(self):
        """Send these communications. Rows locked by another run are skipped (that run sends
        them); rows no longer scheduled once locked are skipped too: at most once."""
        locked = self.try_lock_for_update()
        scheduled = locked.filtered(lambda c: c.state == "scheduled")
        # under the lock, whatever changed since planning: invoices promised, disputed,
        # excluded or paused since leave the message (which is cancelled when none is left)
        scheduled._dunning_withdraw_blocked()
        scheduled = scheduled.filtered(lambda c: c.state == "scheduled")
        # the amounts as of now (a partial payment since planning), before letters render them
        scheduled.line_ids._dunning_refresh_amounts()
        # the customer link each message gives, issued now and kept with the record
        scheduled._dunning_issue_customer_urls()
        scheduled._dunning_prerender_letters()
        scheduled._dunning_prerender_mails()
        cache = {"amounts_refreshed": set(scheduled.ids)}  # and company closures, read once
        # the letters render in the background meanwhile: every other channel goes first
        order = locked.sorted(lambda c: (c.channel in LETTER_CHANNELS,
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
                    comm._dunning_send_one(cache)
            if order.filtered(lambda c: c.mail_message_id and c.delivery_state == "pending"):
                self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
        finally:
            # letters of communications not sent in this batch are not kept for later
            for key in ("dunning_letters", "dunning_letter_runs"):
                for comm_id in locked.ids:
                    self._dunning_batch_store().get(key, {}).pop(comm_id, None)
            self._dunning_batch_store().pop("dunning_mails", None)

    def _dunning_withdraw_blocked(self):
        """Take out of these planned messages every invoice that may not be reminded now
        (promised, disputed, excluded, paused, blocked), whatever changed since planning."""
        reminders = self.filtered(lambda c: c.kind == "reminder" and c.state in PLANNING_STATES)
        blocked = reminders.line_ids.move_id.filtered(lambda m: m._dunning_blocked_reason())
        if blocked:
            blocked._dunning_withdraw_planned(reminders)

    def _dunning_issue_customer_urls(self):
        """Issue the link each message gives the customer (kept with the record)."""
        for comm in self:
            if not comm.sudo().customer_url:
                comm._dunning_sys_write({"customer_url": comm._dunning_customer_url()})

    def _dunning_send_one(self, cache=None):
        self.ensure_one()
        if self._dunning_recheck_window(cache):
            return
        if self.id not in (cache or {}).get("amounts_refreshed", ()):
            # sent alone (not prepared by a batch): the same checks as a batch makes
            self._dunning_withdraw_blocked()
            if self.state != "scheduled":
                return
            self.line_ids._dunning_refresh_amounts()
            self._dunning_issue_customer_urls()
        if self.kind == "reminder" and not self.line_ids.filtered("is_open"):
            self._dunning_sys_write({
                "state": "cancelled",
                "failure_reason": self.env._("Every invoice was paid or settled before sending."),
            })
            return
        method = getattr(self, f"_dunning_send_{self.channel}", None)
        try:
            with self.env.cr.savepoint():
                if method is None:
                    raise UserError(self.env._("No sender for the channel '%s'.", self.channel))
                result = method() or {}
                self._dunning_mark_sent(result)
        except psycopg2.errors.TransactionRollbackError:
            # a concurrent sender moved this customer's chain first: the whole transaction is
            # retried (nothing has left: e-mails and SMS wait in Odoo's queues until commit)
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is recorded, the run goes on
            _logger.info("Dunning communication %s failed: %s", self.name, exc)
            self._dunning_mark_failed(exc)

    def _dunning_recheck_window(self, cache=None):
        """At send time the window is checked again: a message planned for 17:55 and reached at
        18:20 (a slow run, a Send Now at night) is moved to the next allowed moment, not sent.
        Returns True when it was moved."""
        now = fields.Datetime.now().replace(microsecond=0)
        partner, company, policy = self.partner_id, self.company_id, self.policy_id
        tz, _source = self._dunning_timezone_for(partner, company, self.channel)
        closed = partner._dunning_closed_days(company, now.date(), now.date() + timedelta(days=400),
                                              cache)
        try:
            slot, why = send_window.next_allowed_moment(now, tz, policy._dunning_window_rules(), closed)
        except ValueError as exc:
            slot, why = now, str(exc)
        if slot <= now + timedelta(minutes=1):
            return False
        self._dunning_sys_write({
            "scheduled_at": slot, "partner_tz": tz,
            "schedule_reason": self.env._("Moved at send time: %s", why),
        })
        return True

    def _dunning_mark_sent(self, result):
        self.ensure_one()
        now = fields.Datetime.now()
        vals = {
            "state": "sent",
            "sent_at": now,
            "amount_total": sum(self.line_ids.filtered("is_open").mapped("amount_residual_company")),
            "delivery_state": result.get("delivery_state", "sent"),
        }
        for key in ("subject", "body", "recipients", "mail_message_id", "activity_id"):
            if key in result:
                vals[key] = result[key]
        if result.get("attachment_ids"):
            vals["attachment_ids"] = [fields.Command.set(result["attachment_ids"])]
        # no tracking message: the e-mail or the note posted here already says it left
        comm = self.with_context(tracking_disable=True)
        state = vals.pop("state")
        comm._dunning_sys_write(vals)
        comm._dunning_seal()
        comm._dunning_sys_write({"state": state})
        self.line_ids.move_id._dunning_set_state(dunning_last_date=now)
        self._dunning_log_in_chatter()

    def _dunning_notifications(self, notification_type):
        """{communication: the notifications of its message of that type (email, sms)}: what
        Odoo knows about its delivery."""
        notifications = self.env["mail.notification"].sudo().search([
            ("mail_message_id", "in", self.mail_message_id.ids),
            ("notification_type", "=", notification_type),
        ])
        by_message = notifications.grouped("mail_message_id")
        return {comm: by_message.get(comm.mail_message_id.sudo(), notifications.browse())
                for comm in self}

    def _dunning_email_sync_delivery(self):
        """Copy what happened to the sent e-mails (Odoo's mail.notification: queued, sent,
        bounced, failed) to their communications: these, or all those still waiting for news.
        A bounce or a failure records the reason and gives the responsible user a task."""
        comms = self or self.search([
            ("state", "=", "sent"), ("delivery_state", "in", ("pending", "sent")),
            ("mail_message_id", "!=", False), ("channel", "!=", "sms"),
        ])
        comms = comms.filtered(lambda c: c.mail_message_id and c.channel != "sms")
        if not comms:
            return comms
        notifications_of = comms._dunning_notifications("email")
        changed = self.browse()
        for comm in comms:
            statuses = set(notifications_of[comm].mapped("notification_status"))
            if not statuses:
                continue
            state = ("bounced" if "bounce" in statuses else
                     "error" if statuses & {"exception", "canceled"} else
                     "pending" if statuses & {"ready", "process"} else "sent")
            if state == comm.delivery_state:
                continue
            vals = {"delivery_state": state}
            if state in ("bounced", "error"):
                failed = notifications_of[comm].filtered(
                    lambda n: n.notification_status in ("bounce", "exception", "canceled"))[:1]
                vals["failure_reason"] = self.env._(
                    "The e-mail to %(address)s was not delivered: %(why)s",
                    address=failed.res_partner_id.email or "", why=failed.failure_reason
                    or dict(failed._fields["failure_type"]._description_selection(self.env)).get(
                        failed.failure_type) or failed.notification_status)
            comm.with_context(tracking_disable=True)._dunning_sys_write(vals)
            if state in ("bounced", "error"):
                comm._dunning_sys_write({"activity_id": comm.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Dunning e-mail not delivered: %s",
                                       comm.partner_id.display_name),
                    note=escape(vals["failure_reason"]),
                    user_id=comm._dunning_responsible_user().id).id})
            changed |= comm
        return changed

    def action_dunning_email_refresh(self):
        self._dunning_email_sync_delivery()
        return True

    def _dunning_mark_failed(self, exc):
        self.ensure_one()
        reason = exc.args[0] if isinstance(exc, UserError) and exc.args else str(exc)
        self._dunning_sys_write({"state": "failed", "failure_reason": reason,
                                 "delivery_state": "error"})
        user = self._dunning_responsible_user()
        activity = self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Dunning message failed: %s", self.partner_id.display_name),
            note=escape(reason),
            user_id=user.id,
        )
        self._dunning_sys_write({"activity_id": activity.id})
        body = Markup("<p>%s</p><p>%s</p>") % (
            self.env._("%(level)s by %(channel)s could not be sent.",
                       level=self.level_id.name, channel=self._channel_label()),
            reason,
        )
        self.partner_id._message_log(body=body)
        self.message_post(body=body, subtype_xmlid="mail.mt_note")

    def _dunning_responsible_user(self):
        """Who fixes problems and makes calls: the policy's collector, else the customer's
        salesperson, else the administrator."""
        self.ensure_one()
        candidates = [self.policy_id.collector_id, self.partner_id.user_id]
        for user in candidates:
            if user and user.active:
                return user
        return self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user

    def _channel_label(self):
        return dict(self._fields["channel"]._description_selection(self.env)).get(self.channel)

    def _dunning_log_in_chatter(self):
        """Post a note on the customer and on each covered invoice, linking here."""
        self.ensure_one()
        link = Markup('<a href="#" data-oe-model="dunning.communication" data-oe-id="%s">%s</a>') % (
            self.id, self.name)
        body = Markup("<p>%s %s</p>") % (
            self.env._("%(level)s sent by %(channel)s: %(amount)s due.",
                       level=self.level_id.name, channel=self._channel_label(),
                       amount=format_amount(self.env, self.amount_total, self.currency_id)),
            link,
        )
        notes = self._dunning_batch_store().get("dunning_chatter_notes")
        if notes is not None:  # written together at the end of the batch
            notes.append((self.partner_id.id, self.invoice_ids.ids, body, self.attachment_ids.ids))
            return
        self.partner_id._message_log(body=body, attachment_ids=self.attachment_ids.ids)
        if self.invoice_ids:
            self.invoice_ids._message_log_batch(bodies=dict.fromkeys(self.invoice_ids.ids, body))

    def _dunning_batch_store(self):
        """What a send batch prepares for its communications (letters rendering, e-mails
        rendered, chatter notes to write), kept on the cursor: unlike ``cr.cache``, a failed
        communication's savepoint rollback does not wipe it."""
        store = getattr(self.env.cr, "_dunning_batch", None)
        if store is None:
            store = self.env.cr._dunning_batch = {}
        return store

    @contextlib.contextmanager
    def _dunning_chatter_batch(self):
        """The notes a batch posts on its customers and invoices are written together at its
        end, one per record: a customer reached by e-mail and by letter in the same batch gets
        one note naming both (with the attachments), and so does each invoice; the invoice
        notes are created in one go. Creating a chatter message costs milliseconds in Odoo's
        mail stack, and a run posts thousands."""
        cache = self._dunning_batch_store()
        if "dunning_chatter_notes" in cache:  # nested: the outer batch writes them
            yield
            return
        notes = cache["dunning_chatter_notes"] = []
        try:
            yield
        finally:
            del cache["dunning_chatter_notes"]
        # reached only when the batch went through (an exception skips the writing)
        per_partner = defaultdict(lambda: ([], []))
        per_invoice = defaultdict(list)
        for partner_id, move_ids, body, attachment_ids in notes:
            per_partner[partner_id][0].append(body)
            per_partner[partner_id][1].extend(attachment_ids)
            for move_id in move_ids:
                per_invoice[move_id].append(body)
        Partner = self.env["res.partner"]
        for partner_id, (bodies, attachment_ids) in per_partner.items():
            Partner.browse(partner_id)._message_log(body=Markup("").join(bodies),
                                                    attachment_ids=attachment_ids)
        if per_invoice:
            self.env["account.move"].browse(list(per_invoice))._message_log_batch(
                bodies={move_id: Markup("").join(bodies)
                        for move_id, bodies in per_invoice.items()})

    # ---------------------------------------------------------------- channels
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
        rendered = self._dunning_batch_store().get("dunning_mails", {}).pop(
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
        """The e-mail template this communication sends, if it sends one (a letter goes by
        e-mail when its channel has a template)."""
        self.ensure_one()
        if self.channel == "email":
            return self.mail_template_id or self.channel_config_id.mail_template_id
        if self.channel == "letter":
            return self.channel_config_id.mail_template_id
        return self.env["mail.template"]

    def _dunning_prerender_mails(self):
        """Render the e-mails of a batch per template, all records at once: Odoo compiles a
        template's code once per rendering call, not once per record. A template that fails
        here is rendered again per record at send time, where the failure is recorded."""
        cache = self._dunning_batch_store().setdefault("dunning_mails", {})
        for template, comms in self.grouped(lambda c: c._dunning_mail_template()).items():
            if not template or len(comms) < 2:
                continue
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

    def _dunning_letter_attachment(self, title=None):
        cache = self._dunning_batch_store().setdefault("dunning_letters", {})
        run = self._dunning_batch_store().get("dunning_letter_runs", {}).pop(self.id, None)
        if run is not None:
            cache.update(run.result())  # the run started by _dunning_prerender_letters
        content = cache.pop(self.id, None)
        if content is None:
            content = self._dunning_render_letter()
        name = (title or self.env._("Reminder")) + f" {self.name}.pdf"
        return self.env["ir.attachment"].create({
            "name": name.replace("/", "-"), "raw": content, "mimetype": "application/pdf",
            "res_model": self._name, "res_id": self.id,
        })

    def _dunning_render_letter(self):
        """One letter, the way a batch renders them (same font and margins); Odoo's own
        rendering when that fails, and in tests that do not force PDF rendering."""
        self.ensure_one()
        report = self.env["ir.actions.report"].with_context(
            lang=self.partner_id.lang or self.env.lang)
        if not self._dunning_tests_skip_pdf():
            try:
                content = _run_letter_job(self.with_context(
                    lang=self.partner_id.lang or self.env.lang)._dunning_letter_job()).get(self.id)
            except Exception:  # noqa: BLE001 - Odoo's rendering below says what is wrong
                _logger.warning("Could not render letter %s in one run", self.name,
                                exc_info=True)
                content = None
            if content:
                return content
        content, _fmt = report._render_qweb_pdf(LETTER_REPORT, [self.id])
        return content

    def _dunning_tests_skip_pdf(self):
        return ((modules.module.current_test or tools.config["test_enable"])
                and not self.env.context.get("force_report_rendering"))

    def _dunning_prerender_letters(self):
        """Start rendering the letters of these communications: one wkhtmltopdf run per
        LETTERS_PER_RUN letters instead of one run per letter, in background threads, while
        the batch goes on with its e-mails; each run's PDF is cut per letter (see
        _run_letter_job). _dunning_letter_attachment waits for its letter; anything unexpected
        falls back to one run per letter."""
        letters = self.filtered(lambda c: c.channel in LETTER_CHANNELS)
        if len(letters) < 2 or self._dunning_tests_skip_pdf():
            return
        jobs = []
        for (_company, lang), group in letters.grouped(
                lambda c: (c.company_id, c.partner_id.lang or self.env.lang)).items():
            for start in range(0, len(group), LETTERS_PER_RUN):
                try:
                    jobs.append(group[start:start + LETTERS_PER_RUN].with_context(lang=lang)
                                ._dunning_letter_job())
                except Exception:  # noqa: BLE001 - a failed batch only costs speed
                    _logger.warning("Could not prepare a batch of dunning letters", exc_info=True)
        if not jobs:
            return
        cache = self._dunning_batch_store().setdefault("dunning_letters", {})
        if len(jobs) > 1 and self.env.cr.dbname not in _ASSETS_WARM:
            # the first run builds the report's assets on the server; parallel runs would race
            # to build them (and one would get no style)
            cache.update(_run_letter_job(jobs.pop(0)))
        _ASSETS_WARM.add(self.env.cr.dbname)
        pending = self._dunning_batch_store().setdefault("dunning_letter_runs", {})
        workers = max(1, min(len(jobs), os.cpu_count() or 1))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dunning-letters")
        for job in jobs:
            future = pool.submit(_run_letter_job, job)
            pending.update(dict.fromkeys(job["ids"], future))
        pool.shutdown(wait=False)

    def _dunning_letter_job(self):
        """Everything one wkhtmltopdf run needs (command, files), prepared with the ORM."""
        report_model = self.env["ir.actions.report"]
        report = report_model._get_report(LETTER_REPORT)
        html = report_model._render_qweb_html(LETTER_REPORT, self.ids, data={"report_type": "pdf"})[0]
        bodies, res_ids, header, footer, paper_args = report_model._prepare_html(
            html, report_model=report.model)
        if len(bodies) != len(self) or res_ids != self.ids:
            raise ValueError("unexpected report structure")
        # one document: the letters one after another, each starting on a new page
        roots = [lxml.html.fromstring(body) for body in bodies]
        container = roots[0].xpath("//body")[0]
        article_xpath = "//div[contains(concat(' ', normalize-space(@class), ' '), ' article ')]"
        for root in roots[1:]:
            for article in root.xpath(article_xpath):
                article.set("style", (article.get("style") or "") + ";page-break-before: always;")
                container.append(article)
        combined = lxml.html.tostring(roots[0], encoding="unicode", doctype="<!DOCTYPE html>")
        # page numbers of the footer would count across the whole run: letters go without
        footer_root = lxml.html.fromstring(footer)
        for span in footer_root.xpath("//span[contains(concat(' ', @class, ' '), ' topage ')]"):
            holder = span.getparent()
            holder.getparent().remove(holder)
        footer = lxml.html.tostring(footer_root, encoding="unicode", doctype="<!DOCTYPE html>")
        args = report_model._build_wkhtmltopdf_args(
            report.get_paperformat(), False, specific_paperformat_args=paper_args)
        args = self._dunning_letter_args(args)
        return {"args": args, "header": header, "footer": footer, "body": combined,
                "ids": list(self.ids)}

    @api.model
    def _dunning_letter_args(self, args):
        """wkhtmltopdf arguments for letters: no JavaScript delay (a letter runs no script);
        without patched Qt, where headers and footers are not drawn at all, the page margins
        they would have taken go to the letter (it fits on one page more often)."""
        args = list(args)
        overrides = {"--javascript-delay": None}
        if not _wkhtml().is_patched_qt:
            overrides.update({"--margin-top": "12", "--margin-bottom": "12",
                              "--margin-left": "10", "--margin-right": "10",
                              "--header-spacing": None})
        result, index = [], 0
        while index < len(args):
            arg = args[index]
            if arg in overrides:
                if overrides[arg] is not None:
                    result += [arg, overrides[arg]]
                overrides[arg] = None  # done
                index += 2
                continue
            result.append(arg)
            index += 1
        for arg, value in overrides.items():
            if value is not None:
                result += [arg, value]
        return result

    def _dunning_send_mail(self, template, attachments):
        recipients = self._dunning_recipients()
        subject, body, email_from = self._dunning_render(template)
        # the company writes to its customer (named here: Odoo would otherwise look a partner
        # up by the sender's address, for every message)
        message = self.with_context(lang=self.partner_id.lang).message_post(
            body=body, subject=subject, partner_ids=recipients.ids,
            attachment_ids=attachments.ids, subtype_xmlid="mail.mt_comment",
            message_type="comment", email_from=email_from or None,
            author_id=self.company_id.partner_id.id,
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

    def _dunning_send_letter(self):
        letter = self._dunning_letter_attachment(self.env._("Reminder letter"))
        template = self._dunning_mail_template()
        if template:
            return self._dunning_send_mail(template, letter)
        body = self.env["ir.qweb"]._render("dunning_chain.dunning_letter_summary", {"comm": self})
        self._message_log(body=body, attachment_ids=letter.ids)
        return {"subject": self.env._("Reminder letter"), "body": body,
                "recipients": self.partner_id._display_address(without_company=False),
                "attachment_ids": letter.ids, "delivery_state": "to_post"}

    def _dunning_task_user(self):
        """Who gets a call or posting task; an archived salesperson is a failure to fix."""
        config = self.channel_config_id
        if config.activity_user_id:
            user = config.activity_user_id
        elif self.partner_id.user_id:
            user = self.partner_id.user_id
        else:
            user = self.policy_id.collector_id
        if user and not user.active:
            raise UserError(self.env._(
                "%(user)s, who should handle %(customer)s, is archived: assign another "
                "salesperson or collector.", user=user.name, customer=self.partner_id.display_name))
        return user or self._dunning_responsible_user()

    def _dunning_task(self, activity_xmlid, summary, intro, attachments=None):
        user = self._dunning_task_user()
        body = self.env["ir.qweb"]._render("dunning_chain.dunning_task_note",
                                           {"comm": self, "intro": intro})
        activity = self.partner_id.activity_schedule(
            activity_xmlid, summary=summary, note=body, user_id=user.id,
            date_deadline=fields.Date.context_today(self),
        )
        return {"subject": summary, "body": body, "recipients": user.name,
                "activity_id": activity.id, "delivery_state": "task",
                "attachment_ids": attachments.ids if attachments else []}

    def _dunning_send_call(self):
        return self._dunning_task(
            "mail.mail_activity_data_call",
            self.env._("Call %s about overdue invoices", self.partner_id.display_name),
            self.env._("Please call the customer: the invoices below are overdue."))

    def _dunning_send_certified(self):
        letter = self._dunning_letter_attachment(self.env._("Final notice"))
        return self._dunning_task(
            "mail.mail_activity_data_todo",
            self.env._("Send certified letter to %s", self.partner_id.display_name),
            self.env._("Post the attached letter by certified mail (burofax) with proof of "
                       "delivery, then record the tracking reference on %s.", self.name),
            attachments=letter)

    def _dunning_send_handoff(self):
        summary = self._dunning_letter_attachment(self.env._("Debt summary"))
        agency = self.channel_config_id.handoff_partner_id
        intro = self.env._("Hand the debt over to %s with the attached summary.",
                           agency.display_name) if agency else self.env._(
            "Hand the debt over to the collection agency or lawyer with the attached summary.")
        return self._dunning_task(
            "mail.mail_activity_data_todo",
            self.env._("Hand-off: %s", self.partner_id.display_name), intro, attachments=summary)

    # ---------------------------------------------------------------- payment received
    @api.model
    def _dunning_thank_paid(self):
        """Invoices that were reminded and are now paid leave the chain; the policy may thank
        the customer (one message per customer, planned in the send window like any other).
        Promises paid in time are marked kept."""
        self.env["account.move"].search([
            ("dunning_promise_state", "=", "open"),
            ("payment_state", "in", ("paid", "in_payment")),
        ]).write({"dunning_promise_state": "kept", "dunning_paused_until": False})
        moves = self.env["account.move"].search([
            ("dunning_level_id", "!=", False),
            ("payment_state", "in", ("paid", "in_payment", "reversed")),
        ])
        thanks = self.browse()
        now = fields.Datetime.now().replace(second=0, microsecond=0)
        planning = {}
        for (partner, company), partner_moves in moves.grouped(
                lambda m: (m.commercial_partner_id, m.company_id)).items():
            paid = partner_moves.filtered(lambda m: m.payment_state != "reversed"
                                          and m.dunning_last_date)
            policy = partner._dunning_policy(company)
            template = policy.thank_you_template_id
            if paid and template:
                scheduled_at, tz, why = self._dunning_plan_moment(
                    partner, company, policy, "email", now, planning)
                thanks |= self.create({
                    "company_id": company.id, "partner_id": partner.id, "kind": "thanks",
                    "policy_id": policy.id, "level_id": paid[:1].dunning_level_id.id,
                    "channel": "email", "mail_template_id": template.id,
                    "scheduled_at": scheduled_at, "partner_tz": tz, "schedule_reason": why,
                    "reason": self.env._("Payment received"),
                    "line_ids": [fields.Command.create({
                        "move_id": m.id, "previous_level_id": m.dunning_level_id.id,
                        "due_date": m.dunning_due_date}) for m in paid],
                })
            partner_moves._dunning_set_state(dunning_level_id=None, dunning_due_date=None)
        thanks.line_ids._dunning_refresh_amounts()
        return thanks

    # ---------------------------------------------------------------- letters
    def _dunning_callback_date(self):
        """The date of the planned call-back: the policy's next call step, if any."""
        self.ensure_one()
        due = min(self.line_ids.mapped("due_date") or [False]) if self.line_ids else False
        if not due:
            return False
        calls = self.policy_id._levels_by_offset().filtered(
            lambda lvl: lvl.offset_days > self.level_id.offset_days
            and "call" in lvl.channel_ids.mapped("channel"))
        return due + timedelta(days=calls[0].offset_days) if calls else False
