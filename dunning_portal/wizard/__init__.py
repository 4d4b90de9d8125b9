from . import dunning_instalment_plan_wizard
