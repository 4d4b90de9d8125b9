"""The payment journey, as the planner sees it (``dunning.plan``): the one-off steps counted
from the invoice date ("invoice issued"), the failed-payment episodes (an online payment that
did not go through: the company's failed-payment policy, then back to the overdue chain) and
the payments that came back (a returned direct debit, a charge-back: back to the level the
invoice had, the customer told).

Where an invoice stands in a failed-payment episode, and where it stood when a payment took it
out of the chain, lives in ``dunning.move.state`` next to its level; the reactions are on
``account.move`` (``_dunning_on_payment_failed``, ``_dunning_on_payment_received``,
``_dunning_on_payment_returned``), called by dunning_portal's transaction hook and by the run.
The overdue chain's query only gains a condition (invoices in an episode wait for its end).
"""
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import chain
from .account_move import END_OF_EPISODE
from .dunning_plan import Entry, Plan

#: A step counted from the invoice date is planned at most this many days after its day (a
#: weekend, a stopped run), never for older invoices: switching the step on does not announce
#: the invoices of the past.
ISSUE_REACH_DAYS = 3
RETURNED_TEMPLATE = "dunning_chain.mail_template_dunning_payment_returned"


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    # a message that is no step of a chain, like the thank-you: a payment came back
    kind = fields.Selection(selection_add=[("returned", "Payment returned")],
                            ondelete={"returned": "set default"})


class DunningPlanJourney(models.AbstractModel):
    _inherit = "dunning.plan"

    @api.model
    def _dunning_journey_plans(self, today, companies):
        """What the journey plans now (part of _compute_plans): the steps counted from the
        invoice date, the failed-payment steps."""
        return (self._dunning_issue_plans(today, companies)
                + self._dunning_failed_plans(today, companies))

    @staticmethod
    def _dunning_group(candidates):
        by_partner = defaultdict(list)
        for candidate in candidates:
            by_partner[(candidate.partner_id, candidate.company_id)].append(candidate)
        return by_partner

    @staticmethod
    def _dunning_split(partner, company, policy, per_level):
        plans = []
        for level, entries in per_level.items():
            if policy.grouping == "invoice":
                plans.extend(Plan(partner, company, policy, level, [entry]) for entry in entries)
            else:
                plans.append(Plan(partner, company, policy, level, entries))
        return plans

    # ---------------------------------------------------------------- counted from the invoice date
    @api.model
    def _dunning_issue_plans(self, today, companies):
        """One-off steps counted from the invoice date (e.g. "invoice issued" on the day the
        invoice is posted): each is sent once per invoice, ever (whatever became of its
        message), and leaves the invoice's place in its chain alone. Nothing to do, and no
        query, while no such step is active."""
        levels = self.env["dunning.level"].search([
            ("count_from", "=", "invoice"), ("policy_id.kind", "=", "overdue"),
            ("policy_id.active", "=", True)])
        if not levels:
            return []
        offsets = levels.mapped("offset_days")
        dates = (today - timedelta(days=max(offsets) + ISSUE_REACH_DAYS),
                 today - timedelta(days=min(offsets)))
        candidates = self._dunning_candidates(today, companies, scope="issued",
                                              invoice_dates=dates)
        if not candidates:
            return []
        sent = self._dunning_levels_used([c.move_id for c in candidates], levels)
        partners = self.env["res.partner"].browse({c.partner_id for c in candidates})
        groups = self._dunning_group(candidates)
        # the customers' policies, segments and refused channels (dunning_plan_customer.py)
        profiles = self._dunning_profiles(partners, groups.keys(), today)
        plans = []
        for (partner_id, company_id), items in groups.items():
            partner = partners.browse(partner_id).with_prefetch(partners._prefetch_ids)
            company = self.env["res.company"].browse(company_id)
            profile = profiles[partner_id, company_id]
            policy = profile.policy
            if not policy or partner.with_company(company).dunning_excluded:
                continue
            steps = self._dunning_levels_for(policy._dunning_issue_levels(), profile)[0]
            per_level = defaultdict(list)
            for c in items:
                days = (today - c.invoice_date).days
                done = sent.get(c.move_id, set())
                after = max((lvl.offset_days for lvl in steps if lvl.id in done), default=-1)
                due = steps.filtered(lambda lvl: lvl.id not in done and lvl.offset_days > after
                                     and lvl.offset_days <= days <= lvl.offset_days
                                     + ISSUE_REACH_DAYS)
                if due:
                    why = self.env._("issued on %(date)s (%(step)s)", date=c.invoice_date,
                                     step=due[-1].name)
                    per_level[due[-1]].append(Entry(c, why))
            plans += self._dunning_split(partner, company, policy, per_level)
        return plans

    @api.model
    def _dunning_levels_used(self, move_ids, levels):
        """{invoice id: ids of these levels it already had a message of (in any state)}."""
        self.env["dunning.communication.line"].flush_model(["move_id", "communication_id"])
        self.env["dunning.communication"].flush_model(["level_id"])
        self.env.cr.execute(SQL("""
            SELECT DISTINCT cl.move_id, c.level_id
              FROM dunning_communication_line cl
              JOIN dunning_communication c ON c.id = cl.communication_id
             WHERE cl.move_id = ANY(%s) AND c.level_id = ANY(%s)""", move_ids, levels.ids))
        used = defaultdict(set)
        for move_id, level_id in self.env.cr.fetchall():
            used[move_id].add(level_id)
        return used

    # ---------------------------------------------------------------- failed payments
    @api.model
    def _dunning_failed_plans(self, today, companies):
        """The steps of the failed-payment episodes: the company's failed-payment policy,
        its days counted from the failure (the level reached is sent, not a burst)."""
        candidates = self._dunning_candidates(today, companies, scope="failed")
        if not candidates:
            return []
        Level = self.env["dunning.level"].with_context(active_test=False)
        reached = {lvl.id: lvl.offset_days for lvl in Level.browse(
            {c.failed_level_id for c in candidates if c.failed_level_id})}
        partners = self.env["res.partner"].browse({c.partner_id for c in candidates})
        plans = []
        for (partner_id, company_id), items in self._dunning_group(candidates).items():
            partner = partners.browse(partner_id).with_prefetch(partners._prefetch_ids)
            company = self.env["res.company"].browse(company_id)
            policy = company._dunning_failed_policy()
            if not policy or partner.with_company(company).dunning_excluded:
                continue
            levels = policy._levels_by_offset()
            offsets = levels.mapped("offset_days")
            per_level = defaultdict(list)
            for c in items:
                current = (reached[c.failed_level_id], False) if c.failed_level_id else None
                failed_on = c.failed_at.date()
                decision = chain.level_reached(offsets, current, (today - failed_on).days)
                if decision is None:
                    continue
                level = levels[decision[0]]
                if level.offset_days:
                    why = self.env._("online payment of %(date)s did not go through, still "
                                     "unpaid %(days)s days later", date=failed_on,
                                     days=(today - failed_on).days)
                else:
                    why = self.env._("online payment of %s did not go through", failed_on)
                per_level[level].append(Entry(c, why))
            plans += self._dunning_split(partner, company, policy, per_level)
        return plans

    @api.model
    def _dunning_at_retry_step(self, plans):
        """Before the planned messages are created: dunning_portal charges the customer's saved
        payment method at the retry step when the failed-payment policy allows it (an invoice
        charged leaves the plan). Returns the plans to create."""
        return plans

    # ---------------------------------------------------------------- before planning
    @api.model
    def _dunning_follow_payment_journey(self, today, companies):
        """Before planning: payments that came back put their invoices back where they stood
        (the customer is told); failed-payment episodes whose last step is behind them end,
        and the invoices rejoin their chain."""
        self._dunning_follow_returns(companies)
        self._dunning_end_failed_episodes(companies)

    @api.model
    def _dunning_follow_returns(self, companies):
        """Invoices the run found paid by a payment (and took out of the chain) that are
        unpaid again: the payment came back. One query on the few parked rows."""
        self.env["account.move"].flush_model(["state", "move_type", "payment_state",
                                              "company_id"])
        self.env["dunning.move.state"].flush_model()
        self.env.cr.execute(SQL("""
            SELECT s.move_id FROM dunning_move_state s
              JOIN account_move m ON m.id = s.move_id
             WHERE s.paid_at IS NOT NULL AND m.state = 'posted' AND m.move_type = 'out_invoice'
               AND m.payment_state IN ('not_paid', 'partial') AND m.company_id = ANY(%s)""",
            companies.ids))
        returned = self.env["account.move"].browse(row[0] for row in self.env.cr.fetchall())
        return returned._dunning_on_payment_returned() if returned else returned

    @api.model
    def _dunning_end_failed_episodes(self, companies):
        """Failed-payment episodes with nothing left to send (their last step planned and gone,
        the invoice settled, no failed-payment policy any more) end: the invoice rejoins its
        chain at the level it had. Returns the invoices whose episode ended."""
        self.env["account.move"].flush_model(["state", "payment_state", "company_id"])
        self.env["dunning.move.state"].flush_model()
        self.env["dunning.communication"].flush_model(["state"])
        self.env.cr.execute(SQL("""
            SELECT s.move_id, m.company_id, s.payment_failed_level_id,
                   m.state = 'posted' AND m.payment_state IN ('not_paid', 'partial')
              FROM dunning_move_state s
              JOIN account_move m ON m.id = s.move_id
             WHERE s.payment_failed_at IS NOT NULL AND m.company_id = ANY(%s)
               AND NOT EXISTS (
                   SELECT 1 FROM dunning_communication_line cl
                     JOIN dunning_communication c ON c.id = cl.communication_id
                    WHERE cl.move_id = m.id AND c.state IN ('to_review', 'scheduled'))""",
            companies.ids))
        rows = self.env.cr.fetchall()
        if not rows:
            return self.env["account.move"]
        Level = self.env["dunning.level"].with_context(active_test=False)
        last_offsets = {}
        ended = []
        for move_id, company_id, level_id, is_open in rows:
            if company_id not in last_offsets:
                policy = self.env["res.company"].browse(company_id)._dunning_failed_policy()
                last = policy._levels_by_offset()[-1:] if policy else None
                last_offsets[company_id] = last.offset_days if last else None
            last_offset = last_offsets[company_id]
            if (not is_open or last_offset is None
                    or (level_id and Level.browse(level_id).offset_days >= last_offset)):
                ended.append(move_id)
        moves = self.env["account.move"].browse(ended)
        moves._dunning_set_state(**END_OF_EPISODE)
        for move in moves.filtered(lambda m: m._dunning_is_open()):
            move._message_log(body=self.env._(
                "The failed-payment steps are over: the invoice is back in its chain%s.",
                self.env._(" at level %s", move.dunning_level_id.name)
                if move.dunning_level_id else ""))
        return moves

    # ---------------------------------------------------------------- returned payments
    @api.model
    def _dunning_plan_returned(self, moves):
        """Plan the message that tells each customer a payment came back (one per customer and
        company, in the send window, with the level the invoices are back at). Returns the
        communications planned."""
        template = self.env.ref(RETURNED_TEMPLATE, raise_if_not_found=False)
        Comm = self.env["dunning.communication"]
        comms = Comm.browse()
        if not template:
            return comms
        now = fields.Datetime.now().replace(second=0, microsecond=0)
        planning = {}
        for (partner, company), partner_moves in moves.grouped(
                lambda m: (m.commercial_partner_id, m.company_id)).items():
            policy = partner._dunning_policy(company)
            if not policy or partner.with_company(company).dunning_excluded:
                continue
            scheduled_at, tz, why = self._dunning_plan_moment(
                partner, company, policy, "email", now, planning)
            comms |= Comm.create({
                "company_id": company.id, "partner_id": partner.id, "kind": "returned",
                "policy_id": policy.id, "level_id": partner_moves[:1].dunning_level_id.id,
                "channel": "email", "mail_template_id": template.id,
                "scheduled_at": scheduled_at, "partner_tz": tz, "schedule_reason": why,
                "reason": "\n".join(self.env._("%(invoice)s: payment returned, back at level "
                                               "%(level)s", invoice=m.name,
                                               level=m.dunning_level_id.name)
                                    for m in partner_moves),
                "line_ids": [fields.Command.create({
                    "move_id": m.id, "previous_level_id": m.dunning_level_id.id,
                    "due_date": m.dunning_due_date}) for m in partner_moves],
            })
        comms.line_ids._dunning_refresh_amounts()
        return comms
