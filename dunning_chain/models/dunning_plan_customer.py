"""The planner and who the customer is (part of ``dunning.plan``): the policy that applies and
why, the segments it is in, whether it pays late, the channels it refused. Resolved in bulk for
every customer of a run (``_dunning_profiles``: a few queries per company, none per customer),
then used by the decision of ``_compute_plans``:

* the customer's chain holds the levels meant for it: not those limited to segments it is not
  in, nor the late payers' ones when it pays on time (``late_payers_only``, the built-in case),
  nor a level whose every channel it refused. Such a level is passed over as if the policy had
  none (as dunning_sms does with an SMS-only step for a customer without a mobile): the chain
  goes on with the next step on its day, and a broken promise gets the next step that can reach
  the customer. The next step's reason says which refused step was left out and why;
* a level with several channels sends those the customer did not refuse, the reason of each
  planned message saying which were left out ("Phone call left out: no call: the customer
  prefers e-mail");
* a message planned before the customer refused its channel is cancelled when it would leave,
  with the reason (``dunning.send._dunning_send_one``): the chain goes on.
"""
from collections import namedtuple

from odoo import api, models
from odoo.tools import SQL

from .dunning_segment import group_by_company

#: Who a customer is, for the planner. ``key``: what decides which levels apply to it
#: (hashable: customers of one policy with the same key share one list of levels);
#: ``for_customer(level)``: the level is meant for the customer (segments, late payers);
#: ``refused``: {channel: why} of the channels it refused, in the planner's language.
Profile = namedtuple("Profile", ["policy", "key", "for_customer", "refused"])


class DunningPlanCustomer(models.AbstractModel):
    _inherit = "dunning.plan"

    @api.model
    def _dunning_profiles(self, partners, keys, today):
        """{(commercial partner id, company id): Profile} for the pairs ``keys``."""
        # the columns the run reads of its customers, for all of them in one query (the first
        # field read would otherwise load every column of res.partner, a thousand at a time)
        partners.fetch(self._dunning_customer_fields())
        late_days = partners._dunning_average_days_late()
        limits = self._dunning_level_limits()
        Segment = self.env["dunning.segment"]
        profiles = {}
        for company_id, partner_ids in group_by_company(keys).items():
            company = self.env["res.company"].browse(company_id)
            customers = partners.browse(partner_ids).with_prefetch(partners._prefetch_ids)
            membership = Segment._dunning_membership(customers, company, today)
            policies = Segment._dunning_policies(customers, company, membership)
            for partner in customers:
                policy = policies[partner.id][0]
                late = bool(policy) and late_days.get(partner.id, 0.0) > policy.late_payer_days
                segments = frozenset(membership.get(partner.id, Segment).ids)
                refused = partner._dunning_refused_channels(lang=self.env.lang)
                profiles[partner.id, company_id] = Profile(
                    policy, (late, segments, frozenset(refused)),
                    self._dunning_level_filter(late, segments, limits), refused)
        return profiles

    @api.model
    def _dunning_customer_fields(self):
        """The fields of res.partner the planner reads of each customer (addons add theirs)."""
        return ["commercial_partner_id", "dunning_excluded", "tz", "lang", "country_id",
                "state_id", "dunning_no_call", "dunning_no_letter", "dunning_closure_ids"]

    @staticmethod
    def _dunning_level_filter(late, segment_ids, limits):
        def for_customer(level):
            limited_to = limits.get(level.id)
            return ((not level.late_payers_only or late)
                    and (not limited_to or not segment_ids.isdisjoint(limited_to)))
        return for_customer

    @api.model
    def _dunning_level_limits(self):
        """{level id: ids of the segments it is limited to}: every segment, archived ones and
        those of other companies too (read from the table, whoever plans): a level limited to
        segments goes to nobody outside them, never to everybody."""
        self.env["dunning.level"].flush_model(["segment_ids"])
        self.env.cr.execute(SQL("SELECT level_id, ARRAY_AGG(segment_id) "
                                "FROM dunning_level_segment_rel GROUP BY level_id"))
        return {level_id: frozenset(ids) for level_id, ids in self.env.cr.fetchall()}

    @api.model
    def _dunning_levels_for(self, levels, profile):
        """(the levels of ``levels`` in the customer's chain, [(level, why)] of those meant for
        it but left out because it refused every channel of theirs)."""
        meant = levels.filtered(profile.for_customer)
        if not profile.refused:
            return meant, []
        left_out = []
        for level in meant:
            channels = level.channel_ids.mapped("channel")
            if channels and all(channel in profile.refused for channel in channels):
                left_out.append((level, "; ".join(dict.fromkeys(
                    profile.refused[channel] for channel in channels))))
        return meant - self.env["dunning.level"].union(*(lvl for lvl, _why in left_out)), left_out

    @api.model
    def _dunning_left_out_why(self, left_out, current, level):
        """Words for the refused steps an invoice passed over on its way from its current level
        (offset, is_final, or None) to ``level``: "; step Phone call (+15 days) left out: no
        call: the customer prefers e-mail"."""
        passed = [(lvl, why) for lvl, why in left_out
                  if (current is None or lvl.offset_days > current[0])
                  and lvl.offset_days < level.offset_days]
        return "".join(self.env._("; step %(step)s left out: %(why)s",
                                  step=lvl.display_name, why=why) for lvl, why in passed)

    @api.model
    def _dunning_plan_channels(self, partner, level, planning=None, refused=None):
        """(the channels of ``level`` that go to ``partner``, a note on those it refused).
        ``planning``: the run's memo (what a customer refused is read once per run);
        ``refused``: what it refused, when the caller knows it already (its profile)."""
        planning = planning if planning is not None else {}
        if refused is None:
            key = ("refused", partner.id)
            if key not in planning:
                planning[key] = partner._dunning_refused_channels(lang=self.env.lang) \
                    if partner else {}
            refused = planning[key]
        key = ("level channels", level.id)
        if key not in planning:
            planning[key] = level.channel_ids
        channels = planning[key]
        if not refused:
            return channels, ""
        kept = channels.filtered(lambda line: line.channel not in refused)
        notes = [self.env._("%(channel)s left out: %(why)s",
                            channel=self._dunning_channel_label(line.channel),
                            why=refused[line.channel])
                 for line in channels - kept]
        return kept, "\n".join(notes)


class DunningSend(models.AbstractModel):
    _inherit = "dunning.send"

    @api.model
    def _dunning_send_one(self, comm, cache=None):
        """A reminder whose channel the customer refused after it was planned does not leave:
        it is cancelled with the reason (the chain goes on)."""
        if comm.state == "scheduled" and comm.kind == "reminder":
            why = comm.partner_id._dunning_refused_channels().get(comm.channel)
            if why:
                self._dunning_mark_cancelled(comm, why)
                return None
        return super()._dunning_send_one(comm, cache)
