from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.phone import normalise_mobile


class ResPartner(models.Model):
    _inherit = "res.partner"

    dunning_no_sms = fields.Boolean(
        string="No SMS",
        help="The customer does not want dunning SMS: SMS steps are left out of its chain (the "
             "other channels of a step still go; an SMS-only step is skipped, the chain goes "
             "on). A number that replied STOP is on the phone blacklist anyway.")

    @api.model
    def _dunning_settings_fields(self):
        return super()._dunning_settings_fields() + ("dunning_no_sms",)

    def _dunning_refused_channels(self, lang=None):
        refused = super()._dunning_refused_channels(lang)
        if self.commercial_partner_id.dunning_no_sms:
            refused["sms"] = self._dunning_words_in(lang)("no SMS: the customer prefers e-mail")
        return refused

    def _dunning_sms_recipient(self, company):
        """Which number a dunning SMS goes to: the customer's own phone when it is a mobile,
        else the first contact marked for dunning whose phone is a mobile.

        :return: ``(contact, PhoneCheck, reasons)``: the contact and the check of its number
            (``None, None`` when no number can receive SMS) and, for each number refused, why
            (worded in the environment's language: :meth:`_dunning_phone_words`).
        """
        self.ensure_one()
        customer = self.commercial_partner_id
        contacts = customer.child_ids.filtered(lambda p: p.dunning_contact and p.phone)
        reasons = []
        for contact in customer | contacts.sorted("id"):
            region = (contact.country_id or customer.country_id or company.country_id).code
            check = normalise_mobile(contact.phone, region)
            if check.ok:
                return contact, check, reasons
            reasons.append(f"{contact.display_name}: {self._dunning_phone_words(check)}")
        return None, None, reasons

    def _dunning_sms_checks(self, company):
        """{customer id: the PhoneCheck of the number a dunning SMS goes to, or None} for the
        customers ``self``: the choice of :meth:`_dunning_sms_recipient` (the customer's own
        phone, then its dunning contacts' by id; each number read in its contact's country,
        else the customer's, else the company's), for many customers in one query (the
        planner asks it for every customer of a run)."""
        self.env["res.partner"].flush_model(
            ["phone", "country_id", "parent_id", "dunning_contact", "active"])
        self.env.cr.execute(SQL("""
            SELECT p.id, 0, p.id, p.phone, COALESCE(pc.code, %(company_country)s)
              FROM res_partner p
              LEFT JOIN res_country pc ON pc.id = p.country_id
             WHERE p.id = ANY(%(ids)s)
            UNION ALL
            SELECT p.id, 1, c.id, c.phone, COALESCE(cc.code, pc.code, %(company_country)s)
              FROM res_partner c
              JOIN res_partner p ON p.id = c.parent_id
              LEFT JOIN res_country cc ON cc.id = c.country_id
              LEFT JOIN res_country pc ON pc.id = p.country_id
             WHERE c.parent_id = ANY(%(ids)s) AND c.active AND c.dunning_contact
               AND COALESCE(c.phone, '') != ''
             ORDER BY 1, 2, 3""", ids=self.commercial_partner_id.ids,
            company_country=company.country_id.code))
        checks = dict.fromkeys(self.commercial_partner_id.ids)
        for customer_id, _own, _contact_id, phone, region in self.env.cr.fetchall():
            if checks[customer_id] is None and phone:
                check = normalise_mobile(phone, region)
                if check.ok:
                    checks[customer_id] = check
        return checks

    def _dunning_phone_words(self, check):
        """Why a number cannot receive SMS (the ``reason`` code of a ``tools/phone.py``
        PhoneCheck), in the environment's language: "'91 123 45 67' is a fixed line: SMS cannot
        reach it"."""
        _ = self.env._
        number = check.typed
        words = {
            "no_number": lambda: _("no phone number"),
            "unknown_country_code": lambda: _("'%s' has an unknown country code", number),
            "no_country": lambda: _("'%s' has no international prefix (such as +34) and no "
                                    "default country is set", number),
            "too_long": lambda: _("'%s' is too long to be a phone number", number),
            "too_short": lambda: _("'%s' is too short to be a phone number", number),
            "not_a_number": lambda: _("'%s' is not a phone number", number),
            "invalid_for_region": lambda: _("'%(number)s' is not a valid number for %(region)s",
                                            number=number, region=check.region),
            "invalid": lambda: _("'%s' is not a valid phone number", number),
            "fixed_line": lambda: _("'%s' is a fixed line: SMS cannot reach it", number),
            "toll_free": lambda: _("'%s' is a toll-free number: SMS cannot reach it", number),
            "premium_rate": lambda: _("'%s' is a premium-rate number: SMS cannot reach it",
                                      number),
            "shared_cost": lambda: _("'%s' is a shared-cost number: SMS cannot reach it",
                                     number),
            "voip": lambda: _("'%s' is a VoIP number: only mobile numbers are accepted for SMS",
                              number),
            "personal_number": lambda: _("'%s' is a personal (call forwarding) number: only "
                                         "mobile numbers are accepted for SMS", number),
            "pager": lambda: _("'%s' is a pager number: only mobile numbers are accepted for "
                               "SMS", number),
            "uan": lambda: _("'%s' is a company access number (UAN): SMS cannot reach it",
                             number),
            "voicemail": lambda: _("'%s' is a voicemail access number: SMS cannot reach it",
                                   number),
            "unknown": lambda: _("'%s' is a number of unknown type: only mobile numbers are "
                                 "accepted for SMS", number),
        }
        if check.reason not in words:
            raise ValueError(f"Unknown phone check reason {check.reason!r}")
        return words[check.reason]()
