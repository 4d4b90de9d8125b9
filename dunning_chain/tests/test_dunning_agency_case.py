"""The agency case: opened by a sent hand-off (or by hand), the chain silent for its invoices
while it is open, recoveries entered or paid, and how it ends."""
import json
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.service import model as rpc
from odoo.tests import new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningAgencyCase(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agency = cls.env["res.partner"].create({
            "name": "Recobros Iberia S.L.", "is_company": True,
            "email": "casos@recobros.example.com"})
        cls.levels[60].channel_ids.filtered(lambda c: c.channel == "handoff").handoff_partner_id = \
            cls.agency
        cls.collector = new_test_user(cls.env, login="case_collector",
                                      groups="dunning_chain.group_dunning_user")
        cls.Case = cls.env["dunning.agency.case"]

    def _handoff(self, amount=1000.0):
        """An invoice found 60 days late: the chain's hand-off, reviewed and sent."""
        invoice = self._invoice(self.START - timedelta(days=60), amount=amount)
        self._run(self.START)
        handoff = self._comms(level_id=self.levels[60].id)
        self.assertEqual((handoff.channel, handoff.state), ("handoff", "to_review"))
        handoff.action_approve()
        self._run(self.START, hour=11)
        self.assertEqual(handoff.state, "sent")
        return invoice, handoff

    def _case_events(self, comm):
        return comm.event_ids.filtered(lambda e: e.kind == "case").sorted("id")

    # ------------------------------------------------------------------ opened by the chain
    def test_sent_handoff_opens_the_case_told_everywhere(self):
        invoice, handoff = self._handoff()
        case = handoff.agency_case_ids
        self.assertEqual(len(case), 1)
        self.assertEqual((case.state, case.partner_id, case.agency_id, case.move_ids),
                         ("handed_off", self.customer, self.agency, invoice))
        self.assertEqual((case.amount_handed_off, case.amount_balance), (1000.0, 1000.0))
        self.assertRegex(case.name, r"^CASE/\d{4}/\d{4}$")
        # the sealed record of the hand-off, the customer's and the invoice's chatter say so
        event = self._case_events(handoff)
        self.assertIn("Handed off to Recobros Iberia S.L.", event.description)
        self.assertEqual(json.loads(event.data)["invoices"], [invoice.name])
        for record in (self.customer, invoice):
            self.assertTrue(record.message_ids.filtered(lambda m: case.name in (m.body or "")),
                            record)
        self.assertFalse(handoff._dunning_broken_links())
        # the customer's view of it
        self.assertEqual(self.customer.dunning_agency_case_count, 1)
        action = self.customer.action_dunning_agency_cases()
        self.assertEqual(self.Case.search(action["domain"]), case)
        self.assertEqual(invoice.dunning_agency_case_id, case)
        self.assertEqual(handoff.action_dunning_agency_case()["res_id"], case.id)
        # a case of the record is not deleted: it ends
        with self.assertRaisesRegex(UserError, "part of the record"):
            case.unlink()

    # ------------------------------------------------------------------ the chain is silent
    def test_planner_silent_while_open_and_resumes_after_returned(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        self._run(self.START + timedelta(days=7))
        self.policy.mode = "review"
        self._run(self.START + timedelta(days=15))
        call = self._comms(level_id=self.levels[15].id)
        self.assertEqual(call.state, "to_review")
        # the collector hands the debt over by hand
        case = self.Case.with_user(self.collector).create({
            "partner_id": self.customer.id, "agency_id": self.agency.id,
            "move_ids": [Command.set(invoice.ids)]})
        # the planned call is withdrawn, saying why
        self.assertEqual(call.state, "cancelled")
        self.assertIn("with the collection agency Recobros Iberia S.L. since", call.failure_reason)
        self.assertIn(case.name, invoice._dunning_blocked_reason())
        self.assertIn("Recobros Iberia S.L.", invoice.dunning_agency_hold)
        before = self._comms()
        for offset in (16, 31, 46):
            self.assertFalse(self._run(self.START + timedelta(days=offset)), offset)
        self.assertEqual(self._comms(), before, "nothing planned while with the agency")
        # the agency gives it back: the chain continues where the invoice stood
        case.with_user(self.collector).action_return()
        self.assertEqual(case.state, "returned")
        self.assertFalse(invoice._dunning_blocked_reason())
        self.assertFalse(invoice.dunning_agency_case_id)
        planned = self._run(self.START + timedelta(days=47))
        self.assertEqual(planned.line_ids.move_id, invoice)
        self.assertEqual(planned.level_id, self.levels[45])
        # one open case per invoice
        self.Case.create({"partner_id": self.customer.id, "agency_id": self.agency.id,
                          "move_ids": [Command.set(invoice.ids)]})
        with self.assertRaisesRegex(ValidationError, "already are with the agency"):
            self.Case.create({"partner_id": self.customer.id, "agency_id": self.agency.id,
                              "move_ids": [Command.set(invoice.ids)]})

    # ------------------------------------------------------------------ recoveries
    def test_partial_recovery_entered_gives_the_balance(self):
        invoice, handoff = self._handoff(amount=1000.0)
        case = handoff.agency_case_ids
        case.fee_rate = 10.0
        case.with_user(self.collector).write({"recovery_ids": [Command.create({
            "date": self.START + timedelta(days=10), "amount": 400.0,
            "note": "First instalment collected"})]})
        self.assertEqual(case.state, "in_recovery")
        self.assertEqual((case.amount_recovered, case.amount_fee, case.amount_balance,
                          case.amount_net), (400.0, 40.0, 600.0, 360.0))
        data = json.loads(self._case_events(handoff)[-1].data)
        self.assertEqual((data["amount"], data["fee"], data["balance"]), (400.0, 40.0, 600.0))
        self.assertIn("First instalment collected", self._case_events(handoff)[-1].description)
        # recorded once: corrected by a further line, never changed
        line = case.recovery_ids
        with self.assertRaisesRegex(UserError, "recorded once"):
            line.with_user(self.collector).amount = 450.0
        with self.assertRaises(AccessError):
            line.unlink()
        with self.assertRaisesRegex(UserError, "part of the case's record"):
            line.sudo().unlink()
        case.write({"recovery_ids": [Command.create({"amount": -50.0, "fee": -5.0,
                                                     "note": "Cheque returned"})]})
        self.assertEqual((case.amount_recovered, case.amount_balance), (350.0, 650.0))
        self.assertIn("Balance", case.message_ids[0].body)
        # still with the agency: nothing planned; the record holds with its case events
        self.assertFalse(self._run(self.START + timedelta(days=20)))
        self.assertFalse(handoff._dunning_broken_links())
        case.action_mark_recovered()
        self.assertEqual(case.state, "recovered")
        with self.assertRaisesRegex(UserError, "has ended"):
            case.write({"recovery_ids": [Command.create({"amount": 10.0})]})

    def test_payment_during_the_case_counts_as_recovered(self):
        invoice, handoff = self._handoff(amount=1000.0)
        case = handoff.agency_case_ids
        payment = self._pay(invoice, amount=300.0, day=self.START + timedelta(days=5))
        self.assertEqual(case.recovery_ids.mapped("kind"), ["payment"])
        self.assertEqual((case.amount_recovered, case.amount_balance), (300.0, 700.0))
        self.assertEqual(case.recovery_ids.move_id, invoice)
        self.assertEqual(case.state, "in_recovery")
        self.assertIn("counted as recovered", self._case_events(handoff)[-1].description)
        # undone (unreconciled): no longer counted, a correcting line says so
        payment.move_id.line_ids.remove_move_reconcile()
        self.assertEqual((case.amount_recovered, case.amount_balance), (0.0, 1000.0))
        self.assertIn("undone", self._case_events(handoff)[-1].description)
        # paid in full: the case is recovered
        self._pay(invoice, day=self.START + timedelta(days=9))
        self.assertEqual((case.amount_recovered, case.amount_balance), (1000.0, 0.0))
        self.assertEqual(case.state, "recovered")
        self.assertIn("Every handed-off invoice is settled", self._case_events(handoff)[-1]
                      .description)
        self.assertFalse(handoff._dunning_broken_links())

    def test_write_off_keeps_the_invoices_out_of_the_chain(self):
        invoice, handoff = self._handoff()
        case = handoff.agency_case_ids
        case.with_user(self.collector).action_write_off()
        self.assertEqual(case.state, "written_off")
        self.assertTrue(case.closed_at)
        self.assertTrue(invoice.dunning_excluded)
        self.assertIn(case.name, invoice.dunning_exclusion_reason)
        self.assertIn("excluded from dunning", invoice._dunning_blocked_reason())
        self.assertIn("Written Off", self._case_events(handoff)[-1].description)
        with self.assertRaisesRegex(UserError, "has ended"):
            case.action_return()

    # ------------------------------------------------------------------ rights
    def test_only_dunning_users_follow_cases(self):
        invoice, handoff = self._handoff()
        case = handoff.agency_case_ids
        billing = new_test_user(self.env, login="case_billing",
                                groups="account.group_account_invoice")
        employee = new_test_user(self.env, login="case_employee", groups="base.group_user")
        portal = new_test_user(self.env, login="case_portal", groups="base.group_portal")
        calls = [
            ("dunning.agency.case", "create", [{"partner_id": self.customer.id,
                                                "move_ids": [Command.set(invoice.ids)]}]),
            ("dunning.agency.case", "read", [case.ids, ["amount_balance"]]),
            ("dunning.agency.case", "action_return", [case.ids]),
            ("dunning.agency.case", "action_write_off", [case.ids]),
            ("dunning.agency.case", "action_casefile_send", [case.ids]),
            ("dunning.agency.case", "action_casefile_download", [case.ids]),
            ("dunning.agency.case", "action_casefile_download_pdf", [case.ids]),
            ("dunning.agency.case", "action_start_recovery", [case.ids]),
            ("dunning.agency.case", "action_mark_recovered", [case.ids]),
            ("dunning.agency.case", "action_view_invoices", [case.ids]),
            ("dunning.agency.case.recovery", "create", [{"case_id": case.id, "amount": 1.0}]),
            ("dunning.communication", "action_dunning_casefile_send", [handoff.ids]),
            ("dunning.communication", "action_dunning_casefile_download", [handoff.ids]),
            ("dunning.communication", "action_dunning_agency_case", [handoff.ids]),
        ]
        for user in (billing, employee, portal):
            env = self.env(user=user.id, context={})
            for model, method, args in calls:
                with self.assertRaises(AccessError, msg=f"{user.login} {model}.{method}"):
                    rpc.call_kw(env[model], method, args, {})
                    env.flush_all()
        self.assertEqual((case.state, case.amount_recovered), ("handed_off", 0.0))
        self.assertEqual(self.Case.search_count([]), 1)
        # a billing user registering a payment still counts it for the case
        self.env["account.payment.register"].with_user(billing).with_context(
            active_model="account.move", active_ids=invoice.ids).create(
            {"amount": 100.0, "payment_date": self.START})._create_payments()
        self.assertEqual(case.amount_recovered, 100.0)

    def test_cases_stay_in_their_company(self):
        _invoice, handoff = self._handoff()
        case = handoff.agency_case_ids
        other = self.setup_other_company()["company"]
        user_b = new_test_user(self.env, login="case_b", groups="account.group_account_user",
                               company_id=other.id, company_ids=[Command.set(other.ids)])
        self.assertFalse(self.Case.with_user(user_b).search([]))
        with self.assertRaises(AccessError):
            case.with_user(user_b).read(["amount_balance"])
        case.write({"recovery_ids": [Command.create({"amount": 5.0})]})
        Recovery = self.env["dunning.agency.case.recovery"].with_user(user_b)
        self.assertFalse(Recovery.search([("case_id", "=", case.id)]))
        with self.assertRaises(AccessError):
            case.recovery_ids.with_user(user_b).read(["amount"])
