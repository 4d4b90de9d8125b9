from . import test_dunning_sms
