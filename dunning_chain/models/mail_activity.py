from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .dunning_call import CALL_ACTIVITY


class MailActivity(models.Model):
    """Marking a dunning call done asks what the call gave: the chatter's and the activity
    views' *Mark Done* open the Call Outcome form for these tasks (static/src/activity/), and so
    do the *Done* buttons of the activity list and form (action_done returns the form)."""

    _inherit = "mail.activity"

    dunning_is_call = fields.Boolean(
        compute="_compute_dunning_is_call",
        help="A call the dunning chain asked for, whose outcome the current user logs when it "
             "is done (dunning users).")

    @api.depends_context("uid")
    @api.depends("activity_type_id", "active")
    def _compute_dunning_is_call(self):
        calls = self._dunning_calls()
        for activity in self:
            activity.dunning_is_call = activity in calls

    def _dunning_calls(self):
        """These activities that are open tasks of dunning calls, when the user is a dunning
        user (the others mark them done as any task)."""
        if not self.env.user.has_group("dunning_chain.group_dunning_user"):
            return self.browse()
        call_type = self.env.ref(CALL_ACTIVITY, raise_if_not_found=False)
        candidates = self.filtered(lambda a: a.id and a.active and call_type
                                   and a.activity_type_id == call_type)
        if not candidates:
            return self.browse()
        comms = self.env["dunning.communication"].sudo().search([
            ("activity_id", "in", candidates.ids), ("channel", "=", "call"),
            ("state", "=", "sent")])
        return candidates & comms.activity_id.with_env(self.env)

    def _to_store_defaults(self, target):
        return super()._to_store_defaults(target) + ["dunning_is_call"]

    def action_done(self):
        """The *Done* buttons of the activity views: a dunning call opens its Call Outcome form
        instead (one at a time: each call has its own outcome)."""
        calls = self.filtered("active")._dunning_calls()
        if not calls:
            return super().action_done()
        if len(self) > 1:
            raise UserError(self.env._(
                "Log the outcome of each dunning call on its own: %s.",
                ", ".join(calls.mapped("res_name"))))
        return self.action_dunning_call_outcome()

    def action_dunning_call_outcome(self):
        """The Call Outcome form of this dunning call's task (dunning users)."""
        self.ensure_one()
        if not self.env.user.has_group("dunning_chain.group_dunning_user"):
            raise AccessError(self.env._("Only dunning users log the outcome of a call."))
        comm = self.env["dunning.communication"].search(
            [("activity_id", "=", self.id), ("channel", "=", "call"), ("state", "=", "sent")],
            limit=1)
        if not comm or not self.active:
            raise UserError(self.env._("This task is not an open call of the dunning chain."))
        comm._dunning_check_call()
        return comm._dunning_call_outcome_action()
