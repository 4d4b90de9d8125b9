from . import test_dunning_sms
from . import test_dunning_sms_step
