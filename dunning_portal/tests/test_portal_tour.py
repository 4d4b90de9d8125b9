import base64
import logging
import os
import pathlib
import shutil
import time
from datetime import timedelta
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from .common import DunningPortalCommon

_logger = logging.getLogger(__name__)

ARTIFACTS = pathlib.Path(os.environ.get(
    "DUNNING_ARTIFACTS", pathlib.Path(__file__).resolve().parents[2] / "artifacts"))


@tagged("post_install", "-at_install")
class TestDunningPortalTour(DunningPortalCommon):
    """The customer's page in a real browser at phone size (iPhone 12-15: 390 x 844)."""

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
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shots = []
        original = ChromeBrowser._handle_console

        def handle_console(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002
            if args and type == "log":
                text = str(browser._from_remoteobject(args[0]))
                if text.startswith("dunning_screenshot:"):
                    name = text.split(":", 1)[1]
                    future = browser._websocket_send(
                        "Page.captureScreenshot", params={"captureBeyondViewport": True},
                        with_future=True)

                    def save(f, name=name):
                        data = f.result(timeout=0)["data"]
                        path = ARTIFACTS / f"dunning_portal_{name}.png"
                        path.write_bytes(base64.b64decode(data))
                        shots.append(path)
                    future.add_done_callback(save)
            return original(browser, type, args=args, stackTrace=stackTrace, **kw)

        original_request = ChromeBrowser._websocket_request

        def websocket_request(browser, method, *args, params=None, **kw):
            if method == "Emulation.setDeviceMetricsOverride" and params:
                params = dict(params, mobile=True)  # a phone: overlay scrollbars, viewport meta
            return original_request(browser, method, *args, params=params, **kw)

        with patch.object(ChromeBrowser, "_handle_console", handle_console), \
                patch.object(ChromeBrowser, "_websocket_request", websocket_request):
            self.start_tour(self._link(), "dunning_portal_tour", login=None)
            # the friendly page of an expired link, at the same size
            expired = self._link(expires=int(time.time()) - 60)
            self.browser_js(expired, """
                if (!document.querySelector('.o_dunning_fresh_link')) {
                    console.error('no fresh link button');
                }
                if (document.body.innerText.includes('INV/')) {
                    console.error('an expired link shows data');
                }
                console.log('dunning_screenshot:06_expired_link');
                setTimeout(() => console.log('test successful'), 1000);
            """, login=None)

        self.env.invalidate_all()
        self.assertEqual(self.inv_old.dunning_dispute_state, "open")
        self.assertEqual(self.inv_old.dunning_dispute_category, "quality")
        self.assertEqual(self.inv_new.dunning_promise_state, "open")
        self.assertEqual(self.inv_new.dunning_paused_until, self.today + timedelta(days=10))
        plan = self.env["dunning.instalment.plan"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((plan.state, plan.instalment_count, plan.invoice_ids),
                         ("requested", 3, self.inv_new))
        self.assertEqual(plan.first_date, self.today + timedelta(days=15))
        self.assertEqual(sorted(p.name for p in shots), [
            "dunning_portal_01_page.png", "dunning_portal_02_dispute_form.png",
            "dunning_portal_03_disputed.png", "dunning_portal_04_promised.png",
            "dunning_portal_05_instalment_form.png", "dunning_portal_06_expired_link.png"])
        for path in shots:
            self.assertGreater(path.stat().st_size, 5000, path)
