from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_amount

from ..tools import send_window
from .dunning_send import batch_store

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
    "activity_id", "event_ids", "window_forced_by_id", "window_forced_at",
}
# Written by the sending code path only, never by a caller (create or write)
SENDER_FIELDS = {
    "sent_at", "hash", "previous_hash", "chain_partner_id", "evidence_version", "subject",
    "body", "recipients", "attachment_ids", "mail_message_id", "customer_url", "event_ids",
    "delivery_state", "activity_id", "charge_ids", "window_forced_by_id", "window_forced_at",
}
PLANNING_STATES = ("to_review", "scheduled")
# After sending, these changes are learnt facts: each one is appended to the record's events
EVENT_FIELDS = ("delivery_state", "failure_reason", "tracking_reference")

class DunningCommunication(models.Model):
    """One contact with one customer: a level of its chain, through one channel.

    Created *scheduled* (or *to review*) by the planner with the moment it may leave and the
    reason for that moment; sent at most once by the sender, which keeps a snapshot of what
    left and chains its hash to the customer's previous communication.
    """

    _name = "dunning.communication"
    _description = "Dunning Communication"
    _inherit = ["mail.thread", "mail.activity.mixin", "dunning.evidence", "dunning.channel.email",
                "dunning.channel.letter", "dunning.channel.task"]
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
    channel = fields.Selection(selection="_dunning_channel_selection", required=True, readonly=True)
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
    # related field per record to round their amounts; not readonly, so that the planner's
    # value (the company's currency) is taken as given, not computed again through a new
    # record per message (invisible in every view)
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id", store=True,
                                  precompute=True, readonly=False)
    amount_total = fields.Monetary(string="Amount Due", readonly=True,
                                   help="Total residual of the covered invoices, company currency.")
    # snapshot of what left
    subject = fields.Char(readonly=True, copy=False)
    body = fields.Html(readonly=True, copy=False, sanitize=True, sanitize_style=True)
    recipients = fields.Char(readonly=True, copy=False)
    charge_ids = fields.Many2many("dunning.charge", "dunning_charge_communication_rel",
                                  "communication_id", "charge_id",
                                  string="Late Payment Charges", readonly=True, copy=False,
                                  help="The charges this message stated (the e-mail and the "
                                       "letter of one step state the same ones).")
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
    window_forced_by_id = fields.Many2one(
        "res.users", string="Sent Outside the Window By", readonly=True, copy=False,
        help="The dunning manager who had this message sent outside the policy's send window "
             "(Send Anyway). Written by sending only, and sealed with the record.")
    window_forced_at = fields.Datetime(
        string="Sent Outside the Window At", readonly=True, copy=False)
    customer_url = fields.Char(
        string="Customer Link", readonly=True, copy=False,
        groups="dunning_chain.group_dunning_user",
        help="The link this message gave the customer to see and settle what they owe, issued "
             "when it was sent.")

    # ------------------------------------------------------------------ computes
    @api.model
    def _dunning_channel_selection(self):
        """The channels of the levels (one selection: an addon adds a channel there)."""
        Channel = self.env["dunning.level.channel"]
        return Channel._fields["channel"]._description_selection(self.env)

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
        self._dunning_check_planned_values(vals_list)
        comms = super().create(vals_list)
        # References follow the record id (no sequence row lock per record: the planner
        # creates thousands at once): DUN/2026/000123
        unnamed = comms.filtered(lambda c: c.name in (False, "/"))
        if unnamed:
            unnamed.flush_recordset(["name"])
            self.env.cr.execute(SQL("""
                UPDATE dunning_communication
                   SET name = 'DUN/' || to_char(COALESCE(create_date, now()), 'YYYY') || '/'
                              || lpad(id::text, GREATEST(6, length(id::text)), '0')
                 WHERE id IN %s""", tuple(unnamed.ids)))
            unnamed.invalidate_recordset(["name"])
        return comms

    @api.model
    def _dunning_check_planned_values(self, vals_list):
        """Only the planner creates communications, and only planned ones: a sent one comes
        from sending, never from a caller's values."""
        sender_fields = self._dunning_sender_fields()
        for vals in vals_list:
            if vals.get("state", "scheduled") not in PLANNING_STATES:
                raise UserError(self.env._("A communication is created planned (to review or "
                                           "scheduled); only sending makes it sent."))
            given = sender_fields.intersection(key for key, value in vals.items() if value)
            if given:
                raise UserError(self.env._(
                    "These values are written by sending, not given: %s.",
                    ", ".join(sorted(given))))

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
        return bool(batch_store(self.env.cr).get("sys_write"))

    def _dunning_sys_write(self, vals):
        """The sending code path writes the record through here."""
        store = batch_store(self.env.cr)
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
        self.check_access("write")  # whatever is selected: the rights decide, not the state
        to_approve = self.filtered(lambda c: c.state == "to_review")
        to_approve.write({"state": "scheduled"})
        return True

    def action_cancel(self):
        self.check_access("write")  # whatever is selected: the rights decide, not the state
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
        self.check_access("write")  # whatever is selected: the rights decide, not the state
        failed = self.filtered(lambda c: c.state == "failed")
        failed.write({"state": "scheduled", "failure_reason": False,
                      "scheduled_at": fields.Datetime.now(),
                      "schedule_reason": self.env._("Retry requested by %s", self.env.user.name)})
        failed.activity_id.action_feedback(feedback=self.env._("Retried"))
        return True

    def action_send_now(self):
        """Send the selected scheduled communications now (skipping the planned moment). The
        sender checks the window again: a message outside it is moved, not sent. Returns a
        notification saying what left, what was moved (where to and why) and what did not."""
        self.check_access("write")  # whatever is selected: the rights decide, not the state
        return self.env["dunning.send"]._dunning_send_and_report(
            self, title=self.env._("Send Now"))

    def action_send_anyway(self):
        """Dunning managers: send the selected scheduled communications now, even outside the
        policy's send window (not at or after 21:00, nor on a closed day, in the customer's
        time). The record keeps who forced it and when; the chatter says so.

        Public, hence callable over RPC by anyone: the group is checked here, and the bypass
        lives on the database cursor (``dunning.send._dunning_recheck_window``), out of reach
        of a context key."""
        if not self.env.user.has_group("dunning_chain.group_dunning_manager"):
            raise AccessError(self.env._(
                "Only dunning managers send a message outside its send window."))
        self.check_access("write")
        todo = self.filtered(lambda c: c.state == "scheduled")
        if not todo:
            raise UserError(self.env._("Only scheduled communications can be sent."))
        now = fields.Datetime.now().replace(microsecond=0)
        words = self.env["dunning.send.window"]
        refused = []
        for comm in todo:
            tz, _source = self.env["dunning.plan"]._dunning_timezone_for(
                comm.partner_id, comm.company_id, comm.channel)
            closed = comm.partner_id._dunning_closed_days(
                comm.company_id, now.date() - timedelta(days=1), now.date() + timedelta(days=1))
            facts = send_window.forcing_refused(now, tz, closed)
            if facts:
                refused.append(self.env._("%(name)s: %(why)s", name=comm.name,
                                          why=words._dunning_words(facts)))
        if refused:
            raise UserError(self.env._(
                "Not sent: outside the send window, a message may still not leave at or after "
                "21:00 or on a closed day in the customer's time.\n%s", "\n".join(refused)))
        bypass = batch_store(self.env.cr).setdefault("dunning_window_bypass", {})
        bypass.update(dict.fromkeys(todo.ids, self.env.uid))
        try:
            return self.env["dunning.send"]._dunning_send_and_report(
                todo, title=self.env._("Send Anyway"))
        finally:
            for comm_id in todo.ids:
                bypass.pop(comm_id, None)

    def action_mark_posted(self):
        """The letter was printed and posted (an event of the record)."""
        self.check_access("write")  # whatever is selected: the rights decide, not the state
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
        """Scheduled action: the run for every company (the cron user is the superuser),
        committing its progress."""
        self.env["dunning.send"].with_context(
            allowed_company_ids=self.env["res.company"].search([]).ids)._dunning_run(commit=True)

    def action_dunning_refresh_delivery(self):
        """Copy the delivery news Odoo has now (dunning users: it may raise a task)."""
        self.check_access("write")
        self.env["dunning.send"]._dunning_sync_delivery(self)
        return True

    # ------------------------------------------------------------------ helpers
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

    def _dunning_responsible_user(self):
        """Who fixes problems of this communication (res.partner._dunning_responsible_user)."""
        self.ensure_one()
        return self.partner_id._dunning_responsible_user(self.company_id)

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
        if self.window_forced_by_id:
            forced = self.env._("Sent outside the send window at the request of %s.",
                                self.window_forced_by_id.name)
            body += Markup("<p>%s</p>") % forced
            self.message_post(body=Markup("<p>%s</p>") % forced, subtype_xmlid="mail.mt_note")
        notes = batch_store(self.env.cr).get("dunning_chatter_notes")
        if notes is not None:  # written together at the end of the batch
            notes.append((self.partner_id.id, self.invoice_ids.ids, body, self.attachment_ids.ids))
            return
        self.partner_id._message_log(body=body, attachment_ids=self.attachment_ids.ids)
        if self.invoice_ids:
            self.invoice_ids._message_log_batch(bodies=dict.fromkeys(self.invoice_ids.ids, body))
