"""The whole session in a signed cookie."""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from typing import Any, cast

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

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

    #: How many verified cookie values are remembered (see :meth:`load`).
    remembered = 1024

    def __init__(self, salt: str = "nightowl.session") -> None:
        self.salt = salt
        self._serializer: URLSafeTimedSerializer | None = None
        self._verified: OrderedDict[str, tuple[int, bytes]] = OrderedDict()

    def bind(self, secret_key: str) -> None:
        """Build the signer for ``secret_key``."""
        super().bind(secret_key)
        self._serializer = URLSafeTimedSerializer(
            secret_key,
            salt=self.salt,
            serializer=_JSON,
            signer_kwargs={"digest_method": hashlib.sha256},
        )
        self._verified.clear()

    @property
    def serializer(self) -> URLSafeTimedSerializer:
        """The itsdangerous serializer (raises until :meth:`bind` is called)."""
        if self._serializer is None:
            raise ImproperlyConfigured("The session backend has no secret key yet.")
        return self._serializer

    async def load(self, cookie: str, max_age: int) -> tuple[str | None, dict[str, Any]]:
        """Verify the signature and age; an empty session if either fails.

        A browser sends the same cookie with every request until the session changes, so
        the last verified values are remembered with their signing time: a cookie seen
        before skips the signature check (not the age check), and its data is decoded
        afresh for each request.
        """
        serializer = self.serializer
        try:
            known = self._verified.get(cookie)
            if known is None:
                # A timed serializer's signer is a TimestampSigner.
                signer = cast("TimestampSigner", serializer.make_signer(self.salt))
                payload, signed = signer.unsign(cookie, max_age=max_age, return_timestamp=True)
                known = (int(signed.timestamp()), payload)
                self._remember(cookie, known)
            else:
                age = int(time.time()) - known[0]
                if age > max_age or age < 0:
                    return None, {}
                self._verified.move_to_end(cookie)
            data = serializer.load_payload(known[1])
        except (BadSignature, ValueError, UnicodeDecodeError):
            return None, {}
        return None, data if isinstance(data, dict) else {}

    def _remember(self, cookie: str, known: tuple[int, bytes]) -> None:
        self._verified[cookie] = known
        if len(self._verified) > self.remembered:
            self._verified.popitem(last=False)

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
