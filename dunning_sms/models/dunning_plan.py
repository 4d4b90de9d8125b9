"""The planner and SMS (part of ``dunning.plan``): an SMS-only step does not apply to a
customer whose phones cannot receive one, and an SMS follows the time zone of its number."""
from odoo import api, models

from odoo.addons.dunning_chain.tools.send_window import fact

from ..tools.phone import mobile_time_zone


class DunningPlan(models.AbstractModel):
    _inherit = "dunning.plan"

    @staticmethod
    def _dunning_sms_only(level):
        """A step whose only channel is SMS (the shipped chain's +10 SMS reminder)."""
        channels = level.channel_ids.mapped("channel")
        return bool(channels) and set(channels) == {"sms"}

    @api.model
    def _dunning_customer_fields(self):
        return super()._dunning_customer_fields() + ["dunning_no_sms"]

    @api.model
    def _dunning_profiles(self, partners, keys, today):
        """A step that only sends an SMS does not apply to a customer whose phones cannot
        receive one (like a late payers' step to a customer who pays on time): its chain is
        the policy's without such steps. An invoice 12 days late then gets the +7 e-mail, the
        +15 call follows the +7 e-mail without an "earlier steps skipped" note, a broken
        promise gets the next step that can reach the customer. The phones are checked at
        once for the customers of policies that have such a step (one query per company)."""
        profiles = super()._dunning_profiles(partners, keys, today)
        sms_only = {}  # level id: SMS-only

        def is_sms_only(level):
            if level.id not in sms_only:
                sms_only[level.id] = self._dunning_sms_only(level)
            return sms_only[level.id]

        policies = {profile.policy for profile in profiles.values() if profile.policy}
        with_sms_steps = {policy.id for policy in policies if any(
            is_sms_only(level) for level in policy._levels_by_offset()
            | policy._dunning_issue_levels())}
        to_check = {}
        for (partner_id, company_id), profile in profiles.items():
            if profile.policy.id in with_sms_steps:
                to_check.setdefault(company_id, []).append(partner_id)
        for company_id, partner_ids in to_check.items():
            company = self.env["res.company"].browse(company_id)
            checks = partners.browse(partner_ids)._dunning_sms_checks(company)
            for partner_id in partner_ids:
                if checks.get(partner_id):
                    continue
                profile = profiles[partner_id, company_id]
                meant = profile.for_customer
                profiles[partner_id, company_id] = profile._replace(
                    key=(*profile.key, "no mobile"),
                    for_customer=lambda level, meant=meant: meant(level) and not is_sms_only(level))
        return profiles

    @api.model
    def _dunning_timezone_for(self, partner, company, channel, planning=None):
        """An SMS reaches a phone, wherever it is: when the mobile's number has exactly one
        time zone and it is not the customer's, the send window follows the number."""
        tz, source = super()._dunning_timezone_for(partner, company, channel, planning)
        if channel != "sms":
            return tz, source
        def number():
            return partner._dunning_sms_recipient(company)[1]
        check = number() if planning is None else self._dunning_memo(
            planning, ("sms number", partner.id, company.id), number)
        zone = mobile_time_zone(check) if check else None
        if zone and zone != tz:
            return zone, fact("tz_phone", number=check.e164)  # worded by dunning.send.window
        return tz, source
