"""Deprecated: moved to :mod:`nightowl.templating.forms`; this alias goes away in the next release."""

from __future__ import annotations

import warnings

from nightowl.templating.forms import *  # noqa: F403
from nightowl.templating.forms import __all__ as __all__

warnings.warn(
    "nightowl.forms moved to nightowl.templating.forms; the old module goes away in the next release.",
    DeprecationWarning,
    stacklevel=2,
)
