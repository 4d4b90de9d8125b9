"""The planner: which invoices have reached which step, and when each message may leave.

``dunning.plan`` holds no data (like ``account.move.send``): the run calls
``_dunning_plan()``, the preview wizard ``_compute_plans()``. It creates the planned
``dunning.communication`` records; ``dunning.send`` sends them.
"""
from collections import defaultdict, namedtuple
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools import chain, send_caps

# An open invoice found by the planner's query, with where it stands in the chain (and in a
# failed-payment episode: since when, the last step of it planned)
Candidate = namedtuple("Candidate", [
    "move_id", "partner_id", "company_id", "due_date", "currency_id", "total", "residual",
    "residual_company", "reference", "overdue", "name", "level_id", "due_state",
    "promise_state", "promise_date", "remind_reason", "failed_at", "failed_level_id",
    "invoice_date"])
# A candidate given a level, with the reason in words
Entry = namedtuple("Entry", ["candidate", "why"])
# One planned message (per channel of the level): whom, for which company, policy and level;
# ``refused``: {channel: why} of the channels the customer refused, when already known
Plan = namedtuple("Plan", ["partner", "company", "policy", "level", "entries", "refused"],
                  defaults=(None,))
# Plans turned into messages at once (the cache is emptied between batches)
PLAN_BATCH = 2000


class DunningPlan(models.AbstractModel):
    _name = "dunning.plan"
    _description = "Dunning Planner"

    # ---------------------------------------------------------------- candidates and levels
    @api.model
    def _dunning_candidates(self, today, companies, scope="chain", invoice_dates=None):
        """Open posted customer invoices whose oldest unpaid instalment falls within reach of the
        earliest level, with where they stand in the chain. One SQL query (partial indexes on
        account_move and account_move_line, see dunning_move_state.py), no ORM loop: a list
        of Candidate tuples.

        ``scope``: ``chain`` (the overdue chain: invoices in a failed-payment episode wait for
        its end), ``failed`` (the invoices of failed-payment episodes, whatever their due date)
        or ``issued`` (invoices dated within ``invoice_dates``, a (first, last) pair, for the
        steps counted from the invoice date)."""
        if scope == "chain":
            min_offset = self.env["dunning.level"].search(
                [("count_from", "=", "due"), ("policy_id.kind", "=", "overdue")],
                order="offset_days", limit=1).offset_days or 0
            reach = today - timedelta(days=min_offset)
            # driven by the unpaid instalments due by then (partial index, dunning_move_state.py):
            # the invoices not due yet cost nothing, however many
            where = SQL("""s.payment_failed_at IS NULL AND m.id IN (
                SELECT d.move_id FROM account_move_line d
                 WHERE d.display_type = 'payment_term' AND NOT d.reconciled
                   AND d.amount_residual > 0 AND d.date_maturity <= %s)""", reach)
            having = SQL("HAVING MIN(l.date_maturity) <= %s", reach)
        elif scope == "failed":
            where, having = SQL("s.payment_failed_at IS NOT NULL"), SQL()
        else:
            where = SQL("s.payment_failed_at IS NULL AND m.invoice_date BETWEEN %s AND %s",
                        *invoice_dates)
            having = SQL()
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
                   m.dunning_promise_date, s.remind_reason, s.payment_failed_at,
                   s.payment_failed_level_id, m.invoice_date
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
               AND %(where)s
             GROUP BY m.id, s.id
            %(having)s
        """, companies=companies.ids, today=today, where=where, having=having))
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
    def _dunning_plan(self, today=None, companies=None):
        """Follow what customers agreed to, decide each open invoice's level and plan one
        communication per customer, level and channel. Idempotent: invoices with a
        communication still planned are left alone. Returns the planned communications."""
        today = today or fields.Date.context_today(self)
        companies = companies or self.env.companies
        self._dunning_follow_commitments(today, companies)
        self._dunning_follow_payment_journey(today, companies)
        plans = self._dunning_at_retry_step(self._compute_plans(today, companies))
        return self._dunning_create_planned(plans, today)

    @api.model
    def _compute_plans(self, today=None, companies=None):
        """What the run would plan now, without planning it: a list of Plan (customer,
        company, policy, level, [Entry]). The decision works on the candidates' plain values
        (tools/chain.py), not on records: tens of thousands of invoices per run."""
        today = today or fields.Date.context_today(self)
        companies = companies or self.env.companies
        # the steps counted from the invoice date and the failed-payment episodes
        # (dunning_plan_journey.py), then the overdue chain
        journey = self._dunning_journey_plans(today, companies)
        candidates = self._dunning_candidates(today, companies)
        if not candidates:
            return journey
        partners = self.env["res.partner"].browse({c.partner_id for c in candidates})
        # every level an invoice may stand at: (offset, is_final)
        Level = self.env["dunning.level"].with_context(active_test=False)
        level_meta = {lvl.id: (lvl.offset_days, lvl.is_final) for lvl in Level.browse(
            {c.level_id for c in candidates if c.level_id})}

        by_partner = defaultdict(list)
        for candidate in candidates:
            by_partner[(candidate.partner_id, candidate.company_id)].append(candidate)

        plans = []  # (partner, company, policy, level, [Entry])
        # who each customer is (its policy, segments, refused channels, late payer or not),
        # resolved for all of them at once (dunning_plan_customer.py)
        profiles = self._dunning_profiles(partners, by_partner.keys(), today)
        eligible_cache = {}
        why_memo = {}
        for (partner_id, company_id), items in by_partner.items():
            partner = partners.browse(partner_id).with_prefetch(partners._prefetch_ids)
            company = self.env["res.company"].browse(company_id)
            profile = profiles[partner_id, company_id]
            policy = profile.policy
            if not policy or partner.dunning_excluded:
                continue
            # the levels meant for the customer, the steps it refused left out
            key = (policy.id, profile.key)
            if key not in eligible_cache:
                levels, left_out = self._dunning_levels_for(policy._levels_by_offset(), profile)
                level_meta.update({lvl.id: (lvl.offset_days, lvl.is_final) for lvl in levels})
                eligible_cache[key] = (levels, [lvl.offset_days for lvl in levels], left_out)
            levels, offsets, left_out = eligible_cache[key]
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
                if left_out:
                    why += self._dunning_left_out_why(left_out, current, levels[index])
                per_level[levels[index]].append(Entry(c, why))
            if not per_level:
                continue
            if policy.minimum_amount:
                total = sum(e.candidate.residual_company
                            for entries in per_level.values() for e in entries)
                if company.currency_id.compare_amounts(total, policy.minimum_amount) < 0:
                    continue
            refused = profile.refused
            for level, entries in per_level.items():
                if policy.grouping == "invoice":
                    for entry in entries:
                        plans.append(Plan(partner, company, policy, level, [entry], refused))
                else:
                    plans.append(Plan(partner, company, policy, level, entries, refused))
        return journey + plans

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
        The tools return facts; ``dunning.send.window`` words them in the customer's language.
        """
        planning = planning if planning is not None else {}
        words = self.env["dunning.send.window"]
        memo = self._dunning_memo
        # what the run needs of a customer is read once per run (a customer gets a message per
        # level and channel), what many customers share once per run too: the policy's rules
        # and caps, the closed days of a country (customers without closures of their own),
        # the first allowed moment of a zone (memo of spread_slot)
        tz, tz_source = self._dunning_timezone_for(partner, company, channel, planning)
        rules, cap, per_hour = memo(planning, ("policy", policy.id, channel), lambda: (
            policy._dunning_window_rules(), policy._dunning_frequency_cap(channel),
            policy.max_per_hour))
        customer = partner.commercial_partner_id
        closed_key, lang = memo(planning, ("customer", customer.id, company.id), lambda: (
            ("closed", company.id, now.date(), customer.country_id.code, customer.state_id.code,
             customer.lang, customer.id if customer.dunning_closure_ids else None),
            memo(planning, ("lang", customer.lang), lambda: words._dunning_lang(partner))))
        closed = self._dunning_memo(planning, closed_key, lambda: partner._dunning_closed_days(
            company, now.date(), now.date() + timedelta(days=400), planning))
        moment, cap_facts = now, []
        if cap:
            key = ("contacts", channel)
            if key not in planning:
                planning[key] = self._dunning_contacts(channel, now - timedelta(days=7))
            contacts = planning[key][partner.id]
            moment, cap_facts = send_caps.frequency_cap_date(now, contacts, cap, channel=channel,
                                                             tz_name=tz)
        key = ("taken", channel, company.id)
        if key not in planning:
            planning[key] = self._dunning_taken_slots(channel, company, now)
        taken = planning[key]
        try:
            slot, facts = send_caps.spread_slot(
                moment, tz, rules, closed, taken, per_hour,
                memo=planning.setdefault("slots", {}), memo_key=(tz, policy.id, closed_key))
        except ValueError as exc:
            err = words._dunning_words([exc.fact]) if getattr(exc, "fact", None) else exc
            raise UserError(self.env._("No moment to send fits the policy '%(policy)s': %(err)s",
                                       policy=policy.name, err=err)) from exc
        bucket = slot.replace(minute=0, second=0, microsecond=0)
        taken[bucket] = taken.get(bucket, 0) + 1
        if cap:
            contacts.append(slot)
        all_facts = [*cap_facts, *facts, tz_source]
        try:
            # customers of one zone planned in the same hour share their reason's words
            key = ("words", lang, *((f.code, tuple(sorted(f.values.items()))) for f in all_facts))
            hash(key)
        except TypeError:  # a fact holding a list: worded on its own
            return slot, tz, words._dunning_words(all_facts, lang)
        in_lang = memo(planning, ("words in", lang), lambda: words.with_context(lang=lang))
        return slot, tz, memo(planning, key, lambda: in_lang._dunning_words(all_facts, lang))

    @staticmethod
    def _dunning_memo(planning, key, make):
        if key not in planning:
            planning[key] = make()
        return planning[key]

    @api.model
    def _dunning_timezone_for(self, partner, company, channel, planning=None):
        """(time zone, where it comes from) of the recipient for a channel: the source is a fact
        of ``tools/customer_calendar.py`` (``tz_customer``, ``tz_country``...) that
        ``dunning.send.window`` words. Channels whose address has a zone of its own (an SMS to a
        foreign mobile) override this. ``planning``: the run's memo (the customer's zone is
        worked out once per run)."""
        if planning is None:
            return partner._dunning_timezone(company)
        return self._dunning_memo(planning, ("tz", partner.id, company.id),
                                  lambda: partner._dunning_timezone(company))

    @api.model
    def _dunning_channel_label(self, channel):
        Channel = self.env["dunning.level.channel"]
        return dict(Channel._fields["channel"]._description_selection(self.env)).get(
            channel, channel)

    @api.model
    def _dunning_contacts(self, channel, since):
        """{customer id: moments of its contacts through a channel since a date (sent or
        planned)}: the frequency caps count them. One query for every customer."""
        self.env["dunning.communication"].flush_model(
            ["partner_id", "channel", "state", "sent_at", "scheduled_at"])
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
        self.env["dunning.communication"].flush_model(
            ["channel", "state", "scheduled_at", "company_id"])
        self.env.cr.execute(SQL("""
            SELECT date_trunc('hour', scheduled_at), COUNT(*) FROM dunning_communication
             WHERE channel = %s AND company_id = %s AND state IN ('scheduled', 'to_review')
               AND scheduled_at >= %s
             GROUP BY 1""", channel, company.id, since - timedelta(hours=1)))
        return dict(self.env.cr.fetchall())

    # ---------------------------------------------------------------- payment received
    @api.model
    def _dunning_thank_paid(self):
        """Invoices that were reminded and are now paid leave the chain
        (``account.move._dunning_on_paid``); the policy may thank the customer (one message per
        customer, planned in the send window like any other)."""
        moves = self.env["account.move"]._dunning_paid_in_chain()
        Comm = self.env["dunning.communication"]
        thanks = Comm.browse()
        now = fields.Datetime.now().replace(second=0, microsecond=0)
        planning = {}
        for (partner, company), partner_moves in moves.grouped(
                lambda m: (m.commercial_partner_id, m.company_id)).items():
            # a real payment settled them: not a credit note, not a write-off
            paid = partner_moves.filtered(lambda m: m.payment_state != "reversed"
                                          and m.dunning_last_date
                                          and m._dunning_settled_by_payment())
            policy = partner._dunning_policy(company)
            template = policy.thank_you_template_id
            if paid and template:
                scheduled_at, tz, why = self._dunning_plan_moment(
                    partner, company, policy, "email", now, planning)
                thanks |= Comm.create({
                    "company_id": company.id, "partner_id": partner.id, "kind": "thanks",
                    "policy_id": policy.id, "level_id": paid[:1].dunning_level_id.id,
                    "channel": "email", "mail_template_id": template.id,
                    "scheduled_at": scheduled_at, "partner_tz": tz, "schedule_reason": why,
                    "reason": self.env._("Payment received"),
                    "line_ids": [fields.Command.create({
                        "move_id": m.id, "previous_level_id": m.dunning_level_id.id,
                        "due_date": m.dunning_due_date}) for m in paid],
                })
        moves._dunning_on_paid()
        thanks.line_ids._dunning_refresh_amounts()
        return thanks
