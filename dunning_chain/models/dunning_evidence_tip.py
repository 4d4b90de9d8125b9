from odoo import api, models, fields
from odoo.tools import SQL


class DunningEvidenceTip(models.Model):
    """The last seal of each chain (one chain per company and customer), written only while
    sealing, under a row lock: two runs sending to the same customer at once (the hourly run
    and a Send Now) cannot both link to the same predecessor. Internal: no access rights."""

    _name = "dunning.evidence.tip"
    _description = "Dunning Record: Chain Tip"
    _log_access = False

    company_id = fields.Integer(required=True, readonly=True)
    chain_partner_id = fields.Integer(required=True, readonly=True)
    hash = fields.Char(readonly=True)
    communication_id = fields.Integer(readonly=True)

    _chain_uniq = models.UniqueIndex("(company_id, chain_partner_id)")

    @api.model
    def _dunning_lock(self, company_id, partner_id):
        """Lock the chain's tip row (created when missing) and return its seal. In Odoo's
        repeatable-read transactions, a tip moved by a concurrent sender that committed first
        raises a serialisation failure here: the transaction is retried, never forked."""
        self.env.cr.execute(SQL("""
            INSERT INTO dunning_evidence_tip (company_id, chain_partner_id, hash)
            VALUES (%s, %s, NULL) ON CONFLICT (company_id, chain_partner_id) DO NOTHING
        """, company_id, partner_id))
        self.env.cr.execute(SQL("""
            SELECT hash FROM dunning_evidence_tip
             WHERE company_id = %s AND chain_partner_id = %s FOR NO KEY UPDATE
        """, company_id, partner_id))
        tip = self.env.cr.fetchone()[0]
        if tip is None:  # a chain sealed before this table existed (or a new one)
            tip = self.env["dunning.evidence"]._dunning_legacy_tip(company_id, partner_id)
        return tip

    @api.model
    def _dunning_move(self, company_id, partner_id, seal, communication_id):
        self.env.cr.execute(SQL("""
            UPDATE dunning_evidence_tip SET hash = %s, communication_id = %s
             WHERE company_id = %s AND chain_partner_id = %s
        """, seal, communication_id, company_id, partner_id))

    @api.model
    def _dunning_tips(self, company_ids):
        """{(company id, customer id): (seal, communication id)} of these companies' chains."""
        self.env.cr.execute(SQL("""
            SELECT company_id, chain_partner_id, hash, communication_id
              FROM dunning_evidence_tip
             WHERE company_id = ANY(%s) AND hash IS NOT NULL
        """, list(company_ids)))
        return {(row[0], row[1]): (row[2], row[3]) for row in self.env.cr.fetchall()}
