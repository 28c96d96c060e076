"""Password-reset tokens: signed, expiring, and single-use without a table.

A token is ``<timestamp>-<signature>``; the signature is an HMAC (with the app's secret
key) of the user's id, their password hash, their last login and the timestamp. Once
the password changes (the reset itself) or the user logs in, the signature no longer
matches: a token works once. After ``max_age`` seconds it has expired.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nightowl.auth.models import AbstractUser

__all__ = ["PasswordResetTokens"]

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _to_base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = _BASE36[digit] + digits
        if not number:
            return digits


class PasswordResetTokens:
    """Makes and checks password-reset tokens.

    Args:
        secret_key: the app's secret key.
        max_age: seconds a token stays valid (one hour by default).
    """

    def __init__(self, secret_key: str, *, max_age: int = 3600) -> None:
        self._key = secret_key.encode("utf-8")
        self.max_age = max_age

    def make(self, user: AbstractUser, *, now: float | None = None) -> str:
        """A token for ``user``."""
        timestamp = int(time.time() if now is None else now)
        return f"{_to_base36(timestamp)}-{self._signature(user, timestamp)}"

    def check(self, user: AbstractUser, token: str, *, now: float | None = None) -> bool:
        """Whether ``token`` is ``user``'s, unused and not expired."""
        stamp, _, signature = token.partition("-")
        if not stamp or not signature or len(stamp) > 13:
            return False
        try:
            timestamp = int(stamp, 36)
        except ValueError:
            return False
        if not hmac.compare_digest(signature, self._signature(user, timestamp)):
            return False
        age = (time.time() if now is None else now) - timestamp
        return 0 <= age <= self.max_age

    def _signature(self, user: AbstractUser, timestamp: int) -> str:
        last_login = user.last_login.replace(microsecond=0, tzinfo=None) if user.last_login else ""
        message = f"nightowl.auth.reset:{user.id}:{user.password}:{last_login}:{timestamp}"
        return hmac.new(self._key, message.encode("utf-8"), hashlib.sha256).hexdigest()[:40]
