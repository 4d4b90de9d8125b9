from odoo import models

from ..tools.phone import normalise_mobile


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _dunning_sms_recipient(self, company):
        """Which number a dunning SMS goes to: the customer's own phone when it is a mobile,
        else the first contact marked for dunning whose phone is a mobile.

        :return: ``(contact, PhoneCheck, reasons)``: the contact and the check of its number
            (``None, None`` when no number can receive SMS) and, for each number refused, why.
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
            reasons.append(f"{contact.display_name}: {check.reason}")
        return None, None, reasons
