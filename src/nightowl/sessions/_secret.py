"""Finding the app's SECRET_KEY, and what to do without one."""

from __future__ import annotations

import logging
import os
import secrets
from typing import TYPE_CHECKING

from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = ["secret_key_for"]

logger = logging.getLogger("nightowl")

_MISSING = (
    "No SECRET_KEY is set, and sessions, CSRF tokens and flash messages are signed with it. "
    "Add a line SECRET_KEY=... to the .env file next to your app (keep it out of version "
    "control), set the SECRET_KEY environment variable, or pass App(secret_key=...), with a "
    'long random string (python -c "import secrets; print(secrets.token_urlsafe(48))"). '
    "In debug mode a temporary key is generated instead."
)


def secret_key_for(app: App) -> str:
    """The key that signs the app's cookies.

    Looked up in ``App(secret_key=...)``, then ``app.settings.SECRET_KEY`` (or
    ``secret_key``), then the ``NIGHTOWL_SECRET_KEY`` and ``SECRET_KEY`` variables of
    the environment or the app's ``.env``. Without one, debug mode makes up a temporary key (sessions end when the
    process does) and logs a warning; otherwise :class:`ImproperlyConfigured` is raised.
    """
    key = app.config.get("secret_key")
    for attribute in ("SECRET_KEY", "secret_key"):
        if not key and app.settings is not None:
            key = getattr(app.settings, attribute, None)
    if key is not None and hasattr(key, "get_secret_value"):  # pydantic SecretStr
        key = key.get_secret_value()
    env = getattr(app, "env", os.environ)  # the environment, then the app's .env
    key = key or env.get("NIGHTOWL_SECRET_KEY") or env.get("SECRET_KEY")
    if key:
        return str(key)
    if app.debug:
        temporary = app.config.get("_temporary_secret_key")
        if temporary is None:
            temporary = app.config["_temporary_secret_key"] = secrets.token_urlsafe(48)
            logger.warning(
                "No SECRET_KEY is set: using a temporary one for this debug run. "
                "Sessions will not survive a restart. Set SECRET_KEY before deploying."
            )
        return str(temporary)
    raise ImproperlyConfigured(_MISSING)
