"""The whole session in a signed cookie."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from nightowl.exceptions import ImproperlyConfigured
from nightowl.sessions.backends._base import (
    SessionBackend,
)
from nightowl.sessions.backends._base import (
    dumps as _dumps,
)

__all__ = ["CookieBackend"]


class CookieBackend(SessionBackend):
    """The whole session, signed (not encrypted) in the cookie: nothing to run on the server.

    The data is readable by the user, so keep secrets out of it. It must fit in about
    4 KB; :class:`SessionTooLarge` says so when it does not.
    """

    def __init__(self, salt: str = "nightowl.session") -> None:
        self.salt = salt
        self._serializer: URLSafeTimedSerializer | None = None

    def bind(self, secret_key: str) -> None:
        """Build the signer for ``secret_key``."""
        super().bind(secret_key)
        self._serializer = URLSafeTimedSerializer(
            secret_key,
            salt=self.salt,
            serializer=_JSON,
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    @property
    def serializer(self) -> URLSafeTimedSerializer:
        """The itsdangerous serializer (raises until :meth:`bind` is called)."""
        if self._serializer is None:
            raise ImproperlyConfigured("The session backend has no secret key yet.")
        return self._serializer

    async def load(self, cookie: str, max_age: int) -> tuple[str | None, dict[str, Any]]:
        """Verify the signature and age; an empty session if either fails."""
        try:
            data = self.serializer.loads(cookie, max_age=max_age)
        except (BadSignature, ValueError, UnicodeDecodeError):
            return None, {}
        return None, data if isinstance(data, dict) else {}

    async def save(self, session_id: str | None, data: dict[str, Any], max_age: int) -> str:
        """Sign the data into the cookie value."""
        _dumps(data)  # a clear error for values JSON cannot hold
        value = self.serializer.dumps(data)
        assert isinstance(value, str)
        return value


class _JSON:
    """A compact JSON serializer for itsdangerous."""

    @staticmethod
    def dumps(obj: Any) -> str:
        return _dumps(obj)

    @staticmethod
    def loads(data: str | bytes) -> Any:
        return json.loads(data)
