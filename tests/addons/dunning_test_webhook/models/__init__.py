from . import dunning_channel_webhook
