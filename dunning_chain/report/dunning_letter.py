from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.base.models.ir_actions_report import _wkhtml

from ..models.dunning_send import PREVIOUS_KEY, STATEMENTS_KEY, batch_store
from ..tools import qr

#: a final notice gives the customer at least this many days to pay before the next step
PAY_WITHIN_DAYS = 10


class DunningMessage(models.AbstractModel):
    """What every message of a step says, as values its templates word (the e-mails in
    data/mail_template_data.xml, the letter below, the SMS of dunning_sms): the customer's
    statement as of this step, the amount due now, the date to pay by and what happens then,
    how to pay without a computer. Facts only: the words live in the templates."""

    _name = "dunning.message"
    _description = "Dunning Message Values"

    @api.model
    def _dunning_previous(self, comm):
        """The last message the company sent the customer before this step. The e-mail,
        letter and SMS of one step leave together: none of them is the "last message" of
        another, so messages of the same level do not count. A send batch reads those of its
        messages at once before rendering them (_dunning_previous_of)."""
        prefetched = batch_store(self.env.cr).get(PREVIOUS_KEY)
        if prefetched is not None and not comm.sent_at and comm.id in prefetched:
            return self.env["dunning.communication"].sudo().browse(prefetched[comm.id] or ())
        domain = [("partner_id", "=", comm.partner_id.id), ("company_id", "=", comm.company_id.id),
                  ("state", "=", "sent"), ("sent_at", "!=", False), ("id", "!=", comm.id),
                  ("level_id", "!=", comm.level_id.id)]
        if comm.sent_at:  # a letter printed again later: what came before it
            domain.append(("sent_at", "<", comm.sent_at))
        return self.env["dunning.communication"].sudo().search(
            domain, order="sent_at desc, id desc", limit=1)

    @api.model
    def _dunning_previous_of(self, comms):
        """{id: id of _dunning_previous's message, or None} of these messages not sent yet,
        in one query (the same domain and order as _dunning_previous)."""
        comms = comms.filtered(lambda c: not c.sent_at)
        if not comms:
            return {}
        self.env["dunning.communication"].flush_model(
            ["partner_id", "company_id", "state", "sent_at", "level_id"])
        self.env.cr.execute(SQL(
            """SELECT c.id, previous.id
                 FROM dunning_communication c
            LEFT JOIN LATERAL (
                      SELECT p.id FROM dunning_communication p
                       WHERE p.partner_id = c.partner_id AND p.company_id = c.company_id
                         AND p.state = 'sent' AND p.sent_at IS NOT NULL AND p.id != c.id
                         AND p.level_id IS DISTINCT FROM c.level_id
                       ORDER BY p.sent_at DESC, p.id DESC LIMIT 1) previous ON TRUE
                WHERE c.id = ANY(%s)""", comms.ids))
        return dict(self.env.cr.fetchall())

    @api.model
    def _dunning_statement_of(self, comm):
        """The customer's statement (dunning.statement) as this message gives it: this step's
        invoices highlighted, the payments received since the previous step's message (none
        listed when there was none), plus ``previous`` (that message) and ``due`` (the amount
        due now per currency, see _dunning_amounts_due).

        While a send batch renders its letters and e-mails (nothing of it has left yet), the
        e-mail and the letter of a step, which state the same statement, share one: computed
        once for the same customer, company, invoices, previous message, language, time zone
        and user (a copy of it is returned)."""
        previous = self._dunning_previous(comm)
        highlight = comm.line_ids.filtered("is_open").move_id
        shared = batch_store(self.env.cr).get(STATEMENTS_KEY)
        key = (comm.partner_id.id, comm.company_id.id, tuple(sorted(highlight.ids)), previous.id,
               self.env.context.get("lang"), self.env.context.get("tz"), self.env.uid, self.env.su)
        if shared is not None and key in shared:
            return dict(shared[key])
        statement = self.env["dunning.statement"]._dunning_statement(
            comm.partner_id, comm.company_id, highlight=highlight,
            since=previous.sent_at.date() if previous else None)
        statement["previous"] = previous
        if not previous:
            statement["payments"] = []
        statement["due"] = self._dunning_amounts_due(statement)
        statement["has_charges"] = any(row["charges"] for row in statement["rows"])
        statement["has_highlight"] = any(row["highlight"] for row in statement["rows"])
        statement["all_highlighted"] = all(row["highlight"] for row in statement["rows"])
        if shared is not None:
            shared[key] = dict(statement)
        return statement

    @api.model
    def _dunning_amounts_due(self, statement):
        """``[(currency, amount, rows)]``: what the customer should pay now, per currency:
        everything overdue (less open credit notes when they exceed what is not due yet),
        else the invoices this message is about; ``rows`` are the invoices it pays."""
        result = []
        for total in statement["totals"]:
            currency = total["currency"]
            rows = [row for row in statement["rows"]
                    if row["currency"] == currency and row["residual"] > 0]
            overdue_rows = [row for row in rows if currency.compare_amounts(row["overdue"], 0) > 0]
            if overdue_rows:
                amount = min(total["overdue"], total["residual"])
                rows = overdue_rows
            else:
                rows = [row for row in rows if row["highlight"]]
                amount = min(sum(row["residual"] for row in rows), total["residual"])
            amount = currency.round(amount)
            if currency.compare_amounts(amount, 0) > 0:
                result.append((currency, amount, rows))
        return result

    @api.model
    def _dunning_message_date(self, comm):
        return comm.sent_at.date() if comm.sent_at else fields.Date.context_today(self)

    @api.model
    def _dunning_next_step(self, comm):
        """What happens if the customer does not react: ``pay_by`` (PAY_WITHIN_DAYS after the
        message, or the day the next step is planned for the oldest invoice of this one, if
        later), ``level`` (the next level, if any), ``handoff`` (whether it hands the debt over)
        and ``agency`` (to whom, when the level names it; for the hand-off itself, this
        one's)."""
        day = self._dunning_message_date(comm)
        pay_by = day + timedelta(days=PAY_WITHIN_DAYS)
        level = comm.policy_id._levels_by_offset().filtered(
            lambda lvl: lvl.offset_days > comm.level_id.offset_days)[:1]
        dues = comm.line_ids.filtered("is_open").mapped("due_date")
        if level and dues:
            pay_by = max(pay_by, min(dues) + timedelta(days=level.offset_days))
        handoffs = level.channel_ids.filtered(lambda c: c.channel == "handoff")
        if comm.channel == "handoff":
            handoffs = comm.channel_config_id
        return {
            "date": day, "pay_by": pay_by, "level": level, "handoff": bool(handoffs),
            "agency": handoffs.handoff_partner_id[:1],
        }

    @api.model
    def _dunning_payment(self, comm, statement):
        """How to pay, for a letter: the statement's own "how to pay"
        (dunning.statement._dunning_statement_payment: the company's bank accounts, the
        reference to quote, an EPC / SEPA QR code for the amount in euros when an account can
        take one) for the amount due now, plus ``due`` and a QR code of the customer's link
        (``url``, ``link_qr``)."""
        due = statement["due"]
        payment = self.env["dunning.statement"]._dunning_statement_payment({
            "partner": statement["partner"], "company": statement["company"],
            "rows": [row for _currency, _amount, rows in due for row in rows],
            "totals": [{"currency": currency, "residual": amount}
                       for currency, amount, _rows in due],
        })
        url = comm.sudo().customer_url if self._dunning_may_read_link() else False
        link_qr = qr.qr_data_uri(url) if url else False
        return dict(payment, banks=payment["banks"][:2], due=due, url=url, link_qr=link_qr)

    @api.model
    def _dunning_may_read_link(self):
        """The customer link is shown to dunning users only (see its field's groups)."""
        return self.env.su or self.env.user.has_group("dunning_chain.group_dunning_user")


class ReportDunningLetter(models.AbstractModel):
    """Values of the reminder letter. wkhtmltopdf builds without Odoo's patched Qt (Debian's,
    for one) draw web fonts as shapes, glyph by glyph: about ten times the CPU, PDFs of a
    megabyte per letter and no text to select or search. There the letter uses a font
    installed on the server, which they embed as real text."""

    _name = "report.dunning_chain.report_dunning_letter"
    _description = "Dunning Reminder Letter"

    @api.model
    def _get_report_values(self, docids, data=None):
        return {
            "doc_ids": docids,
            "doc_model": "dunning.communication",
            "docs": self.env["dunning.communication"].browse(docids),
            "dunning_local_font": not _wkhtml().is_patched_qt,
        }
