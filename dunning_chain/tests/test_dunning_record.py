"""The record holds against insiders: what a caller can send over RPC cannot create, change or
unfreeze what was sent, and verification catches what was changed behind the ORM's back."""
import json
import os
from datetime import timedelta

import psycopg2.errors

from odoo import fields, sql_db
from odoo.exceptions import AccessError, UserError
from odoo.service import model as rpc
from odoo.tests import freeze_time, new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningRecord(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dunning_user = new_test_user(cls.env, login="dun_rec_user",
                                         groups="dunning_chain.group_dunning_user")
        cls.billing_user = new_test_user(cls.env, login="dun_rec_billing",
                                         groups="account.group_account_invoice")

    def _rpc(self, user, model, method, *args, **kwargs):
        """Call a method the way XML-RPC / JSON-RPC does: odoo.service.model's dispatch
        (public methods only, the caller's context popped from the keyword arguments), as
        that user with an empty context (without the commit of its retry loop)."""
        self.env.flush_all()
        env = self.env(user=user.id, context={})
        result = rpc.call_kw(env[model], method, list(args), kwargs)
        env.flush_all()
        return result

    def _sent_pair(self):
        self._invoice(self.START)
        self._run(self.START)
        self._run(self.START + timedelta(days=7))
        comms = self._comms()
        self.assertEqual(comms.mapped("state"), ["sent", "sent"])
        return comms

    def _problems(self, comms, **kwargs):
        self.env.invalidate_all()
        keys = self.env["dunning.evidence"]._dunning_chain_keys(comms)
        return [(comm, code) for comm, code, _text
                in self.env["dunning.evidence"]._dunning_verify(keys, **kwargs)]

    # ------------------------------------------------------------------ nobody forges a send
    def test_rpc_create_of_a_sent_communication_is_refused(self):
        self._invoice(self.START)
        self._run(self.START)
        sent = self._comms()
        forged = {
            "partner_id": self.customer.id, "policy_id": self.policy.id,
            "level_id": self.levels[7].id, "channel": "email", "state": "sent",
            "sent_at": "2026-01-05 10:00:00", "subject": "Reminder",
            "body": "<p>pay to IBAN XX00 0000</p><img src=x onerror=alert(1)>",
        }
        with self.assertRaisesRegex(UserError, "only sending makes it sent"):
            self._rpc(self.dunning_user, "dunning.communication", "create", forged)
        # planned, but carrying what only sending writes
        with self.assertRaisesRegex(UserError, "written by sending"):
            self._rpc(self.dunning_user, "dunning.communication", "create",
                      dict(forged, state="scheduled"))
        # a customer of another company
        other = self.setup_other_company()["company"]
        foreign = self.env["res.partner"].create({"name": "Foreign", "company_id": other.id})
        with self.assertRaises(UserError):
            self._rpc(self.dunning_user, "dunning.communication", "create", {
                "partner_id": foreign.id, "policy_id": self.policy.id,
                "level_id": self.levels[7].id, "channel": "email"})
        self.assertEqual(self._comms(), sent, "nothing was created")
        self.assertFalse(self._problems(sent))

    def test_context_key_cannot_unfreeze_and_sent_state_is_final(self):
        comms = self._sent_pair()
        first = comms[0]
        for context in ({"dunning_sending": True}, {"dunning_sending": True, "tracking_disable": True}):
            with self.assertRaisesRegex(UserError, "cannot be changed"):
                self._rpc(self.dunning_user, "dunning.communication", "write", first.ids,
                          {"body": "<p>Nothing to pay</p>"}, context=context)
        for state in ("scheduled", "cancelled", "failed"):
            with self.assertRaisesRegex(UserError, "cannot be changed"):
                self._rpc(self.dunning_user, "dunning.communication", "write", first.ids,
                          {"state": state})
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            self._rpc(self.dunning_user, "dunning.communication", "write", first.ids,
                      {"hash": False})
        # the actions that change states leave a sent one alone
        first.with_user(self.dunning_user).action_cancel()
        self.assertEqual(first.state, "sent")
        # a planned one cannot be declared sent either
        self.policy.mode = "review"
        self._run(self.START + timedelta(days=15))
        planned = self._comms(state="to_review")
        self.assertTrue(planned)
        with self.assertRaisesRegex(UserError, "Only sending"):
            self._rpc(self.dunning_user, "dunning.communication", "write", planned.ids,
                      {"state": "sent"})
        self.assertFalse(self._problems(comms))

    def test_lines_of_a_sent_communication_are_read_only(self):
        comms = self._sent_pair()
        line = comms[0].line_ids
        with self.assertRaisesRegex(UserError, "part of the record"):
            self._rpc(self.dunning_user, "dunning.communication.line", "write", line.ids,
                      {"amount_residual": 1.0})
        with self.assertRaisesRegex(UserError, "part of the record"):
            self._rpc(self.dunning_user, "dunning.communication.line", "unlink", line.ids)
        with self.assertRaisesRegex(UserError, "part of the record"):
            self._rpc(self.dunning_user, "dunning.communication.line", "create", {
                "communication_id": comms[0].id, "move_id": line.move_id.id})
        # the invoice cannot take its record with it
        with self.assertRaises(psycopg2.errors.ForeignKeyViolation), self.env.cr.savepoint():
            self.env.cr.execute("DELETE FROM account_move WHERE id = %s", [line.move_id.id])

    def test_stored_body_is_sanitised(self):
        self.policy.mode = "review"
        self._invoice(self.START)
        self._run(self.START)
        comm = self._comms()
        comm._dunning_sys_write({"body": "<p>Hello</p><img src=x onerror=alert(1)>"
                                         "<script>alert(2)</script>"})
        self.assertNotIn("onerror", comm.body)
        self.assertNotIn("<script", comm.body)
        self.assertIn("Hello", comm.body)

    # ------------------------------------------------------------------ verification
    def test_verify_flags_a_forged_row_without_seal(self):
        """The forgery of the issue: a sent row with no hash used to verify as intact."""
        comms = self._sent_pair()
        self.env.cr.execute("""
            INSERT INTO dunning_communication
                   (name, company_id, partner_id, policy_id, level_id, channel, state, kind,
                    sent_at, subject, body, delivery_state, amount_total)
            VALUES ('DUN/FORGED', %s, %s, %s, %s, 'email', 'sent', 'reminder',
                    '2026-03-03 10:00:00', 'Reminder', '<p>pay to IBAN XX00</p>', 'sent', 10)
            RETURNING id""", [self.env.company.id, self.customer.id, self.policy.id,
                              self.levels[7].id])
        forged = self.Comm.browse(self.env.cr.fetchone()[0])
        problems = self._problems(comms)
        self.assertIn((forged, "hash_missing"), problems)
        with self.assertRaisesRegex(UserError, "DUN/FORGED: sent without a seal"):
            comms[0].action_verify_hash_chain()

    def test_verify_flags_a_blanked_seal_and_a_rehashed_edit(self):
        comms = self._sent_pair()
        first, second = comms
        self.assertEqual(second.previous_hash, first.hash)
        self.assertEqual(first.evidence_version, 2)
        self.assertEqual(first.chain_partner_id, self.customer.id)
        # an edit re-hashed without the key (plain SHA-256 of anything) does not match
        self.env.cr.execute(
            "UPDATE dunning_communication SET amount_total = 1, hash = encode(sha256('x'), 'hex') "
            "WHERE id = %s", [first.id])
        problems = self._problems(comms)
        self.assertIn((first, "content_changed"), problems)
        self.assertIn((second, "link_missing"), problems, "its successor lost its link")
        # a blanked seal
        self.env.cr.execute("UPDATE dunning_communication SET hash = NULL WHERE id = %s",
                            [second.id])
        self.assertIn((second, "hash_missing"), self._problems(comms))

    def test_anchor_catches_what_the_key_holder_rewrites_or_appends(self):
        comms = self._sent_pair()
        first, second = comms
        with freeze_time(f"{(self.START + timedelta(days=8)).isoformat()} 02:00:00"):
            anchor = self.env["dunning.evidence.anchor"]._dunning_anchor(self.env.company)
        self.assertEqual(anchor.chain_count, 1)
        payload = json.loads(anchor.payload)
        self.assertIn([self.customer.id, second.id, second.hash], payload["tips"])
        with open(anchor.file_path, encoding="utf-8") as handle:
            self.assertEqual(handle.read(), anchor.payload)
        self.assertFalse(self._problems(comms), "anchored and intact")
        # nobody changes or removes an anchor through the ORM
        with self.assertRaises(UserError):
            anchor.sudo().write({"payload": "{}"})
        # nor makes one up, not even a dunning manager over RPC
        manager = new_test_user(self.env, login="dun_rec_manager",
                                groups="dunning_chain.group_dunning_manager")
        with self.assertRaises(UserError):  # AccessError is one too
            self._rpc(manager, "dunning.evidence.anchor", "create", {
                "name": "Forged", "company_id": self.env.company.id,
                "anchored_at": fields.Datetime.now(), "payload": "{}"})
        with self.assertRaises(UserError):
            anchor.sudo().unlink()
        Evidence = self.env["dunning.evidence"]
        # someone holding the key re-seals an edited last communication: the seal matches...
        self.env.cr.execute("UPDATE dunning_communication SET subject = 'Nothing due' "
                            "WHERE id = %s", [second.id])
        self.env.invalidate_all()
        resealed = Evidence._dunning_sign(second._dunning_snapshot())
        self.env.cr.execute("UPDATE dunning_communication SET hash = %s WHERE id = %s",
                            [resealed, second.id])
        problems = self._problems(comms)
        self.assertNotIn((second, "content_changed"), problems)
        # ... but not the anchor
        self.assertIn((second, "anchor_tip"), problems)

    def test_anchor_catches_a_row_appended_after_it(self):
        comms = self._sent_pair()
        second = comms[1]
        with freeze_time(f"{(self.START + timedelta(days=8)).isoformat()} 02:00:00"):
            self.env["dunning.evidence.anchor"]._dunning_anchor(self.env.company)
        # a key holder appends a sealed message dated before the anchor, linked to the tip
        Evidence = self.env["dunning.evidence"]
        self.env.cr.execute("""
            INSERT INTO dunning_communication
                   (name, company_id, partner_id, chain_partner_id, policy_id, level_id, channel,
                    state, kind, sent_at, scheduled_at, subject, body, delivery_state,
                    amount_total, currency_id, previous_hash, evidence_version)
            VALUES ('DUN/LATE', %s, %s, %s, %s, %s, 'email', 'sent', 'reminder',
                    %s, %s, 'Final notice', '<p>Final</p>', 'sent', 1000, %s, %s, 2)
            RETURNING id""", [self.env.company.id, self.customer.id, self.customer.id,
                              self.policy.id, self.levels[30].id,
                              f"{self.START + timedelta(days=7)} 15:00:00",
                              f"{self.START + timedelta(days=7)} 15:00:00",
                              self.env.company.currency_id.id, second.hash])
        late = self.Comm.browse(self.env.cr.fetchone()[0])
        self.env.invalidate_all()
        self.env.cr.execute("UPDATE dunning_communication SET hash = %s WHERE id = %s",
                            [Evidence._dunning_sign(late._dunning_snapshot()), late.id])
        problems = self._problems(comms)
        self.assertIn((late, "after_anchor"), problems)
        self.assertNotIn((late, "content_changed"), problems, "the seal itself is right")
        # an anchor file rewritten on disk no longer matches either
        anchor = self.env["dunning.evidence.anchor"].search([], limit=1)
        os.chmod(anchor.file_path, 0o644)
        with open(anchor.file_path, "w", encoding="utf-8") as handle:
            handle.write(anchor.payload.replace(second.hash, late.hash))
        self.assertIn((self.Comm, "anchor_file"), self._problems(comms))

    def test_events_after_sending_are_chained(self):
        self.policy.level_ids.filtered(lambda lvl: lvl.offset_days == 30).channel_ids.write(
            {"mail_template_id": False})  # a letter to post
        invoice = self._invoice(self.START)
        for offset in (0, 7, 15, 30):
            self._run(self.START + timedelta(days=offset))
        letter = self._comms(channel="letter")
        self.assertEqual(letter.delivery_state, "to_post")
        letter.with_user(self.dunning_user).action_mark_posted()
        letter.with_user(self.dunning_user).tracking_reference = "CD123456789ES"
        self.assertEqual(letter.event_ids.mapped("kind"), ["delivery", "tracking"])
        self.assertEqual(letter.event_ids[0].previous_hash, letter.hash)
        self.assertEqual(letter.event_ids[1].previous_hash, letter.event_ids[0].hash)
        comms = self._comms()
        self.assertFalse(self._problems(comms))
        # events cannot be written, deleted or made up by a user
        with self.assertRaises(UserError):  # AccessError is one too
            letter.event_ids[0].with_user(self.dunning_user).write({"description": "Returned"})
        with self.assertRaises(UserError):  # AccessError is one too
            letter.event_ids.with_user(self.dunning_user).unlink()
        with self.assertRaises(UserError):  # AccessError is one too
            self._rpc(self.dunning_user, "dunning.communication.event", "create", {
                "communication_id": letter.id, "at": fields.Datetime.now(), "kind": "proof"})
        # behind the ORM's back
        self.env.cr.execute("UPDATE dunning_communication_event SET description = 'Refused' "
                            "WHERE id = %s", [letter.event_ids[1].id])
        self.assertIn((letter, "event_changed"), self._problems(comms))
        self.assertTrue(invoice)

    def test_one_chain_per_company_and_merges_stay_verifiable(self):
        comms = self._sent_pair()
        other = self.setup_other_company()["company"]
        policy_b = self.policy.copy({"company_id": other.id, "name": "Policy B"})
        policy_b.preference_delay_days = 0
        other.dunning_policy_id = policy_b
        invoice_b = self._invoice(self.START, company_id=other.id,
                                  journal_id=self.env["account.journal"].search([
                                      ("company_id", "=", other.id), ("type", "=", "sale")],
                                      limit=1).id)
        self.assertEqual(invoice_b.company_id, other)
        Comm = self.Comm.with_context(allowed_company_ids=(self.env.company | other).ids)
        with freeze_time(f"{self.START.isoformat()} 10:00:00"):
            Comm.env["dunning.plan"]._dunning_plan(companies=other)
            Comm.env["dunning.send"]._dunning_send_due()
        comm_b = Comm.search([("company_id", "=", other.id), ("partner_id", "=", self.customer.id)])
        self.assertEqual(comm_b.state, "sent")
        self.assertFalse(comm_b.previous_hash, "company B starts its own chain")
        self.assertFalse(self._problems(comms | comm_b))
        # the customer is merged into another contact: both chains still verify
        target = self.env["res.partner"].create({"name": "Alcalá Construcciones S.A.",
                                                 "is_company": True})
        self.env["base.partner.merge.automatic.wizard"]._merge(
            (self.customer | target).ids, target, extra_checks=False)
        self.env.invalidate_all()
        self.assertEqual(comms.partner_id, target)
        self.assertFalse(self._problems(comms | comm_b))

    def test_concurrent_sender_cannot_fork_a_chain(self):
        """Another run (another transaction) moved this customer's chain tip and committed
        while this one was sending: this run fails to serialise and is retried; it neither
        forks the chain nor records the message as failed."""
        self.policy.mode = "review"
        self._invoice(self.START)
        self._run(self.START)
        comm = self._comms()
        comm.action_approve()
        self.env.flush_all()
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute(
                "INSERT INTO dunning_evidence_tip (company_id, chain_partner_id, hash) "
                "VALUES (%s, %s, 'tip-of-the-other-run')", [self.env.company.id, self.customer.id])
            other.commit()
            with freeze_time(f"{self.START.isoformat()} 12:00:00"), \
                    self.assertRaises(psycopg2.errors.SerializationFailure):
                with self.env.cr.savepoint():
                    self.env["dunning.send"]._dunning_send_batch(comm)
        finally:
            other.execute("DELETE FROM dunning_evidence_tip WHERE company_id = %s "
                          "AND chain_partner_id = %s", [self.env.company.id, self.customer.id])
            other.commit()
            other.close()
        self.env.invalidate_all()
        self.assertEqual(comm.state, "scheduled", "nothing recorded: the run is retried")

    # ------------------------------------------------------------------ access
    def test_customer_link_is_not_for_every_reader(self):
        self._invoice(self.START)
        self._run(self.START)
        comm = self._comms()
        self.assertTrue(comm.customer_url, "issued when sent")
        with self.assertRaises(AccessError):
            self._rpc(self.billing_user, "dunning.communication", "read", comm.ids,
                      ["customer_url"])
        url = comm.customer_url
        comm.invalidate_recordset()
        self.assertEqual(comm.customer_url, url, "reading it mints no new link")

    def test_dunning_settings_of_a_customer_need_a_dunning_user(self):
        contact_manager = new_test_user(self.env, login="dun_rec_contacts",
                                        groups="base.group_user,base.group_partner_manager")
        for vals in ({"dunning_excluded": True}, {"dunning_policy_id": False},
                     {"dunning_contact": True}):
            if vals.get("dunning_policy_id") is False:
                self.customer.dunning_policy_id = self.policy
            with self.assertRaises(AccessError):
                self._rpc(contact_manager, "res.partner", "write", self.customer.ids, vals)
        self._rpc(contact_manager, "res.partner", "write", self.customer.ids,
                  {"phone": "+34 600 000 000"})
        # nor on a customer they create
        with self.assertRaises(AccessError):
            self._rpc(contact_manager, "res.partner", "create",
                      {"name": "Never chased", "dunning_excluded": True})
        self.assertTrue(self._rpc(contact_manager, "res.partner", "create", {"name": "Chased"}))
        collector = new_test_user(self.env, login="dun_rec_collector",
                                  groups="dunning_chain.group_dunning_user,base.group_partner_manager")
        self._rpc(collector, "res.partner", "write", self.customer.ids,
                  {"dunning_excluded": True})
        self.assertTrue(self.customer.dunning_excluded)

    def test_record_rules_on_company_data(self):
        invoice = self._invoice(self.START)
        self._run(self.START)
        other = self.setup_other_company()["company"]
        user_b = new_test_user(self.env, login="dun_rec_b", groups="account.group_account_user",
                               company_id=other.id, company_ids=[(6, 0, other.ids)])
        self.assertFalse(self.env["dunning.move.state"].with_user(user_b).search(
            [("move_id", "=", invoice.id)]))
        self.assertTrue(self.env["dunning.move.state"].search([("move_id", "=", invoice.id)]))
        mine = self.env["dunning.level.channel"].search([("level_id.policy_id", "=", self.policy.id)])
        policy_b = self.policy.copy({"company_id": other.id, "name": "Policy B"})
        self.policy.company_id = self.env.company
        channels_b = self.env["dunning.level.channel"].with_user(user_b).search([])
        self.assertFalse(channels_b & mine, "company A's channels are not company B's")
        self.assertTrue(channels_b & policy_b.level_ids.channel_ids)

    def test_records_sealed_before_keyed_seals_still_verify(self):
        """Communications sealed by the earlier unkeyed SHA-256 (evidence version 1, kept by
        the 19.0.1.2.0 migration) verify as such, and a change to them still shows."""
        comms = self._sent_pair()
        first, second = comms
        self.env.cr.execute("UPDATE dunning_communication SET evidence_version = 1 WHERE id = %s",
                            [first.id])
        self.env.invalidate_all()
        legacy = first._dunning_legacy_hash()
        self.env.cr.execute("UPDATE dunning_communication SET hash = %s WHERE id = %s",
                            [legacy, first.id])
        self.env.cr.execute("UPDATE dunning_communication SET previous_hash = %s WHERE id = %s",
                            [legacy, second.id])
        self.env.invalidate_all()
        self.env.cr.execute("UPDATE dunning_communication SET hash = %s WHERE id = %s",
                            [self.env["dunning.evidence"]._dunning_sign(second._dunning_snapshot()),
                             second.id])
        self.assertFalse(self._problems(comms))
        self.env.cr.execute("UPDATE dunning_communication SET recipients = 'x@example.com' "
                            "WHERE id = %s", [first.id])
        self.assertIn((first, "content_changed"), self._problems(comms))

    def test_attachments_sent_are_part_of_the_record(self):
        comms = self._sent_pair()
        attachment = comms[1].attachment_ids[:1]
        self.assertTrue(attachment, "the first reminder attaches the invoice")
        with self.assertRaisesRegex(UserError, "part of the record"):
            attachment.with_user(self.dunning_user).unlink()
        with self.assertRaisesRegex(UserError, "part of the record"):
            attachment.write({"raw": b"%PDF-1.4 nothing due"})
        # deleting the message that carried it does not take it away either
        with self.assertRaisesRegex(UserError, "part of the record"):
            comms[1].mail_message_id.attachment_ids.unlink()
        self.assertFalse(self._problems(comms))

    def test_sent_communication_is_read_only_and_tamper_evident(self):
        self._invoice(self.START)
        self._run(self.START)
        self._run(self.START + timedelta(days=7))
        comms = self._comms()
        self.assertEqual(comms[1].previous_hash, comms[0].hash)
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            comms[0].body = "<p>Nothing to pay</p>"
        with self.assertRaises(UserError):
            comms[0].unlink()
        # an edit behind the ORM's back is detected
        self.env.cr.execute("UPDATE dunning_communication SET amount_total = 1 WHERE id = %s",
                            [comms[0].id])
        self.env.invalidate_all()
        self.assertEqual(comms._dunning_broken_links(), comms[0])
        with self.assertRaisesRegex(UserError, "altered"):
            comms[0].action_verify_hash_chain()
