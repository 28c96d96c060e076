"""Where session data lives: in a signed cookie, or server-side with only an id in the cookie.

* :class:`CookieBackend`: the whole session, signed, in the cookie (the default);
* :class:`RedisBackend`: in Redis, for every worker and host;
* :class:`~nightowl.sessions.backends.database.DatabaseSessionBackend`: in the app's
  database (``App(database=..., sessions="database")``), imported on first use.
"""

from __future__ import annotations

from nightowl._lazy import lazy_attributes
from nightowl.sessions.backends._base import (
    COOKIE_SIZE_LIMIT,
    ServerSideBackend,
    SessionBackend,
    SessionJoin,
    SessionTooLarge,
)
from nightowl.sessions.backends.cookie import CookieBackend
from nightowl.sessions.backends.redis import RedisBackend

__all__ = [
    "COOKIE_SIZE_LIMIT",
    "CookieBackend",
    "DatabaseSessionBackend",
    "RedisBackend",
    "ServerSideBackend",
    "SessionBackend",
    "SessionJoin",
    "SessionTooLarge",
]


# Imported on first use: it needs SQLAlchemy and adds the nightowl_session table.
__getattr__ = lazy_attributes(
    __name__, {"DatabaseSessionBackend": "nightowl.sessions.backends.database"}
)
