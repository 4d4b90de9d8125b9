from . import portal
from . import pay
