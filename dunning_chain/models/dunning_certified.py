"""Certified letters and burofax after the step was sent: to send -> sent (posted, with its
tracking reference) -> delivered / returned / refused, each step an event of the sealed record.

Sending the certified step gives staff a to-do with the letter (dunning_channel_task.py); the
communication is then *sent* in the record's sense (its letter is sealed) while its certified
state is *to send*. Recording the posting closes that to-do; recording the result may carry the
proof of delivery (a proof document, dunning_proof.py); a letter returned or refused gives the
responsible a task to check the customer's address.
"""
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date
from odoo.tools.mimetypes import guess_mimetype

CERTIFIED_STATES = [
    ("to_send", "To Send"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("returned", "Returned"),
    ("refused", "Refused"),
]
# delivery_state of a sent certified letter -> its certified state (anything else: to send)
CERTIFIED_OF_DELIVERY = {"posted": "sent", "delivered": "delivered", "returned": "returned",
                         "refused": "refused"}
RESULTS = ("delivered", "returned", "refused")
CERTIFIED_FIELDS = {"certified_posted_on", "certified_result_on"}


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    delivery_state = fields.Selection(selection_add=[("returned", "Returned to sender"),
                                                     ("refused", "Refused")])
    certified_state = fields.Selection(
        CERTIFIED_STATES, compute="_compute_certified_state", store=True, index="btree_not_null",
        string="Certified Letter",
        help="Certified letters and burofax: to send (the letter waits to be posted), sent "
             "(posted, with its tracking reference), then delivered, returned or refused. "
             "Each step is an event of the record.")
    certified_posted_on = fields.Date(
        string="Posted On", readonly=True, copy=False,
        help="The day the certified letter was handed to the post (Record Posting).")
    certified_result_on = fields.Date(
        string="Result On", readonly=True, copy=False,
        help="The day the post delivered, returned or saw the letter refused.")

    @api.depends("channel", "state", "delivery_state")
    def _compute_certified_state(self):
        for comm in self:
            if comm.channel != "certified" or comm.state != "sent":
                comm.certified_state = False
            else:
                comm.certified_state = CERTIFIED_OF_DELIVERY.get(comm.delivery_state, "to_send")

    @api.model
    def _dunning_sender_fields(self):
        return super()._dunning_sender_fields() | CERTIFIED_FIELDS

    # ------------------------------------------------------------------ rights and checks
    def _dunning_check_collector(self):
        """Postings, delivery results and proofs are recorded by dunning users, on
        communications they may change."""
        if not self.env.user.has_group("dunning_chain.group_dunning_user"):
            raise AccessError(self.env._(
                "Only dunning users record postings, delivery results and proofs."))
        self.check_access("write")

    def _dunning_check_certified(self, expected):
        """This is a sent certified letter whose certified state is ``expected``."""
        self.ensure_one()
        if self.channel != "certified":
            raise UserError(self.env._(
                "%(name)s is not a certified letter or burofax (it went by %(channel)s).",
                name=self.name, channel=self._channel_label()))
        if self.state != "sent":
            raise UserError(self.env._(
                "%s is not sent yet: its letter is made when the step is sent.", self.name))
        if self.certified_state != expected:
            labels = dict(self._fields["certified_state"]._description_selection(self.env))
            raise UserError(self.env._(
                "%(name)s is %(state)s: this can only be recorded for a certified letter that "
                "is %(expected)s.", name=self.name, state=labels[self.certified_state].lower(),
                expected=labels[expected].lower()))

    def _dunning_check_day(self, day, earliest, what):
        today = fields.Date.context_today(self)
        if not day:
            raise UserError(self.env._("Give the day %s.", what))
        if day > today:
            raise UserError(self.env._("The day %(what)s (%(day)s) is in the future.",
                                       what=what, day=format_date(self.env, day)))
        if earliest and day < earliest:
            raise UserError(self.env._(
                "The day %(what)s (%(day)s) is before %(earliest)s.", what=what,
                day=format_date(self.env, day), earliest=format_date(self.env, earliest)))

    # ------------------------------------------------------------------ user actions
    def _dunning_wizard_action(self, model, name):
        return {
            "type": "ir.actions.act_window", "name": name, "res_model": model,
            "view_mode": "form", "target": "new",
            "context": {"default_communication_id": self.id},
        }

    def action_dunning_record_posting(self):
        """Open "Record Posting" (tracking reference, day) for a certified letter to send."""
        self._dunning_check_collector()
        self._dunning_check_certified("to_send")
        return self._dunning_wizard_action("dunning.certified.posting.wizard",
                                           self.env._("Record Posting"))

    def action_dunning_record_result(self):
        """Open "Record Delivery Result" (delivered / returned / refused, day, proof)."""
        self._dunning_check_collector()
        self._dunning_check_certified("sent")
        return self._dunning_wizard_action("dunning.certified.result.wizard",
                                           self.env._("Record Delivery Result"))

    # ------------------------------------------------------------------ the steps
    def _dunning_certified_post(self, reference, posted_on):
        """The letter was posted on ``posted_on`` with tracking ``reference``: an event of the
        record; the to-do of the step is done."""
        self._dunning_check_collector()
        self._dunning_check_certified("to_send")
        reference = (reference or "").strip()
        if not reference:
            raise UserError(self.env._("A certified letter is recorded as sent with the tracking "
                                       "reference the post gave."))
        self._dunning_check_day(posted_on, fields.Date.context_today(self, self.sent_at),
                                self.env._("it was posted"))
        self._dunning_sys_write({"certified_posted_on": posted_on,
                                 "tracking_reference": reference, "delivery_state": "posted"})
        activity = self.activity_id.sudo().exists()
        if activity.active:
            activity.action_feedback(feedback=self.env._(
                "Posted on %(day)s, tracking reference %(reference)s.",
                day=format_date(self.env, posted_on), reference=reference))
        return True

    def _dunning_certified_result(self, result, result_on, raw=None, filename=None):
        """What became of the posted letter: delivered (with the proof of delivery), returned
        or refused (the responsible gets a task to check the address); an event of the record,
        the proof file a proof event after it."""
        self._dunning_check_collector()
        self._dunning_check_certified("sent")
        if result not in RESULTS:
            raise UserError(self.env._("A certified letter is delivered, returned or refused."))
        self._dunning_check_day(result_on, self.certified_posted_on,
                                self.env._("of the delivery result"))
        if result == "delivered" and not raw:
            raise UserError(self.env._("Upload the proof of delivery (PDF or image) the post "
                                       "gave for %s.", self.name))
        if raw:
            self._dunning_check_proof_type(raw)
        labels = dict(self._fields["delivery_state"]._description_selection(self.env))
        vals = {"certified_result_on": result_on, "delivery_state": result}
        if result != "delivered":
            vals["failure_reason"] = self.env._(
                "Certified letter %(result)s on %(day)s (tracking reference %(reference)s).",
                result=labels[result].lower(), day=format_date(self.env, result_on),
                reference=self.tracking_reference)
        self._dunning_sys_write(vals)
        if raw:
            proof = {"delivered": self.env._("Proof of delivery"),
                     "returned": self.env._("Notice of return to sender"),
                     "refused": self.env._("Notice of refusal")}[result]
            self._dunning_add_proof(raw, filename or proof, proof)
        if result != "delivered":
            self._dunning_address_task(labels[result])
        return True

    def _dunning_check_proof_type(self, raw):
        mimetype = guess_mimetype(raw, default="application/octet-stream")
        if mimetype != "application/pdf" and not mimetype.startswith("image/"):
            raise UserError(self.env._(
                "The proof of delivery is a PDF or an image (this file is %s).", mimetype))

    def _dunning_address_task(self, result_label):
        user = self._dunning_responsible_user()
        note = Markup("<p>%s</p>") % self.env._(
            "The certified letter %(name)s (tracking reference %(reference)s) came back: "
            "%(result)s. Check %(customer)s's postal address before the next letter.",
            name=self.name, reference=self.tracking_reference, result=result_label.lower(),
            customer=self.partner_id.display_name)
        activity = self.activity_schedule(
            "mail.mail_activity_data_todo", user_id=user.id, note=note,
            summary=self.env._("Check the address of %s", self.partner_id.display_name))
        self._dunning_sys_write({"activity_id": activity.id})

    def _dunning_event_of(self, changes):
        """A step of a certified letter: its own event (kind, words and data)."""
        step = CERTIFIED_OF_DELIVERY.get(changes.get("delivery_state"))
        if self.channel != "certified" or not step:
            return super()._dunning_event_of(changes)
        day = self.certified_posted_on if step == "sent" else self.certified_result_on
        data = dict(changes, certified_state=step, date=fields.Date.to_string(day),
                    tracking_reference=self.tracking_reference or "")
        words = {"day": format_date(self.env, day), "reference": self.tracking_reference}
        if step == "sent":
            return ("tracking", self.env._(
                "Posted by certified mail on %(day)s, tracking reference %(reference)s",
                **words), data)
        if step == "delivered":
            return ("delivery", self.env._("Certified letter delivered on %(day)s", **words),
                    data)
        if step == "returned":
            return ("failure", self.env._("Certified letter returned to sender on %(day)s",
                                          **words), data)
        return ("failure", self.env._("Certified letter refused on %(day)s", **words), data)
