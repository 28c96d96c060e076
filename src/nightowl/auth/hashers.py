"""Password hashing: argon2id for new passwords; older formats verified, then upgraded.

Understood formats (what a Django user table holds, among others):

========================  ===========================================================
``$argon2id$...``         argon2-cffi's own (what nightowl writes)
``argon2$argon2id$...``   Django's ``Argon2PasswordHasher``
``pbkdf2_sha256$...``     Django's default (``pbkdf2_sha1$...`` too)
``bcrypt_sha256$$2b$...`` Django's ``BCryptSHA256PasswordHasher`` (needs ``bcrypt``)
``bcrypt$$2b$...``        Django's ``BCryptPasswordHasher`` (needs ``bcrypt``)
``$2b$...``               a bare bcrypt hash (passlib, fastapi-users; needs ``bcrypt``)
``!...``                  an unusable password: never matches
========================  ===========================================================

Every format but argon2id with the current parameters "needs a rehash": after a
successful login the battery stores a fresh argon2id hash. Passwords over 4 KiB are
refused before any hashing (:class:`PasswordTooLong`), so nobody can make the server
spend seconds on a megabyte of password.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from functools import lru_cache

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "MAX_PASSWORD_BYTES",
    "PasswordHasher",
    "PasswordTooLong",
    "UnknownHashFormat",
    "default_hasher",
    "unusable_password",
]

#: Longer passwords are refused, never hashed.
MAX_PASSWORD_BYTES = 4096
_UNUSABLE_PREFIX = "!"


class PasswordTooLong(ValueError):
    """The password is over :data:`MAX_PASSWORD_BYTES` bytes; it was not hashed."""


class UnknownHashFormat(ValueError):
    """A stored hash in a format nightowl cannot verify (or whose library is missing)."""


def unusable_password() -> str:
    """A value for ``user.password`` that no password matches."""
    return _UNUSABLE_PREFIX + secrets.token_urlsafe(30)


def _encoded(password: str) -> bytes:
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        raise PasswordTooLong(f"Passwords are at most {MAX_PASSWORD_BYTES} bytes long.")
    return data


class PasswordHasher:
    """Hashes new passwords with argon2id and verifies every format in the module docs.

    Args:
        time_cost, memory_cost, parallelism: argon2id's parameters (argon2-cffi's
            defaults: RFC 9106's low-memory profile).
    """

    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
    ) -> None:
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """An argon2id hash of ``password`` (raises :class:`PasswordTooLong`)."""
        return self._argon2.hash(_encoded(password))

    def verify(self, encoded: str, password: str) -> bool:
        """Whether ``password`` matches the stored hash ``encoded``, in any known format.

        Raises :class:`PasswordTooLong` for an over-long password and
        :class:`UnknownHashFormat` for a hash it cannot read.
        """
        raw = _encoded(password)
        if not encoded or encoded.startswith(_UNUSABLE_PREFIX):
            self.verify_dummy(password)  # the same time as a real check
            return False
        algorithm = encoded.split("$", 1)[0]
        if algorithm == "" and encoded.startswith("$argon2"):
            return self._verify_argon2(encoded, raw)
        if algorithm == "argon2":  # Django's: "argon2" + argon2-cffi's own format
            return self._verify_argon2(encoded[len("argon2") :], raw)
        if algorithm in ("pbkdf2_sha256", "pbkdf2_sha1"):
            return _verify_pbkdf2(encoded, raw)
        if algorithm == "bcrypt_sha256":
            return _verify_bcrypt(
                encoded[len("bcrypt_sha256$") :], hashlib.sha256(raw).hexdigest().encode()
            )
        if algorithm == "bcrypt":
            return _verify_bcrypt(encoded[len("bcrypt$") :], raw)
        if encoded.startswith(("$2a$", "$2b$", "$2y$")):
            return _verify_bcrypt(encoded, raw)
        raise UnknownHashFormat(f"Unknown password hash format {algorithm or encoded[:8]!r}.")

    def needs_rehash(self, encoded: str) -> bool:
        """Whether ``encoded`` should be replaced by a fresh argon2id hash."""
        if not encoded.startswith("$argon2id$"):
            return not encoded.startswith(_UNUSABLE_PREFIX)
        try:
            return self._argon2.check_needs_rehash(encoded)
        except InvalidHashError:
            return True

    def verify_dummy(self, password: str) -> None:
        """Spend the time of a real check, for a user that does not exist: an unknown
        name and a wrong password then take the same time (no user enumeration)."""
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_urlsafe(16))
        with contextlib.suppress(VerificationError, InvalidHashError, PasswordTooLong):
            self._argon2.verify(self._dummy, _encoded(password[:MAX_PASSWORD_BYTES]))

    def _verify_argon2(self, encoded: str, raw: bytes) -> bool:
        try:
            return self._argon2.verify(encoded, raw)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError) as exc:
            raise UnknownHashFormat(f"Unreadable argon2 hash: {exc}") from None


def _verify_pbkdf2(encoded: str, raw: bytes) -> bool:
    try:
        algorithm, iterations, salt, expected = encoded.split("$", 3)
        rounds = int(iterations)
    except ValueError:
        raise UnknownHashFormat("Unreadable PBKDF2 hash.") from None
    digest = "sha256" if algorithm == "pbkdf2_sha256" else "sha1"
    computed = hashlib.pbkdf2_hmac(digest, raw, salt.encode("utf-8"), rounds)
    return hmac.compare_digest(base64.b64encode(computed).decode("ascii"), expected)


def _verify_bcrypt(encoded: str, raw: bytes) -> bool:
    try:
        import bcrypt
    except ImportError:
        raise UnknownHashFormat(
            "This password hash is a bcrypt one: pip install 'nightowl[auth]' (it brings bcrypt)."
        ) from None
    try:
        # bcrypt reads 72 bytes at most; newer releases refuse more instead of ignoring it.
        return bool(bcrypt.checkpw(raw[:72], encoded.encode("ascii")))
    except ValueError:
        raise UnknownHashFormat("Unreadable bcrypt hash.") from None


@lru_cache(maxsize=1)
def default_hasher() -> PasswordHasher:
    """The hasher ``user.set_password`` and the battery use unless told otherwise."""
    return PasswordHasher()
