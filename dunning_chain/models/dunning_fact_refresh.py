"""Keeping the effectiveness facts (dunning.fact) up to date, in SQL, for the rows concerned
only:

* a communication sent: its rows are inserted (``dunning.send._dunning_mark_sent``; those of a
  send batch together when the batch ends, in the order they were sent), and the rows of the
  same invoices refreshed (the new step closes the previous one's window);
* a payment reconciled with an invoice, or unreconciled (``account.partial.reconcile`` created
  or deleted): the rows of that invoice are refreshed once, when the transaction is flushed
  (a bank statement of a thousand lines: one refresh of the invoices it paid);
* a dispute or a promise (``account.move`` write): the rows of the step it followed are marked.

No scheduled job is needed for the 3/7/14/30-day windows: the amounts follow from the payments'
dates, whenever they are recorded. The nightly job only adds the rows of communications sent
before this table existed (or missed), a bounded batch per run.
"""
import logging
from datetime import timezone
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.tools import SQL

from .dunning_fact import WINDOWS
from .dunning_send import batch_store

_logger = logging.getLogger(__name__)

PENDING_KEY = "dunning.fact.pending_moves"
# the communications a send batch has sent so far (their facts are inserted when it ends)
SENT_KEY = "dunning_fact_sent"
# the communication whose link the customer acted from (set by dunning_portal for the request)
LINK_KEY = "dunning_link_communication"
FLAGS = ("disputed", "promised")
BACKFILL_BATCH = 5000
ANALYZE_AFTER = 10000
_ZONES = {}


def _zone(name):
    """ZoneInfo of a time zone name, UTC when unknown."""
    if name not in _ZONES:
        try:
            _ZONES[name] = ZoneInfo(name) if name else timezone.utc
        except (ValueError, KeyError, OSError):
            _ZONES[name] = timezone.utc
    return _ZONES[name]


class DunningFact(models.Model):
    _inherit = "dunning.fact"

    # ------------------------------------------------------------------ insert
    @api.model
    def _dunning_fact_insert(self, comm_ids):
        """Insert the rows of these sent communications (reminders: not thank-yous), one per
        invoice the message asked for; rows already there are kept. Returns the invoice ids
        concerned (their rows want a refresh)."""
        if not comm_ids:
            return []
        self.env["dunning.communication"].flush_model()
        self.env["dunning.communication.line"].flush_model()
        self.env["dunning.payer.rating"].flush_model()
        self.env.cr.execute(SQL(
            """SELECT c.id, c.sent_at, COALESCE(NULLIF(c.partner_tz, ''), NULLIF(p.tz, ''),
                                                 NULLIF(cp.tz, ''), 'UTC')
                 FROM dunning_communication c
                 JOIN res_partner p ON p.id = c.partner_id
                 JOIN res_company co ON co.id = c.company_id
                 JOIN res_partner cp ON cp.id = co.partner_id
                WHERE c.id = ANY(%s) AND c.state = 'sent' AND c.sent_at IS NOT NULL
                  AND c.kind != 'thanks'""", list(comm_ids)))
        ids, days, weekdays, hours = [], [], [], []
        rows = self.env.cr.fetchall()
        segments = self._dunning_fact_segments([row[0] for row in rows])
        for comm_id, sent_at, tz in rows:
            local = sent_at.replace(tzinfo=timezone.utc).astimezone(_zone(tz))
            ids.append(comm_id)
            days.append(local.date())
            weekdays.append(str(local.weekday()))
            hours.append(f"{local.hour:02d}")
        if not ids:
            return []
        # rows numbered in the order the communications are given (the order they were sent:
        # the first row of a step is its first message's, see step_first)
        order = {comm_id: position for position, comm_id in enumerate(comm_ids)}
        ids.sort(key=order.__getitem__)
        positions = [order[comm_id] for comm_id in ids]
        self.env.cr.execute(SQL(
            """INSERT INTO dunning_fact (communication_id, line_id, move_id, company_id,
                       partner_id, policy_id, level_id, channel, sent_at, sent_date,
                       sent_weekday, sent_hour, currency_id, amount_asked, paid_3, paid_7,
                       paid_14, paid_30, paid_after, recovery_3, recovery_7, recovery_14,
                       recovery_30, customers_paid, disputed, promised, step_first,
                       refreshed_at, payer_rating, segment_id)
               SELECT c.id, l.id, l.move_id, c.company_id, m.commercial_partner_id,
                      c.policy_id, c.level_id, c.channel, c.sent_at, loc.sent_date,
                      loc.weekday, loc.hour, co.currency_id,
                      COALESCE(l.amount_residual_company, 0), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                      0, 0, FALSE, NOW() AT TIME ZONE 'UTC', r.rating, seg.segment_id
                 FROM unnest(%(ids)s::int4[], %(days)s::date[], %(weekdays)s::varchar[],
                             %(hours)s::varchar[], %(positions)s::int4[])
                          AS loc(comm_id, sent_date, weekday, hour, position)
                 JOIN dunning_communication c ON c.id = loc.comm_id
                 JOIN dunning_communication_line l ON l.communication_id = c.id
                 JOIN account_move m ON m.id = l.move_id
                 JOIN res_company co ON co.id = c.company_id
                 LEFT JOIN dunning_payer_rating r ON r.partner_id = m.commercial_partner_id
                                                 AND r.company_id = c.company_id
                LEFT JOIN unnest(%(seg_partners)s::int4[], %(seg_companies)s::int4[],
                                 %(seg_ids)s::int4[]) AS seg(partner_id, company_id, segment_id)
                       ON seg.partner_id = m.commercial_partner_id
                      AND seg.company_id = c.company_id
                WHERE l.is_open
                ORDER BY loc.position, l.id
               ON CONFLICT (line_id) DO NOTHING
            RETURNING move_id""", ids=ids, days=days, weekdays=weekdays, hours=hours,
            positions=positions,
            seg_partners=[key[0] for key in segments], seg_companies=[key[1] for key in segments],
            seg_ids=list(segments.values())))
        return sorted({row[0] for row in self.env.cr.fetchall()})

    @api.model
    def _dunning_fact_segments(self, comm_ids):
        """{(commercial partner id, company id): its first segment id} for the invoices of
        these communications, as the segments hold them now (nothing when a company has
        none: no query)."""
        result = {}
        comms = self.env["dunning.communication"].browse(comm_ids)
        Segment = self.env["dunning.segment"]
        for company, company_comms in comms.grouped("company_id").items():
            if not Segment._dunning_segments_of(company):
                continue
            partners = company_comms.line_ids.move_id.commercial_partner_id
            for partner_id, segments in Segment._dunning_membership(partners, company).items():
                if segments:
                    result[(partner_id, company.id)] = segments[0].id
        return result

    # ------------------------------------------------------------------ refresh
    @api.model
    def _dunning_fact_refresh(self, move_ids):
        """Recompute the payment measures of the rows of these invoices (and only of them)
        from their reconciliations, writing the rows that changed. Returns the ids written."""
        move_ids = list(move_ids)
        if not move_ids:
            return []
        for model in ("account.move", "account.move.line", "account.partial.reconcile",
                      "dunning.fact"):
            self.env[model].flush_model()
        windows = SQL(", ").join(
            SQL("COALESCE(SUM(p.amount) FILTER (WHERE p.pay_date <= s.sent_date + %s), 0) AS %s",
                days, SQL.identifier(f"p{days}")) for days in WINDOWS)
        capped = SQL(", ").join(
            SQL("LEAST(f.amount_asked, g.%s) AS %s", SQL.identifier(f"p{days}"),
                SQL.identifier(f"paid_{days}")) for days in WINDOWS)
        sets = SQL(", ").join(
            SQL("%(paid)s = n.%(paid)s, %(rate)s = CASE WHEN f.amount_asked > 0 THEN "
                "ROUND(100.0 * n.%(paid)s / f.amount_asked, 2) ELSE 0 END",
                paid=SQL.identifier(f"paid_{days}"), rate=SQL.identifier(f"recovery_{days}"))
            for days in WINDOWS)
        changed = SQL(" OR ").join(
            SQL("f.%(col)s IS DISTINCT FROM n.%(col)s", col=SQL.identifier(col))
            for col in [f"paid_{days}" for days in WINDOWS] + [
                "paid_after", "next_step_date", "paid_on", "days_to_pay", "step_first"])
        self.env.cr.execute(SQL(
            """WITH steps AS (
                   SELECT move_id, sent_date,
                          LEAD(sent_date) OVER (PARTITION BY move_id ORDER BY sent_date)
                              AS next_date
                     FROM (SELECT DISTINCT move_id, sent_date FROM dunning_fact
                            WHERE move_id = ANY(%(ids)s)) d
               ), pay AS (
                   SELECT il.move_id, cl.date AS pay_date, SUM(apr.amount) AS amount
                     FROM account_move_line il
                     JOIN account_partial_reconcile apr ON apr.debit_move_id = il.id
                     JOIN account_move_line cl ON cl.id = apr.credit_move_id
                     JOIN account_move cm ON cm.id = cl.move_id
                    WHERE il.move_id = ANY(%(ids)s) AND il.display_type = 'payment_term'
                      AND cm.state = 'posted'
                      AND (cm.origin_payment_id IS NOT NULL OR cm.statement_line_id IS NOT NULL)
                    GROUP BY il.move_id, cl.date
               ), settled AS (
                   SELECT m.id AS move_id, MAX(pay.pay_date) AS paid_on
                     FROM account_move m JOIN pay ON pay.move_id = m.id
                    WHERE m.id = ANY(%(ids)s) AND m.payment_state IN ('paid', 'in_payment')
                    GROUP BY m.id
               ), got AS (
                   SELECT s.move_id, s.sent_date, s.next_date, %(windows)s,
                          COALESCE(SUM(p.amount), 0) AS p_all
                     FROM steps s
                     LEFT JOIN pay p ON p.move_id = s.move_id AND p.pay_date >= s.sent_date
                                    AND (s.next_date IS NULL OR p.pay_date < s.next_date)
                    GROUP BY s.move_id, s.sent_date, s.next_date
               ), n AS (
                   SELECT f.id, %(capped)s, LEAST(f.amount_asked, g.p_all) AS paid_after,
                          g.next_date AS next_step_date, st.paid_on,
                          CASE WHEN st.paid_on IS NOT NULL
                               THEN GREATEST(st.paid_on - f.sent_date, 0) END AS days_to_pay,
                          f.id = MIN(f.id) OVER (PARTITION BY f.move_id, f.sent_date)
                              AS step_first
                     FROM dunning_fact f
                     JOIN got g ON g.move_id = f.move_id AND g.sent_date = f.sent_date
                     LEFT JOIN settled st ON st.move_id = f.move_id
                    WHERE f.move_id = ANY(%(ids)s)
               )
               UPDATE dunning_fact f
                  SET %(sets)s, paid_after = n.paid_after, next_step_date = n.next_step_date,
                      paid_on = n.paid_on, days_to_pay = n.days_to_pay,
                      step_first = n.step_first,
                      customers_paid = CASE WHEN n.paid_30 > 0 THEN 100 ELSE 0 END,
                      refreshed_at = NOW() AT TIME ZONE 'UTC'
                 FROM n
                WHERE f.id = n.id AND (%(changed)s)
            RETURNING f.id""",
            ids=move_ids, windows=windows, capped=capped, sets=sets, changed=changed))
        written = [row[0] for row in self.env.cr.fetchall()]
        if written:
            self.invalidate_model()
        return written

    @api.model
    def _dunning_fact_later(self, move_ids):
        """Refresh the rows of these invoices when the transaction is flushed (once, however
        many reconciliations happen meanwhile)."""
        move_ids = set(move_ids)
        if not move_ids:
            return
        precommit = self.env.cr.precommit
        pending = precommit.data.get(PENDING_KEY)
        if pending is None:
            pending = precommit.data[PENDING_KEY] = set()
            precommit.add(self.sudo()._dunning_fact_flush_pending)
        pending |= move_ids

    @api.model
    def _dunning_fact_flush_pending(self):
        move_ids = self.env.cr.precommit.data.pop(PENDING_KEY, None)
        if not move_ids:
            return
        self.env.cr.execute(SQL("SELECT DISTINCT move_id FROM dunning_fact WHERE move_id = ANY(%s)",
                                list(move_ids)))
        with_facts = [row[0] for row in self.env.cr.fetchall()]
        if with_facts:
            self._dunning_fact_refresh(with_facts)

    @api.private
    def flush_model(self, fnames=None):
        """Reading the facts in the transaction that paid an invoice reads them refreshed."""
        if self.env.cr.precommit.data.get(PENDING_KEY):
            self.sudo()._dunning_fact_flush_pending()
        return super().flush_model(fnames)

    # ------------------------------------------------------------------ marks
    @api.model
    def _dunning_fact_mark(self, move_ids, flag, communication_id=None):
        """Set ``flag`` (an integer 0/1 column) on the rows of the step these invoices are at:
        the rows of ``communication_id`` (the message whose link the customer used) for the
        invoices it covers, else those of each invoice's latest step. Returns the ids
        written."""
        move_ids = list(move_ids)
        if not move_ids:
            return []
        column = SQL.identifier(flag)
        written = []
        if communication_id:
            self.env.cr.execute(SQL(
                """UPDATE dunning_fact SET %(col)s = 1
                    WHERE communication_id = %(comm)s AND move_id = ANY(%(ids)s)
                RETURNING id, move_id""", col=column, comm=communication_id, ids=move_ids))
            rows = self.env.cr.fetchall()
            written = [row[0] for row in rows]
            move_ids = list(set(move_ids) - {row[1] for row in rows})
        if move_ids:
            self.env.cr.execute(SQL(
                """UPDATE dunning_fact f SET %(col)s = 1
                    WHERE f.move_id = ANY(%(ids)s)
                      AND f.sent_date = (SELECT MAX(g.sent_date) FROM dunning_fact g
                                          WHERE g.move_id = f.move_id)
                RETURNING f.id""", col=column, ids=move_ids))
            written += [row[0] for row in self.env.cr.fetchall()]
        if written:
            self.invalidate_model([flag])
        return written

    # ------------------------------------------------------------------ nightly
    @api.model
    def _cron_dunning_fact_backfill(self, batch=BACKFILL_BATCH):
        """Add the rows of sent communications that have none (sent before this table
        existed), a batch at a time, oldest first, committing progress."""
        self.env.cr.execute(SQL(
            """SELECT c.id FROM dunning_communication c
                WHERE c.state = 'sent' AND c.kind != 'thanks'
                  AND NOT EXISTS (SELECT 1 FROM dunning_fact f WHERE f.communication_id = c.id)
                  AND EXISTS (SELECT 1 FROM dunning_communication_line l
                               WHERE l.communication_id = c.id AND l.is_open)
                ORDER BY c.sent_at, c.id"""))
        todo = [row[0] for row in self.env.cr.fetchall()]
        done = 0
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            self._dunning_fact_backfill(chunk)
            done += len(chunk)
            if not self.env["ir.cron"]._commit_progress(len(chunk), remaining=len(todo) - done):
                break
        if done >= ANALYZE_AFTER:
            # fresh statistics: the per-invoice statements keep their index plans (no JIT on
            # estimates of an unanalysed table)
            self.env.cr.execute(SQL("ANALYZE dunning_fact"))
        return done

    @api.model
    def _dunning_fact_backfill(self, comm_ids):
        """Rows of these sent communications, then their invoices' rows refreshed."""
        move_ids = self._dunning_fact_insert(comm_ids)
        self._dunning_fact_refresh(move_ids)
        return move_ids


class DunningSend(models.AbstractModel):
    _inherit = "dunning.send"

    @api.model
    def _dunning_send_batch(self, comms):
        """The rows of facts of a batch's sent communications are inserted together when the
        batch ends (one statement, one refresh of their invoices' rows), not one
        communication at a time: the same rows (see _dunning_fact_insert's order), without a
        statement, a flush and a refresh per message. Those sent then rolled back (a
        communication's savepoint) are not sent any more: the insert skips them."""
        store = batch_store(self.env.cr)
        if SENT_KEY in store:  # a batch inside a batch: the outer one inserts
            return super()._dunning_send_batch(comms)
        sent = store[SENT_KEY] = []
        try:
            result = super()._dunning_send_batch(comms)
        finally:
            store.pop(SENT_KEY, None)
        if sent:
            Fact = self.env["dunning.fact"].sudo()
            Fact._dunning_fact_later(Fact._dunning_fact_insert(sent))
        return result

    @api.model
    def _dunning_mark_sent(self, comm, result):
        """A sent communication gets its rows of facts (at the end of its batch, see
        _dunning_send_batch); the rows of the same invoices are refreshed (this step closes
        the window of the one before)."""
        super()._dunning_mark_sent(comm, result)
        if comm.state != "sent":
            return
        sent = batch_store(self.env.cr).get(SENT_KEY)
        if sent is not None:
            sent.append(comm.id)
            return
        Fact = self.env["dunning.fact"].sudo()
        Fact._dunning_fact_later(Fact._dunning_fact_insert(comm.ids))


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._dunning_fact_touch()
        return partials

    def unlink(self):
        moves = self._dunning_fact_moves()
        result = super().unlink()
        self.env["dunning.fact"].sudo()._dunning_fact_later(moves)
        return result

    def _dunning_fact_moves(self):
        lines = self.debit_move_id | self.credit_move_id
        return lines.filtered(lambda line: line.move_id.move_type == "out_invoice").move_id.ids

    def _dunning_fact_touch(self):
        self.env["dunning.fact"].sudo()._dunning_fact_later(self._dunning_fact_moves())


class AccountMove(models.Model):
    _inherit = "account.move"

    def write(self, vals):
        result = super().write(vals)
        flags = [flag for flag, fname in zip(FLAGS, ("dunning_dispute_state",
                                                      "dunning_promise_state"))
                 if vals.get(fname) == "open"]
        if flags and self:
            source = batch_store(self.env.cr).get(LINK_KEY)
            Fact = self.env["dunning.fact"].sudo()
            for flag in flags:
                Fact._dunning_fact_mark(self.ids, flag, communication_id=source)
        return result
