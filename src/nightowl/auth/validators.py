"""Password validators: run when a password is set through the battery's views, its
CLI commands and ``auth.set_password()``.

::

    validate_password("12345678")     # PasswordValidationError: too common; entirely numeric

Each validator is a callable ``(password, user) -> list of messages`` (empty when the
password is fine), so a project adds its own as plain functions:
``Auth(app, password_validators=[*DEFAULT_VALIDATORS, no_company_name])``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from difflib import SequenceMatcher
from typing import Any

from nightowl.auth.hashers import MAX_PASSWORD_BYTES

__all__ = [
    "COMMON_PASSWORDS",
    "DEFAULT_VALIDATORS",
    "CommonPasswordValidator",
    "MaximumLengthValidator",
    "MinimumLengthValidator",
    "NumericPasswordValidator",
    "PasswordValidationError",
    "PasswordValidator",
    "UserAttributeSimilarityValidator",
    "validate_password",
]

PasswordValidator = Callable[[str, Any], list[str]]

#: A short list of passwords people pick most often (a project may pass a longer one).
COMMON_PASSWORDS = frozenset(
    [
        "123456",
        "123456789",
        "12345678",
        "password",
        "qwerty123",
        "qwerty",
        "111111",
        "12345",
        "1234567890",
        "1234567",
        "123123",
        "000000",
        "abc123",
        "password1",
        "iloveyou",
        "1q2w3e4r",
        "qwertyuiop",
        "123321",
        "654321",
        "666666",
        "987654321",
        "555555",
        "7777777",
        "1qaz2wsx",
        "dragon",
        "monkey",
        "letmein",
        "football",
        "baseball",
        "welcome",
        "sunshine",
        "princess",
        "admin",
        "admin123",
        "login",
        "master",
        "hello",
        "shadow",
        "superman",
        "michael",
        "trustno1",
        "passw0rd",
        "password123",
        "changeme",
        "secret",
        "starwars",
        "whatever",
        "freedom",
        "charlie",
        "qazwsx",
        "zaq12wsx",
        "azerty",
        "solo",
        "ninja",
        "mustang",
        "access",
        "flower",
        "hottie",
        "loveme",
        "batman",
        "aa123456",
        "abcdef123",
        "password12",
        "qwerty12",
        "letmein1",
        "welcome1",
        "iloveyou1",
        "football1",
        "monkey1",
        "dragon1",
        "master1",
        "computer",
        "internet",
        "nightowl",
    ]
)


class PasswordValidationError(ValueError):
    """The password was refused; ``messages`` says why, one sentence each."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = list(messages)


class MinimumLengthValidator:
    """At least ``min_length`` characters (8 by default)."""

    def __init__(self, min_length: int = 8) -> None:
        self.min_length = min_length

    def __call__(self, password: str, user: Any = None) -> list[str]:
        """The messages for ``password``."""
        if len(password) < self.min_length:
            return [f"This password is too short: use at least {self.min_length} characters."]
        return []


class MaximumLengthValidator:
    """At most 4 KiB: longer passwords are refused before hashing."""

    def __call__(self, password: str, user: Any = None) -> list[str]:
        """The messages for ``password``."""
        if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
            return [f"This password is too long: use at most {MAX_PASSWORD_BYTES} bytes."]
        return []


class CommonPasswordValidator:
    """Not one of the passwords people pick most (:data:`COMMON_PASSWORDS`, or yours)."""

    def __init__(self, passwords: Iterable[str] = COMMON_PASSWORDS) -> None:
        self.passwords = frozenset(p.strip().lower() for p in passwords)

    def __call__(self, password: str, user: Any = None) -> list[str]:
        """The messages for ``password``."""
        if password.strip().lower() in self.passwords:
            return ["This password is too common."]
        return []


class NumericPasswordValidator:
    """Not digits only."""

    def __call__(self, password: str, user: Any = None) -> list[str]:
        """The messages for ``password``."""
        if password.isdigit():
            return ["This password is entirely numeric."]
        return []


class UserAttributeSimilarityValidator:
    """Not too close to the user's name or email (compared piece by piece).

    Args:
        attributes: the user's attributes to compare with.
        max_similarity: refuse from this similarity ratio on (0.7, as Django does).
    """

    def __init__(
        self,
        attributes: Sequence[str] = ("username", "email", "first_name", "last_name"),
        max_similarity: float = 0.7,
    ) -> None:
        self.attributes = tuple(attributes)
        self.max_similarity = max_similarity

    def __call__(self, password: str, user: Any = None) -> list[str]:
        """The messages for ``password``."""
        if user is None:
            return []
        lowered = password.lower()
        for attribute in self.attributes:
            value = (
                getattr(user, attribute, None)
                if not isinstance(user, dict)
                else user.get(attribute)
            )
            if not value or not isinstance(value, str):
                continue
            parts = [value.lower(), *re.split(r"\W+", value.lower())]
            for part in filter(None, parts):
                if len(part) < 3:
                    continue
                ratio = SequenceMatcher(a=lowered, b=part).quick_ratio()
                if ratio >= self.max_similarity:
                    label = attribute.replace("_", " ")
                    return [f"This password is too similar to the {label}."]
        return []


DEFAULT_VALIDATORS: tuple[PasswordValidator, ...] = (
    MaximumLengthValidator(),
    UserAttributeSimilarityValidator(),
    MinimumLengthValidator(),
    CommonPasswordValidator(),
    NumericPasswordValidator(),
)


def validate_password(
    password: str,
    user: Any = None,
    validators: Iterable[PasswordValidator] = DEFAULT_VALIDATORS,
) -> None:
    """Raise :class:`PasswordValidationError` with every reason ``password`` is refused.

    Args:
        password: the new password.
        user: the user (or a dict of their fields) it is for, so that it can be compared
            with their name and email.
        validators: the checks to run (:data:`DEFAULT_VALIDATORS`).
    """
    messages = [message for validator in validators for message in validator(password, user)]
    if messages:
        raise PasswordValidationError(messages)
