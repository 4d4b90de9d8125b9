from . import dunning_pause_wizard
from . import dunning_preview_wizard
from . import dunning_dispute_wizard
from . import dunning_charge_waive_wizard
from . import dunning_call_outcome
from . import dunning_certified_wizard
from . import dunning_evidence_bundle
