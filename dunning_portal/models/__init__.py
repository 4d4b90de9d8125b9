from . import account_move
from . import dunning_communication
from . import dunning_instalment_plan
from . import dunning_policy
from . import payment_transaction
from . import res_partner
from . import dunning_portal_link_request
from . import ir_config_parameter
