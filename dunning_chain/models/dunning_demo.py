"""Demo data: a Spanish company whose customers in Madrid, New York and Berlin owe invoices of
every age. Loaded by demo/dunning_demo.xml (databases created with demo data only)."""
from datetime import timedelta

from odoo import api, fields, models

DEMO_CUSTOMERS = [
    # xml id suffix, name, city, country, tz, lang, email, mobile, street, zip, state code
    ("madrid", "Construcciones Alcalá S.L.", "Madrid", "ES", "Europe/Madrid", "es_ES",
     "pagos@alcala.example.com", "+34 612 345 678", "Calle de Alcalá 120", "28009", "M"),
    ("newyork", "Hudson Retail Inc.", "New York", "US", "America/New_York", "en_US",
     "ap@hudson-retail.example.com", "+1 212 555 0147", "350 5th Avenue", "10118", "NY"),
    ("berlin", "Spree Maschinenbau GmbH", "Berlin", "DE", "Europe/Berlin", "de_DE",
     "buchhaltung@spree-maschinen.example.com", "+49 151 23456789", "Friedrichstraße 43",
     "10117", "BE"),
    ("valencia", "Textiles Levante S.A.", "Valencia", "ES", "Europe/Madrid", "es_ES",
     "administracion@textiles-levante.example.com", "+34 661 234 567", "Calle de Colón 48",
     "46004", "V"),
]
# businesses with a VAT number (valid for base_vat): the late payment law for businesses applies
DEMO_VAT = {"madrid": "ESB28000008", "berlin": "DE136695976", "valencia": "ESB46123451"}
# (customer, days overdue (negative: due in N days), amount, paid fraction)
DEMO_INVOICES = [
    ("madrid", -3, 1250.00, 0.0),
    ("newyork", 0, 880.00, 0.0),
    ("berlin", 7, 2400.00, 0.0),
    ("madrid", 20, 615.50, 0.0),
    ("newyork", 35, 4300.00, 0.5),   # partly paid
    ("berlin", 65, 990.00, 0.0),
    ("madrid", 65, 1480.00, 0.0),
    ("madrid", 100, 3120.00, 0.0),
    ("berlin", 12, 450.00, 1.0),     # paid
    # 11-12 days: the step reached is the +10 SMS when dunning_sms is installed
    ("newyork", 12, 1260.00, 0.0),
    ("berlin", 11, 735.00, 0.0),
    # the collector's desk (dunning_demo_desk.py): 17 days, a call on the Collector's Day;
    # 52 days, the burofax of the +45 step
    ("berlin", 17, 1830.00, 0.0),
    ("valencia", 52, 2150.00, 0.0),
]
# Odoo's demo payment provider (fake card payments, test mode) and wire transfer: installed
# with the demo so a newcomer can pay from the customer page, never a dependency of ours (a
# production database does not want them); the loader enables them for the demo company
DEMO_PAYMENT_MODULES = ("payment_demo", "payment_custom")
# (provider xml id, state): the demo provider in test mode, wire transfer enabled
DEMO_PAYMENT_PROVIDERS = (("payment.payment_provider_demo", "test"),
                          ("payment.payment_provider_transfer", "enabled"))
# the bank of the IBAN's code 2100; "XXX" is the BIC's branch code for the head office
DEMO_BANK = {"name": "CaixaBank", "bic": "CAIXESBBXXX"}


class DunningDemo(models.AbstractModel):
    _name = "dunning.demo"
    _description = "Dunning demo data loader"

    @api.model
    def _schedule_demo(self):
        """Called by the demo XML while the module installs. Loading a chart of accounts needs
        the complete registry, so the demo is built from _register_hook, right after loading.
        A demo still to build with the customer portal brings Odoo's demo and wire transfer
        payment providers: modules marked for installation here are installed by the same
        run (Odoo's loader loops while modules are marked), before _register_hook."""
        self.env.registry._dunning_demo_pending = True
        if self.env.ref("dunning_chain.demo_company", raise_if_not_found=False):
            return
        Module = self.env["ir.module.module"]
        if Module.search_count([("name", "=", "dunning_portal"),
                                ("state", "in", ("installed", "to install", "to upgrade"))]):
            Module.search([("name", "in", DEMO_PAYMENT_MODULES),
                           ("state", "=", "uninstalled")]).button_install()

    def _register_hook(self):
        super()._register_hook()
        if getattr(self.env.registry, "_dunning_demo_pending", False):
            del self.env.registry._dunning_demo_pending
            self._load_demo()

    @api.model
    def _load_demo(self):
        env = self.env
        if env.ref("dunning_chain.demo_company", raise_if_not_found=False):
            return
        self._activate_demo_languages(("es_ES", "de_DE"))
        spain = env.ref("base.es")
        company = env["res.company"].create({
            "name": "Cobros Demo S.L.",
            "country_id": spain.id,
            "currency_id": env.ref("base.EUR").id,
            "street": "Paseo de la Castellana 95",
            "city": "Madrid",
            "zip": "28046",
            "state_id": env["res.country.state"].search(
                [("country_id", "=", spain.id), ("code", "=", "M")], limit=1).id,
            "email": "cobros@cobros-demo.example.com",
            "phone": "+34 910 000 000",
            "vat": "ESB12345674",
        })
        self._xmlid(company, "demo_company")
        company.partner_id.tz = "Europe/Madrid"
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        # the generic chart sets its own country's currency: the demo company works in euros
        euro = env.ref("base.EUR")
        euro.active = True
        company.currency_id = euro
        admin = env.ref("base.user_admin")
        admin.write({"company_ids": [fields.Command.link(company.id)], "company_id": company.id})
        bank_account = env["res.partner.bank"].create({
            "partner_id": company.partner_id.id, "acc_number": "ES91 2100 0418 4502 0005 1332",
            "bank_id": env["res.bank"].create(DEMO_BANK).id,
        })
        self._enable_demo_payment(company, bank_account)

        partners = {}
        for key, name, city, country, tz, lang, email, phone, street, zip_code, state in DEMO_CUSTOMERS:
            country_rec = env.ref(f"base.{country.lower()}")
            partner = env["res.partner"].create({
                "name": name, "is_company": True, "city": city, "country_id": country_rec.id,
                "state_id": env["res.country.state"].search(
                    [("country_id", "=", country_rec.id), ("code", "=", state)], limit=1).id,
                "street": street, "zip": zip_code, "tz": tz, "lang": lang, "email": email,
                "phone": phone, "user_id": admin.id, "vat": DEMO_VAT.get(key, False),
            })
            self._xmlid(partner, f"demo_partner_{key}")
            partners[key] = partner

        env = env(context=dict(env.context, allowed_company_ids=[company.id]))
        today = fields.Date.context_today(self)
        product = env["product.product"].create({
            "name": "Consulting services", "type": "service", "list_price": 100.0,
            "company_id": False,
        })
        # six months of simulated history first (dunning_demo_history.py): its reminders
        # are sent at their past moments, before today's examples exist
        env.ref("dunning_chain.level_handoff_handoff").sudo().handoff_partner_id = \
            self.with_env(env)._demo_agency(company)
        self.with_env(env)._load_demo_history(company, product)
        for index, (key, overdue, amount, paid) in enumerate(DEMO_INVOICES, start=1):
            due = today - timedelta(days=overdue)
            move = env["account.move"].with_company(company).create({
                "move_type": "out_invoice",
                "company_id": company.id,
                "partner_id": partners[key].id,
                "invoice_date": due - timedelta(days=30),
                "invoice_date_due": due,
                "invoice_line_ids": [fields.Command.create({
                    "product_id": product.id, "quantity": 1, "price_unit": amount,
                    "tax_ids": [fields.Command.clear()],
                })],
            })
            move.invoice_date_due = due
            move.action_post()
            self._xmlid(move, f"demo_invoice_{index}")
            if paid:
                env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=move.ids).create({
                        "amount": round(amount * paid, 2),
                        "payment_date": due - timedelta(days=2) if paid == 1 else today,
                    })._create_payments()
        # the default chain books its charges in the demo; the Madrid customer's hand-off
        # (65 and 100 days late) is approved and sent at once: statutory interest and the
        # EUR 40 per invoice are booked on a fee invoice and show on its statement
        env.ref("dunning_chain.policy_default").charge_mode = "book"
        env.ref("dunning_chain.level_invoice_issued").active = True  # new invoices announced
        env["dunning.plan"]._dunning_plan(companies=company)
        # a call answered, a burofax delivered, the hand-off sent and an agency's recovery
        self.with_env(env)._load_demo_desk(company, partners)

    @api.model
    def _enable_demo_payment(self, company, bank_account):
        """Payments the demo company can take: its bank account on its bank journal (where
        payments are booked and whose account wire transfer instructions give), Odoo's demo
        provider in test mode and wire transfer enabled and published for it, when their
        modules are installed (_schedule_demo)."""
        env = self.env
        journal = env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
        if journal and not journal.bank_account_id:
            journal.bank_account_id = bank_account
        Provider = env["payment.provider"]
        for xmlid, state in DEMO_PAYMENT_PROVIDERS:
            main = env.ref(xmlid, raise_if_not_found=False)
            if not main or main.module_state != "installed":
                continue
            # Odoo copies the installed providers into a new company (disabled)
            provider = Provider.search([("company_id", "=", company.id), ("code", "=", main.code),
                                        ("module_id", "=", main.module_id.id)], limit=1)
            provider = provider or main.copy({"company_id": company.id})
            provider.write({"state": state, "is_published": True})
            if main.code == "custom":
                provider.action_recompute_pending_msg()  # wire transfer: the bank account

    @api.model
    def _activate_demo_languages(self, codes):
        """Activate the customers' languages with the translations of every installed module
        (ours, and the e-mail layout, invoice and portal of Odoo): the demo is built after the
        modules loaded their terms, which they only do for the languages active at that time."""
        langs = self.env["res.lang"].with_context(active_test=False).search([("code", "in", codes)])
        new = langs.filtered(lambda lang: not lang.active)
        for lang in new:
            self.env["res.lang"]._activate_lang(lang.code)
        if new:
            self.env["ir.module.module"].search([("state", "=", "installed")])._update_translations(
                new.mapped("code"))

    def _xmlid(self, record, name):
        self.env["ir.model.data"].create({
            "module": "dunning_chain", "name": name, "model": record._name, "res_id": record.id,
            "noupdate": True,
        })
