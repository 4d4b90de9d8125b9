from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestDunningBackendUi(HttpCase):
    """The accountant's screens load in a real browser without errors: communications (list and
    form), the policy form with its levels, Overdue by Customer, the record anchors."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        partner = cls.env["res.partner"].create({"name": "UI Customer", "email": "ui@example.com"})
        invoice = cls.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": partner.id,
            "invoice_date": fields.Date.today() - timedelta(days=40),
            "invoice_line_ids": [Command.create({"name": "Service", "quantity": 1,
                                                 "price_unit": 250.0, "tax_ids": []})],
        })
        invoice.invoice_date_due = fields.Date.today() - timedelta(days=10)
        invoice.action_post()
        cls.comm = cls.env["dunning.plan"]._dunning_plan(companies=invoice.company_id)
        cls.policy = cls.env.ref("dunning_chain.policy_default")

    def _check(self, path, selector, expected):
        code = f"""
            const text = document.querySelector('{selector}').innerText;
            if (!text.includes({expected!r})) {{
                console.error('missing {expected} in ' + text.slice(0, 300));
            }} else {{
                console.log('test successful');
            }}
        """
        self.browser_js(path, code, ready=f"!!document.querySelector('{selector}')", login="admin")

    def test_communications_list_and_form(self):
        self.assertTrue(self.comm)
        self._check("/odoo/action-dunning_chain.action_dunning_communication",
                    ".o_list_renderer", "UI Customer")
        self._check(f"/odoo/action-dunning_chain.action_dunning_communication/{self.comm[0].id}",
                    ".o_form_view", "Why Then")

    def test_policy_form_with_levels(self):
        self._check(f"/odoo/action-dunning_chain.action_dunning_policy/{self.policy.id}",
                    ".o_form_view", "Hand-off to collection")

    def test_overdue_by_customer(self):
        self._check("/odoo/action-dunning_chain.action_dunning_aging", ".o_list_renderer",
                    "UI Customer")

    def test_sent_communication_evidence_and_anchors(self):
        comm = self.comm[0]
        self.env["dunning.send"]._dunning_mark_sent(comm, {"subject": "UI reminder", "body": "<p>UI reminder</p>",
                                 "delivery_state": "to_post"})
        comm.action_mark_posted()
        anchor = self.env["dunning.evidence.anchor"]._dunning_anchor(comm.company_id)
        self.assertTrue(anchor)
        self._check(f"/odoo/action-dunning_chain.action_dunning_communication/{comm.id}",
                    ".o_form_view", "Verify Record")
        self._check("/odoo/action-dunning_chain.action_dunning_evidence_anchor",
                    ".o_list_renderer", anchor.digest[:12])
