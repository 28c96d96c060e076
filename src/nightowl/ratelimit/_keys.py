"""Who a limit counts: the client's address, the user, or the API key."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from nightowl.requests import Request

__all__ = ["KeyFunction", "by_api_key", "by_client", "by_user"]

#: ``key(request)`` -> the string a limit counts by (sync or async).
KeyFunction = Callable[[Request], str | Awaitable[str]]


def by_client(request: Request) -> str:
    """The client's address: behind proxies, the one ``App(trusted_proxies=...)`` found."""
    client = request.client
    return f"client:{client.host if client else 'unknown'}"


def by_user(request: Request) -> str:
    """The signed-in user (what the auth battery's ``current_user`` loaded for this
    request: list that dependency before the limit), else the client's address."""
    user = request.scope.get("user")
    identity = None
    if user is not None:
        identity = getattr(user, "pk", None) or getattr(user, "id", None)
    if identity is None:
        return by_client(request)
    return f"user:{identity}"


def by_api_key(request: Request) -> str:
    """The API key sent in ``X-API-Key`` or as ``Authorization: Bearer``, else the
    client's address. Only a digest of the key is kept in the counter's name."""
    key = request.headers.get("x-api-key")
    if key is None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        key = credentials.strip() if scheme.lower() == "bearer" and credentials else None
    if not key:
        return by_client(request)
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]
