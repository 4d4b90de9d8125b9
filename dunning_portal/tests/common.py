import time
from datetime import timedelta

from odoo import Command, fields
from odoo.http import Request
from odoo.tests import HttpCase

from odoo.addons.dunning_chain.tests.common import DunningCommon


class DunningPortalCommon(DunningCommon, HttpCase):
    """Two customers with overdue invoices (relative to the real today: the HTTP server does
    not share the frozen clock), a portal user for the first customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["account.move"])
        cls.inv_old = cls._invoice(cls.today - timedelta(days=20), 1200.0)
        cls.inv_new = cls._invoice(cls.today - timedelta(days=5), 300.0)
        cls.inv_other = cls._invoice(cls.today - timedelta(days=10), 777.0, partner=cls.customer2)
        cls.contact = cls.env["res.partner"].create({
            "name": "Lucía Alcalá", "email": "lucia@alcala.example.com",
            "parent_id": cls.customer.id, "type": "contact",
        })
        cls.portal_user = cls.env["res.users"].with_context(no_reset_password=True).create({
            "name": "Lucía Alcalá", "login": "lucia_portal", "password": "lucia_portal_pw",
            "partner_id": cls.contact.id,
            "group_ids": [Command.set([cls.env.ref("base.group_portal").id])],
        })

    @classmethod
    def _setup_dummy_provider(cls, currencies=None):
        """A published test provider (Odoo's own tests use the same dummy)."""
        redirect_form = cls.env["ir.ui.view"].create({
            "name": "Dummy Redirect Form", "type": "qweb",
            "arch": '<form action="dummy" method="post"/>',
        })
        cls.pm = cls.env.ref("payment.payment_method_unknown")
        vals = {
            "name": "Dummy Provider", "code": "none", "state": "test", "is_published": True,
            "company_id": cls.env.company.id,
            "payment_method_ids": [Command.set(cls.pm.ids)],
            "redirect_form_view_id": redirect_form.id,
        }
        if currencies:
            vals["available_currency_ids"] = [Command.set(currencies.ids)]
        cls.provider = cls.env["payment.provider"].create(vals)
        cls.pm.write({"active": True})

    def _tx_params(self, reference, landing_route=None):
        """What Odoo's payment form posts to a transaction route (the amount is ignored)."""
        return {
            "provider_id": self.provider.id, "payment_method_id": self.pm.id, "token_id": None,
            "amount": 1.0, "flow": "redirect", "tokenization_requested": False,
            "landing_route": landing_route or self.link, "is_validation": False,
            "payment_reference": reference, "csrf_token": self._csrf(),
        }

    def _visit_anonymously(self):
        """The visitor is anyone holding the customer's signed link (no session)."""
        self.authenticate(None, None)
        self.link = self._link()

    def _link(self, partner=None, expires=None, company=None):
        """Path of a signed link (valid for an hour by default) for a company (the current
        one by default)."""
        partner = partner or self.customer
        if expires is None:
            expires = int(time.time()) + 3600
        return partner._dunning_portal_path(company or self.env.company, expires)

    def _csrf(self):
        return Request.csrf_token(self)

    def _post(self, url, data, files=None):
        data = dict(data, csrf_token=self._csrf())
        return self.url_open(url, data=data, files=files, allow_redirects=False)

    def _refresh(self, *records):
        self.env.invalidate_all()


class DunningPortalPayCommon(DunningPortalCommon):
    """An anonymous visitor of the signed link, with a published test payment provider."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_dummy_provider(cls.env.company.currency_id)

    def setUp(self):
        super().setUp()
        self._visit_anonymously()
