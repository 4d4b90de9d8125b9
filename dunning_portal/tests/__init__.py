from . import test_portal_access
from . import test_portal_actions
from . import test_portal_pay
from . import test_portal_tour
from . import test_portal_plans
