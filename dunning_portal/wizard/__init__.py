from . import dunning_instalment_plan_wizard
from . import dunning_call_outcome
