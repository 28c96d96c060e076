"""``fastapi.status``: nightowl's named status codes."""

from nightowl.status import *  # noqa: F403
from nightowl.status import __all__ as __all__
