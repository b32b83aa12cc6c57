from .change_requests import *  # noqa: F401,F403
from .decisions import *  # noqa: F401,F403
from .policies import *  # noqa: F401,F403
from .pushes import *  # noqa: F401,F403
