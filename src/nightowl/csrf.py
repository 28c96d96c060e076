"""Deprecated: moved to :mod:`nightowl.sessions.csrf`; this alias goes away in the next release."""

from __future__ import annotations

import warnings

from nightowl.sessions.csrf import *  # noqa: F403
from nightowl.sessions.csrf import __all__ as __all__

warnings.warn(
    "nightowl.csrf moved to nightowl.sessions.csrf; the old module goes away in the next release.",
    DeprecationWarning,
    stacklevel=2,
)
