"""ASGI type aliases shared by every module, and the one "not given" sentinel.

::

    from nightowl.types import ASGIApp, Receive, Scope, Send

    class TimingMiddleware:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

__all__ = ["MISSING", "ASGIApp", "Message", "RawHeaders", "Receive", "Scope", "Send"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: "Not given", where ``None`` is a real value: a parameter without a default, a route
#: without ``response_model=``, a body not parsed yet.
MISSING: Final[Any] = _Missing()
