"""Certified letters / burofax after the step was sent (to send -> sent with its tracking
reference -> delivered / returned / refused) and proof documents of sent communications, each
an event of the sealed record; a proof file changed behind Odoo's back shows at verification."""
import base64
import hashlib
import json
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.service import model as rpc
from odoo.tests import Form, freeze_time, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import DunningCommon

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@tagged("post_install", "-at_install")
class TestDunningCertified(DunningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector = new_test_user(cls.env, login="cert_collector",
                                      groups="dunning_chain.group_dunning_user")
        cls.billing = new_test_user(cls.env, login="cert_billing",
                                    groups="account.group_account_invoice")
        cls.employee = new_test_user(cls.env, login="cert_employee", groups="base.group_user")
        cls.portal = new_test_user(cls.env, login="cert_portal", groups="base.group_portal")
        cls.responsible = new_test_user(cls.env, login="cert_responsible",
                                        groups="dunning_chain.group_dunning_user")
        cls.policy.collector_id = cls.responsible
        cls.FINAL = cls.START + timedelta(days=45)  # Thursday 16 April: the final notice

    # ------------------------------------------------------------------ helpers
    def _certified(self, partners=None):
        """The final notice of each customer sent: its certified letter (to send) by
        customer."""
        partners = partners or self.customer
        for partner in partners:
            self._invoice(self.START, partner=partner)
        self._run(self.FINAL)
        final = self.Comm.search([("partner_id", "in", partners.ids),
                                  ("level_id", "=", self.levels[45].id)])
        final.action_approve()
        self._run(self.FINAL, hour=11)
        certified = final.filtered(lambda c: c.channel == "certified")
        self.assertEqual(len(certified), len(partners))
        self.assertEqual(set(final.mapped("state")), {"sent"})
        return certified

    def _wizard(self, action, user=None, **values):
        """Fill the wizard an action opens, as the user does, and confirm it."""
        self.assertEqual(action["target"], "new")
        context = dict(action["context"])
        if "proof_filename" in values:  # set by the upload widget with the file
            context["default_proof_filename"] = values.pop("proof_filename")
        form = Form(self.env[action["res_model"]].with_user(user or self.collector)
                    .with_context(context))
        for name, value in values.items():
            setattr(form, name, value)
        return form.save().action_confirm()

    def _post(self, comm, day, reference="CD123456789ES"):
        with freeze_time(f"{day.isoformat()} 12:00:00"):
            action = comm.with_user(self.collector).action_dunning_record_posting()
            self._wizard(action, tracking_reference=reference, posted_on=day)

    def _result(self, comm, day, result="delivered", raw=PDF, filename="acuse-recibo.pdf"):
        values = {"result": result, "result_on": day}
        if raw:
            values.update(proof_file=base64.b64encode(raw), proof_filename=filename)
        with freeze_time(f"{day.isoformat()} 12:00:00"):
            action = comm.with_user(self.collector).action_dunning_record_result()
            self._wizard(action, **values)

    def _add_proof(self, comm, raw, filename, description, day=None):
        with freeze_time(f"{(day or self.FINAL + timedelta(days=3)).isoformat()} 12:00:00"):
            action = comm.with_user(self.collector).action_dunning_add_proof()
            self._wizard(action, proof_file=base64.b64encode(raw), proof_filename=filename,
                         description=description)

    def _problems(self, comms):
        self.env.invalidate_all()
        keys = self.env["dunning.evidence"]._dunning_chain_keys(comms)
        return [(comm, code, text) for comm, code, text
                in self.env["dunning.evidence"]._dunning_verify(keys)]

    def _rpc(self, user, model, method, *args):
        self.env.flush_all()
        env = self.env(user=user.id, context={})
        result = rpc.call_kw(env[model], method, list(args), {})
        env.flush_all()
        return result

    @staticmethod
    def _tip(comm):
        return comm.event_ids.sorted("id")[-1:].hash or comm.hash

    # ------------------------------------------------------------------ the journey
    def test_certified_letter_posted_then_delivered_with_proof(self):
        cert = self._certified()
        self.assertEqual(cert.certified_state, "to_send")
        todo = cert.activity_id
        self.assertTrue(todo.active, "the step gave staff a to-do with the letter")
        self.assertFalse(cert.event_ids)
        seal = cert.hash

        self._post(cert, self.FINAL + timedelta(days=1))
        self.assertEqual(cert.certified_state, "sent")
        self.assertEqual(cert.tracking_reference, "CD123456789ES")
        self.assertEqual(cert.certified_posted_on, self.FINAL + timedelta(days=1))
        self.assertEqual(cert.delivery_state, "posted")
        self.assertFalse(todo.exists() and todo.active, "posting closes the to-do of the step")
        posted_tip = self._tip(cert)
        self.assertNotEqual(posted_tip, seal)

        self._result(cert, self.FINAL + timedelta(days=4))
        self.assertEqual(cert.certified_state, "delivered")
        self.assertEqual(cert.certified_result_on, self.FINAL + timedelta(days=4))
        events = cert.event_ids.sorted("id")
        self.assertEqual(events.mapped("kind"), ["tracking", "delivery", "proof"])
        self.assertEqual(events[0].description,
                         "Posted by certified mail on 04/17/2026, tracking reference CD123456789ES")
        self.assertEqual(events[1].description, "Certified letter delivered on 04/20/2026")
        posting, delivery, proof = (json.loads(e.data) for e in events)
        self.assertEqual((posting["certified_state"], posting["tracking_reference"],
                          posting["date"]), ("sent", "CD123456789ES", "2026-04-17"))
        self.assertEqual((delivery["certified_state"], delivery["date"]),
                         ("delivered", "2026-04-20"))
        # each event chained to the one before, the first to the communication's seal
        self.assertEqual(events.mapped("previous_hash"), [seal, events[0].hash, events[1].hash])
        # the proof: kept on the communication, its SHA-256 sealed
        attachment = cert._dunning_proofs()
        self.assertEqual(len(attachment), 1)
        self.assertEqual((attachment.res_model, attachment.res_id),
                         ("dunning.communication", cert.id))
        self.assertEqual(attachment.raw, PDF)
        self.assertEqual(proof, {
            "attachment_id": attachment.id, "name": "acuse-recibo.pdf",
            "checksum": hashlib.sha256(PDF).hexdigest(), "algorithm": "sha256",
            "mimetype": "application/pdf", "size": len(PDF), "description": "Proof of delivery"})
        self.assertEqual(cert.proof_event_ids, events[2])
        self.assertEqual(events[2].proof_checksum, hashlib.sha256(PDF).hexdigest())
        # the record moved on and still verifies
        self.assertEqual(cert.hash, seal, "the seal of what was sent never changes")
        self.assertNotIn(self._tip(cert), (seal, posted_tip))
        self.assertFalse(self._problems(cert))
        cert.with_user(self.collector).action_verify_hash_chain()
        # the file can be downloaded by whoever reads the communication
        action = events[2].with_user(self.billing).action_dunning_download_proof()
        self.assertEqual(action["url"], f"/web/content/{attachment.id}?download=true")

    def test_proof_changed_after_recording_is_reported(self):
        cert = self._certified()
        self._post(cert, self.FINAL + timedelta(days=1))
        self._result(cert, self.FINAL + timedelta(days=4))
        proof = cert._dunning_proofs()
        # through Odoo nobody changes or deletes it, not even the administrator
        for env in (self.env(user=self.collector.id), self.env(su=True)):
            with self.assertRaisesRegex(UserError, "recorded as a proof"):
                proof.with_env(env).write({"datas": base64.b64encode(b"%PDF-1.4 forged")})
            with self.assertRaisesRegex(UserError, "recorded as a proof"):
                proof.with_env(env).unlink()
        self.assertFalse(self._problems(cert))
        # behind Odoo's back (the database), the verification sees it
        self.env.flush_all()
        self.env.cr.execute("UPDATE ir_attachment SET store_fname = NULL, db_datas = %s "
                            "WHERE id = %s", [b"%PDF-1.4 delivered to somebody else", proof.id])
        problems = self._problems(cert)
        self.assertEqual([(c, code) for c, code, _t in problems], [(cert, "proof_changed")])
        self.assertEqual(problems[0][2],
                         f"{cert.name}: a proof document changed after it was recorded")
        with self.assertRaisesRegex(UserError, "a proof document changed after it was recorded"):
            cert.with_user(self.collector).action_verify_hash_chain()
        self.env.cr.execute("DELETE FROM ir_attachment WHERE id = %s", [proof.id])
        self.assertEqual([code for _c, code, _t in self._problems(cert)], ["proof_missing"])

    def test_returned_letter_gives_a_task_to_check_the_address(self):
        cert = self._certified()
        self._post(cert, self.FINAL + timedelta(days=1))
        self._result(cert, self.FINAL + timedelta(days=9), result="returned", raw=None)
        self.assertEqual(cert.certified_state, "returned")
        self.assertEqual(cert.delivery_state, "returned")
        self.assertIn("returned to sender", cert.failure_reason)
        event = cert.event_ids.sorted("id")[-1]
        self.assertEqual(event.kind, "failure")
        self.assertEqual(event.description,
                         "Certified letter returned to sender on 04/25/2026")
        task = cert.activity_id
        self.assertEqual((task.res_model, task.res_id), ("dunning.communication", cert.id))
        self.assertEqual(task.user_id, self.responsible)
        self.assertEqual(task.summary, "Check the address of Alcalá Construcciones")
        self.assertIn("CD123456789ES", str(task.note))
        self.assertFalse(cert._dunning_proofs(), "no notice uploaded")
        self.assertFalse(self._problems(cert))
        # the result is final
        with self.assertRaisesRegex(UserError, "is returned: this can only be recorded for a "
                                               "certified letter that is sent"):
            cert.with_user(self.collector).action_dunning_record_result()

    def test_refused_letter_with_the_notice_as_image(self):
        cert = self._certified()
        self._post(cert, self.FINAL + timedelta(days=1))
        self._result(cert, self.FINAL + timedelta(days=6), result="refused", raw=PNG,
                     filename="aviso-rehusado.png")
        self.assertEqual(cert.certified_state, "refused")
        self.assertEqual(cert.event_ids.sorted("id").mapped("kind"),
                         ["tracking", "failure", "proof"])
        self.assertEqual(cert._dunning_proofs().mimetype, "image/png")
        self.assertIn("Check the address", cert.activity_id.summary)
        self.assertFalse(self._problems(cert))

    def test_wrong_steps_give_clear_errors(self):
        cert = self._certified()
        email = self._comms(level_id=self.levels[45].id, channel="email")
        as_collector = cert.with_user(self.collector)
        with self.assertRaisesRegex(UserError, "is to send: this can only be recorded for a "
                                               "certified letter that is sent"):
            as_collector.action_dunning_record_result()
        with self.assertRaisesRegex(UserError, "is not a certified letter or burofax"):
            email.with_user(self.collector).action_dunning_record_posting()
        day = self.FINAL + timedelta(days=1)
        with freeze_time(f"{day.isoformat()} 12:00:00"):
            with self.assertRaisesRegex(UserError, "tracking reference the post gave"):
                as_collector._dunning_certified_post("  ", day)
            with self.assertRaisesRegex(UserError, "is in the future"):
                as_collector._dunning_certified_post("CD1", day + timedelta(days=1))
            with self.assertRaisesRegex(UserError, "is before"):
                as_collector._dunning_certified_post("CD1", self.FINAL - timedelta(days=1))
        self._post(cert, day)
        with self.assertRaisesRegex(UserError, "is sent: this can only be recorded for a "
                                               "certified letter that is to send"):
            as_collector.action_dunning_record_posting()
        later = day + timedelta(days=3)
        with freeze_time(f"{later.isoformat()} 12:00:00"):
            with self.assertRaisesRegex(UserError, "Upload the proof of delivery"):
                as_collector._dunning_certified_result("delivered", later)
            with self.assertRaisesRegex(UserError, "is a PDF or an image"):
                as_collector._dunning_certified_result("delivered", later, b"just words", "a.txt")
            with self.assertRaisesRegex(UserError, "is before"):
                as_collector._dunning_certified_result("delivered", day - timedelta(days=1), PDF)
        self.assertEqual(cert.certified_state, "sent", "nothing recorded by the refused steps")
        self.assertEqual(len(cert.event_ids), 1)
        # proofs only on sent communications
        self.policy.mode = "review"
        self._invoice(self.START, partner=self.customer2)
        self._run(self.FINAL)
        planned = self._comms(partner=self.customer2)[:1]
        self.assertEqual(planned.state, "to_review")
        with self.assertRaisesRegex(UserError, "only a sent communication carries proof"):
            planned.with_user(self.collector).action_dunning_add_proof()
        with self.assertRaisesRegex(UserError, "only a sent communication carries proof"):
            planned.with_user(self.collector)._dunning_add_proof(PDF, "x.pdf", "x")

    # ------------------------------------------------------------------ proofs of any message
    def test_proof_on_an_email_communication(self):
        self._invoice(self.START)
        self._run(self.START)
        email = self._comms()
        self.assertEqual((email.channel, email.state), ("email", "sent"))
        self.assertFalse(email.certified_state)
        seal = email.hash
        self._add_proof(email, PDF, "entrega-validada.pdf", "Delivery validated by the customer",
                        day=self.START + timedelta(days=2))
        event = email.event_ids.sorted("id")[-1]
        self.assertEqual(event.kind, "proof")
        self.assertEqual(event.previous_hash, seal)
        self.assertEqual(event.description,
                         "Proof: entrega-validada.pdf (Delivery validated by the customer)")
        data = json.loads(event.data)
        self.assertEqual(set(data), {"attachment_id", "name", "checksum", "algorithm", "mimetype",
                                     "size", "description"})
        proofs = email._dunning_proofs()
        self.assertEqual(proofs.ids, [data["attachment_id"]])
        self.assertEqual(proofs.description, "Delivery validated by the customer")
        self.assertIn(data["checksum"], email.message_ids[0].body, "the chatter says it")
        # a second proof follows the first
        self._add_proof(email, PNG, "firma.png", "Signed receipt",
                        day=self.START + timedelta(days=3))
        self.assertEqual(email._dunning_proofs().mapped("name"),
                         ["entrega-validada.pdf", "firma.png"])
        self.assertEqual(len(email.proof_event_ids), 2)
        self.assertFalse(self._problems(email))
        # the collector who added them cannot take them back
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            self._rpc(self.collector, "ir.attachment", "unlink", proofs.ids)

    # ------------------------------------------------------------------ the list
    def test_filter_certified_without_proof_after_ten_days(self):
        names = ["Late", "Ten days", "Delivered", "Not posted", "Receipt only"]
        partners = self.env["res.partner"].create([
            {"name": name, "email": f"{i}@example.com", "is_company": True}
            for i, name in enumerate(names)])
        cert = dict(zip(names, self._certified(partners).sorted(
            lambda c: names.index(c.partner_id.name))))
        today = self.FINAL + timedelta(days=20)
        self._post(cert["Late"], today - timedelta(days=11))
        self._post(cert["Ten days"], today - timedelta(days=10))
        self._post(cert["Delivered"], today - timedelta(days=15))
        self._result(cert["Delivered"], today - timedelta(days=12))
        self._post(cert["Receipt only"], today - timedelta(days=14))
        self._add_proof(cert["Receipt only"], PDF, "acuse.pdf", "Signed receipt",
                        day=today - timedelta(days=2))

        view = self.env.ref("dunning_chain.dunning_communication_view_search")
        arch = etree.fromstring(self.Comm.get_view(view.id, "search")["arch"])

        def found(filter_name):
            node = arch.xpath(f"//filter[@name='{filter_name}']")[0]
            domain = safe_eval(node.get("domain"), {"context_today": lambda: today,
                                                    "relativedelta": relativedelta})
            return self.Comm.search(domain + [("partner_id", "in", partners.ids)])

        self.assertEqual(found("certified_no_proof_10_days"), cert["Late"])
        self.assertEqual(found("certified_to_send"), cert["Not posted"])
        self.assertEqual(found("certified_sent"),
                         cert["Late"] | cert["Ten days"] | cert["Receipt only"])
        self.assertEqual(found("certified_delivered"), cert["Delivered"])
        # grouped by certified state
        groups = dict(self.Comm._read_group([("partner_id", "in", partners.ids),
                                             ("channel", "=", "certified")],
                                            ["certified_state"], ["__count"]))
        self.assertEqual(groups, {"to_send": 1, "sent": 3, "delivered": 1})

    # ------------------------------------------------------------------ rights
    def test_only_collectors_record_postings_results_and_proofs(self):
        cert = self._certified()
        email = self._comms(level_id=self.levels[45].id, channel="email")
        day = self.FINAL + timedelta(days=1)
        wizards = {
            "dunning.certified.posting.wizard": {"communication_id": cert.id,
                                                 "tracking_reference": "CD9",
                                                 "posted_on": str(day)},
            "dunning.certified.result.wizard": {"communication_id": cert.id,
                                                "result": "returned", "result_on": str(day)},
            "dunning.proof.wizard": {"communication_id": email.id, "description": "forged",
                                     "proof_file": base64.b64encode(PDF).decode()},
        }
        admin_wizard = self.env["dunning.proof.wizard"].create(
            wizards["dunning.proof.wizard"])
        for user in (self.billing, self.employee, self.portal):
            for method in ("action_dunning_record_posting", "action_dunning_record_result",
                           "action_dunning_add_proof"):
                with self.assertRaises(AccessError, msg=f"{user.login} {method}"):
                    self._rpc(user, "dunning.communication", method, cert.ids)
            for model, values in wizards.items():
                with self.assertRaises(AccessError, msg=f"{user.login} {model}"):
                    self._rpc(user, model, "create", values)
            with self.assertRaises(AccessError, msg=f"{user.login} confirms"):
                self._rpc(user, "dunning.proof.wizard", "action_confirm", admin_wizard.ids)
        self.assertEqual(cert.certified_state, "to_send")
        self.assertFalse(email.event_ids | cert.event_ids, "nothing recorded")
        # a collector does it all over RPC
        with freeze_time(f"{day.isoformat()} 12:00:00"):
            for model, values in wizards.items():
                wizard_id = self._rpc(self.collector, model, "create", values)
                self._rpc(self.collector, model, "action_confirm", [wizard_id])
        self.assertEqual(cert.certified_state, "returned")
        self.assertEqual(len(email._dunning_proofs()), 1)
        # whoever does not read the communication does not download its proofs
        event = email.proof_event_ids
        for user in (self.employee, self.portal):
            with self.assertRaises(AccessError, msg=user.login):
                self._rpc(user, "dunning.communication.event", "action_dunning_download_proof",
                          event.ids)
        self.assertEqual(date.fromisoformat(json.loads(cert.event_ids[0].data)["date"]), day)
