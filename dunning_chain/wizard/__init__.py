from . import dunning_pause_wizard
