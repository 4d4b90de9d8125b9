from . import dunning_jobs
