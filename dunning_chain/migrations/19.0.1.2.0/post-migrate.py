"""19.0.1.2.0: keyed seals. Communications sealed before keep their unkeyed SHA-256 seal
(evidence version 1, still verified as such) and join their chain by the customer's id at the
time; the chain tips are taken from them; the key is created."""
import logging

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    cr.execute("""
        UPDATE dunning_communication
           SET chain_partner_id = partner_id, evidence_version = 1
         WHERE hash IS NOT NULL AND chain_partner_id IS NULL
    """)
    _logger.info("dunning_chain: %s sealed communications kept as evidence version 1",
                 cr.rowcount)
