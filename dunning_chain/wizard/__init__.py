from . import dunning_pause_wizard
from . import dunning_preview_wizard
