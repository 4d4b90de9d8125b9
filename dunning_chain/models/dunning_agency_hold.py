"""What an agency case changes elsewhere: the chain is silent for invoices of an open case (the
planner leaves them out, the reason is given), a sent hand-off opens a case, the customer, the
invoices and the hand-off communication show their cases and offer the case file / evidence
bundle."""
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date

from .dunning_agency_case import OPEN_STATES


def _check_dunning_user(env):
    if not (env.su or env.user.has_group("dunning_chain.group_dunning_user")):
        raise AccessError(env._("Only dunning users hand debts over and gather evidence."))


class AccountMove(models.Model):
    _inherit = "account.move"

    dunning_agency_case_ids = fields.Many2many(
        "dunning.agency.case", "dunning_agency_case_move_rel", "move_id", "case_id",
        string="Agency Cases", readonly=True, copy=False,
        groups="dunning_chain.group_dunning_user")
    dunning_agency_case_id = fields.Many2one(
        "dunning.agency.case", string="With the Agency", compute="_compute_dunning_agency_case",
        groups="dunning_chain.group_dunning_user",
        help="The open agency case holding this invoice: the chain sends nothing for it.")
    dunning_agency_hold = fields.Char(
        string="Chain on Hold", compute="_compute_dunning_agency_case",
        groups="dunning_chain.group_dunning_user")

    @api.depends("dunning_agency_case_ids.state")
    def _compute_dunning_agency_case(self):
        cases = self.env["dunning.agency.case"].sudo()._dunning_open_by_move(self._origin.ids)
        for move in self:
            case = cases.get(move._origin.id)
            move.dunning_agency_case_id = case
            move.dunning_agency_hold = case._dunning_hold_words() if case else False

    def _dunning_blocked_reason(self):
        """An invoice with the collection agency is not reminded (the case says since when)."""
        reason = super()._dunning_blocked_reason()
        if reason:
            return reason
        case = self.env["dunning.agency.case"].sudo()._dunning_open_by_move(self.ids).get(self.id)
        return case._dunning_hold_words() if case else ""

    def action_dunning_evidence_bundle(self):
        """The evidence bundle (PDF + ZIP) of these invoices' communications."""
        _check_dunning_user(self.env)
        self.check_access("read")
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        if not invoices or len(invoices.commercial_partner_id) != 1 or len(invoices.company_id) != 1:
            raise UserError(self.env._("Choose posted customer invoices of one customer and "
                                       "one company."))
        return self.env["dunning.evidence.bundle"]._dunning_open(
            invoices.commercial_partner_id, invoices.company_id, moves=invoices)

    def action_dunning_agency_cases(self):
        _check_dunning_user(self.env)
        self.ensure_one()
        return self.env["dunning.agency.case"]._dunning_cases_action(
            [("move_ids", "in", self.ids)], {"default_partner_id": self.commercial_partner_id.id,
                                             "default_move_ids": self.ids})


class DunningAgencyCaseHold(models.Model):
    _inherit = "dunning.agency.case"

    @api.model
    def _dunning_open_by_move(self, move_ids):
        """{invoice id: its open case} (one query)."""
        if not move_ids:
            return {}
        self.flush_model(["state", "move_ids"])
        self.env.cr.execute("""
            SELECT r.move_id, c.id FROM dunning_agency_case_move_rel r
              JOIN dunning_agency_case c ON c.id = r.case_id
             WHERE r.move_id = ANY(%s) AND c.state IN %s""", [list(move_ids), OPEN_STATES])
        return {move_id: self.browse(case_id) for move_id, case_id in self.env.cr.fetchall()}

    @api.model
    def _dunning_open_from_handoff(self, comm):
        """Open the case of a sent hand-off: its invoices still owed and not with the agency
        already. Returns the case (empty when there is nothing to hand over)."""
        moves = comm.line_ids.filtered("is_open").move_id.filtered(lambda m: m._dunning_is_open())
        held = self._dunning_open_by_move(moves.ids)
        moves = moves.filtered(lambda m: m.id not in held)
        if not moves:
            return self.browse()
        return self.create({
            "company_id": comm.company_id.id, "partner_id": comm.partner_id.id,
            "agency_id": comm.channel_config_id.handoff_partner_id.id or False,
            "handoff_communication_id": comm.id, "move_ids": [fields.Command.set(moves.ids)],
        })

    @api.onchange("partner_id")
    def _onchange_partner_id_moves(self):
        """A case opened by hand proposes the customer's overdue invoices not with an agency
        already."""
        if not self.partner_id or self.move_ids:
            return
        Move = self.env["account.move"]
        overdue = Move.search(Move._dunning_open_domain(self.partner_id.commercial_partner_id) + [
            ("company_id", "=", (self.company_id or self.env.company).id),
            ("invoice_date_due", "<", fields.Date.context_today(self))])
        held = self._dunning_open_by_move(overdue.ids)
        self.move_ids = overdue.filtered(lambda m: m.id not in held)

    def _dunning_hold_words(self):
        self.ensure_one()
        since = fields.Datetime.context_timestamp(self, self.handed_off_at).date()
        return self.env._("with the collection agency %(agency)s since %(date)s (case %(case)s)",
                          agency=self._dunning_agency_name(), date=format_date(self.env, since),
                          case=self.name)

    @api.model
    def _dunning_cases_action(self, domain, context=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "dunning_chain.action_dunning_agency_case")
        action["domain"] = domain
        action["context"] = context or {}
        return action


class DunningPlan(models.AbstractModel):
    _inherit = "dunning.plan"

    @api.model
    def _dunning_candidates(self, today, companies, *args, **kwargs):
        """Invoices with the collection agency are left out, whatever the step: the case says
        why (account.move._dunning_blocked_reason, the invoice's Dunning tab)."""
        candidates = super()._dunning_candidates(today, companies, *args, **kwargs)
        held = self.env["dunning.agency.case"].sudo()._dunning_open_by_move(
            [c.move_id for c in candidates])
        return [c for c in candidates if c.move_id not in held] if held else candidates


class DunningSend(models.AbstractModel):
    _inherit = "dunning.send"

    @api.model
    def _dunning_mark_sent(self, comm, result):
        """A sent hand-off opens the agency case of its invoices (once sealed: the case's
        progress is appended to the hand-off's record)."""
        super()._dunning_mark_sent(comm, result)
        if comm.channel == "handoff" and comm.state == "sent":
            self.env["dunning.agency.case"].sudo()._dunning_open_from_handoff(comm)


class DunningCommunication(models.Model):
    _inherit = "dunning.communication"

    agency_case_ids = fields.One2many("dunning.agency.case", "handoff_communication_id",
                                      string="Agency Cases")

    def _dunning_handoff_case(self):
        """The case this hand-off opened (opened now for a hand-off sent before cases
        existed, when its invoices are still owed)."""
        _check_dunning_user(self.env)
        self.ensure_one()
        if self.channel != "handoff" or self.state != "sent":
            raise UserError(self.env._("Only a sent hand-off has a case file."))
        case = self.agency_case_ids[:1] or self.env["dunning.agency.case"]._dunning_open_from_handoff(
            self)
        if not case:
            raise UserError(self.env._("The invoices of %s are settled or with the agency in "
                                       "another case: there is nothing to hand over.", self.name))
        return case

    def action_dunning_casefile_send(self):
        """E-mail the case file (PDF and ZIP) to the agency, from the hand-off."""
        return self._dunning_handoff_case().action_casefile_send()

    def action_dunning_casefile_download(self):
        return self._dunning_handoff_case().action_casefile_download()

    def action_dunning_agency_case(self):
        case = self._dunning_handoff_case()
        return {"type": "ir.actions.act_window", "res_model": case._name, "res_id": case.id,
                "view_mode": "form", "name": case.name}


class ResPartner(models.Model):
    _inherit = "res.partner"

    dunning_agency_case_ids = fields.One2many(
        "dunning.agency.case", "partner_id", string="Agency Cases",
        groups="dunning_chain.group_dunning_user")
    dunning_agency_case_count = fields.Integer(
        compute="_compute_dunning_agency_case_count", groups="dunning_chain.group_dunning_user")

    def _compute_dunning_agency_case_count(self):
        counts = dict(self.env["dunning.agency.case"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]))
        for partner in self:
            partner.dunning_agency_case_count = counts.get(partner.commercial_partner_id, 0)

    def action_dunning_agency_cases(self):
        _check_dunning_user(self.env)
        self.ensure_one()
        partner = self.commercial_partner_id
        return self.env["dunning.agency.case"]._dunning_cases_action(
            [("partner_id", "=", partner.id)], {"default_partner_id": partner.id})

    def action_dunning_agency_case_new(self):
        """Hand this customer's overdue invoices over by hand (a new case to fill in)."""
        _check_dunning_user(self.env)
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "dunning.agency.case",
                "view_mode": "form", "target": "current",
                "name": self.env._("Hand Off to an Agency"),
                "context": {"default_partner_id": self.commercial_partner_id.id}}

    def action_dunning_evidence_bundle(self):
        """The evidence bundle (PDF + ZIP) of this customer with the current company."""
        _check_dunning_user(self.env)
        self.ensure_one()
        self.check_access("read")
        return self.env["dunning.evidence.bundle"]._dunning_open(
            self.commercial_partner_id, self.env.company)
