from . import test_dunning_queue_job
