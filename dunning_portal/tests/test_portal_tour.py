import shutil
import time
from datetime import timedelta

from odoo.tests import tagged

from .common import DunningPortalCommon


@tagged("post_install", "-at_install")
class TestDunningPortalTour(DunningPortalCommon):
    """The customer's page in a real browser at phone size (iPhone 12-15: 390 x 844, touch), driven
    by Odoo's tour runner only: the tours (static/tests/tours/dunning_portal_tour.js) wait for each
    state through their triggers and fail on any error the page logs."""

    browser_size = "390x844"
    touch_enabled = True

    def test_phone_tour_dispute_and_promise(self):
        self.assertTrue(shutil.which("chromium") or shutil.which("chromium-browser")
                        or shutil.which("google-chrome"), "a browser is needed: no skip here")
        # a reminder sent earlier (for an invoice paid since), so the history shows it
        self.env.company.dunning_policy_id = self.policy
        earlier = self._invoice(self.START - timedelta(days=10), 250.0)
        self._run(self.START)
        self.assertTrue(self._comms(state="sent"), "the chain sent a reminder")
        self._pay(earlier)
        # no online payment provider: the page and the pay page give the bank transfer
        self.env["payment.provider"].sudo().search(
            [("company_id", "=", self.env.company.id), ("state", "!=", "disabled")]
        ).state = "disabled"
        self.env["res.partner.bank"].create({
            "partner_id": self.env.company.partner_id.id,
            "acc_number": "ES91 2100 0418 4502 0005 1332",
        })
        self.start_tour(self._link(), "dunning_portal_pay_transfer_tour", login=None)
        self.start_tour(self._link(), "dunning_portal_tour", login=None)
        # the friendly page of an expired link, at the same size
        self.start_tour(self._link(expires=int(time.time()) - 60),
                        "dunning_portal_expired_link_tour", login=None)

        self.env.invalidate_all()
        self.assertEqual(self.inv_old.dunning_dispute_state, "open")
        self.assertEqual(self.inv_old.dunning_dispute_category, "quality")
        self.assertEqual(self.inv_new.dunning_promise_state, "open")
        self.assertEqual(self.inv_new.dunning_paused_until, self.today + timedelta(days=10))
        plan = self.env["dunning.instalment.plan"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((plan.state, plan.instalment_count, plan.invoice_ids),
                         ("requested", 3, self.inv_new))
        self.assertEqual(plan.first_date, self.today + timedelta(days=15))
