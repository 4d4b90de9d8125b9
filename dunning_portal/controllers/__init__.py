from . import portal
from . import pay
from . import engagement
