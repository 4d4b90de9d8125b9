from . import dunning_level_channel
from . import dunning_policy
from . import res_partner
from . import dunning_communication
from . import dunning_plan
