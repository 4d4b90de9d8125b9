from . import test_portal_access
from . import test_portal_actions
from . import test_portal_pay
from . import test_portal_tour
from . import test_portal_plans
from . import test_portal_trust
from . import test_portal_input
from . import test_portal_withdraw
