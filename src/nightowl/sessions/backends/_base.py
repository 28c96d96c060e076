"""What every session backend is: the interface, and the base of server-side ones."""

from __future__ import annotations

import hashlib
import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, Signer

from nightowl.exceptions import ImproperlyConfigured

__all__ = [
    "COOKIE_SIZE_LIMIT",
    "ServerSideBackend",
    "SessionBackend",
    "SessionJoin",
    "SessionTooLarge",
    "dumps",
]

#: What :meth:`SessionBackend.load_joined` gives: the id, the data, the joined rows.
Loaded = tuple[str | None, dict[str, Any], dict[str, tuple[Any, Any]]]

#: Browsers drop a cookie whose name, value and attributes exceed 4096 bytes.
COOKIE_SIZE_LIMIT = 4096


class SessionTooLarge(Exception):
    """The session no longer fits in a cookie."""


def dumps(data: dict[str, Any]) -> str:
    try:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Session values must be JSON-serialisable: {exc}") from None


@dataclass(frozen=True, slots=True)
class SessionJoin:
    """A row to read in the same query as the session: the row of ``table`` whose
    ``column`` equals the session's value under ``key`` (a battery's way to load, say,
    the logged-in user with the session, in one round trip).

    ``request.session.joined[name]`` is then ``(value, row)``: the value the key had
    when the session was read, and ``columns`` of the matching row as a tuple (``None``
    when no row matched). Backends that cannot join (cookie, Redis) leave it out.

    Attributes:
        name: where the row goes in ``request.session.joined``.
        key: the session key holding the id (its value is a string).
        table: the table (a SQLAlchemy ``FromClause``) to read from.
        column: the column of ``table`` the id is compared with (its type is the
            one the key's value is cast to).
        columns: the columns read.
    """

    name: str
    key: str
    table: Any
    column: Any
    columns: Sequence[Any]


class SessionBackend(ABC):
    """Stores session data and turns it into the value of the session cookie.

    ``load`` must never raise for a bad cookie: tampered, expired or unknown cookies
    give ``(None, {})``, an empty session.
    """

    secret_key: str = ""

    def bind(self, secret_key: str) -> None:
        """Receive the app's secret key (called once, before the first request)."""
        self.secret_key = secret_key

    @abstractmethod
    async def load(self, cookie: str, max_age: int) -> tuple[str | None, dict[str, Any]]:
        """The session id and data a cookie value stands for."""

    @abstractmethod
    async def save(self, session_id: str | None, data: dict[str, Any], max_age: int) -> str:
        """Store ``data`` (under ``session_id``, or a new id if ``None``); return the cookie value."""

    async def load_joined(self, cookie: str, max_age: int) -> Loaded:
        """:meth:`load`, plus the rows of the joins asked for with :meth:`join` (none here:
        only backends that can join override it)."""
        session_id, data = await self.load(cookie, max_age)
        return session_id, data, {}

    def join(self, join: SessionJoin) -> bool:
        """Read ``join``'s row with every session, when the backend can (the database
        backend); ``False`` when it cannot, and the caller reads the row itself."""
        return False

    async def delete(self, session_id: str | None) -> None:  # noqa: B027 - optional hook
        """Forget the session ``session_id`` (a no-op when the data lives in the cookie)."""

    async def check(self) -> None:  # noqa: B027 - optional hook
        """Warn about what the backend misses (a table...); called when the app starts."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (called at shutdown)."""


class ServerSideBackend(SessionBackend):
    """The base of backends that keep the data on the server and a signed random id in
    the cookie (:class:`RedisBackend`, the database's ``DatabaseSessionBackend``).

    Subclasses implement :meth:`load`, :meth:`save` and :meth:`delete` with the helpers
    below: :meth:`unsign_id` turns the cookie into an id (``None`` if tampered),
    :meth:`new_id` makes one, :meth:`sign_id` makes the cookie value, and
    :meth:`encode`/:meth:`decode` turn the data into JSON text and back.
    """

    _signer: Signer | None = None

    def bind(self, secret_key: str) -> None:
        """Build the id signer for ``secret_key``."""
        super().bind(secret_key)
        self._signer = Signer(secret_key, salt="nightowl.session-id", digest_method=hashlib.sha256)

    def _require_signer(self) -> Signer:
        if self._signer is None:
            raise ImproperlyConfigured("The session backend has no secret key yet.")
        return self._signer

    @staticmethod
    def new_id() -> str:
        """A new random session id (256 bits)."""
        return secrets.token_urlsafe(32)

    def sign_id(self, session_id: str) -> str:
        """The cookie value for ``session_id``."""
        return self._require_signer().sign(session_id).decode("ascii")

    def unsign_id(self, cookie: str) -> str | None:
        """The session id in ``cookie``, or ``None`` when its signature does not match."""
        try:
            return self._require_signer().unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    @staticmethod
    def encode(data: dict[str, Any]) -> str:
        """``data`` as compact JSON text (a clear ``TypeError`` for values JSON cannot hold)."""
        return dumps(data)

    @staticmethod
    def decode(raw: str | bytes) -> dict[str, Any] | None:
        """The data stored as ``raw``, or ``None`` when it is not a JSON object."""
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
