from . import test_dunning_chain
from . import test_dunning_bad_input
from . import test_dunning_security
from . import test_dunning_send_window
from . import test_dunning_backend_ui
from . import test_dunning_record
from . import test_dunning_withdraw
