"""The one way a handler's result reaches the client.

After the handler returns: the request's ``after_handler`` hooks, the rendering (through
the response model), the ``before_response`` hooks, then the send. A plain JSON result
with no hooks to run skips the ``Response`` object: :func:`send_json` sends the two ASGI
messages itself. Errors are not sent here: they go to the app's
:meth:`~nightowl._errors.ExceptionHandlers.send`, the one place they become responses.
"""

from __future__ import annotations

from typing import Any

from nightowl._handlers.render import Renderer
from nightowl.requests import Request
from nightowl.responses import Response
from nightowl.types import Scope, Send

__all__ = ["Responder", "send_json"]

_JSON_TYPE = (b"content-type", b"application/json")


async def send_json(scope: Scope, send: Send, status: int, body: bytes) -> None:
    """Send a JSON response of ``body`` (no body for a ``HEAD`` request)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON_TYPE, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


class Responder:
    """Turns one route's results into what is sent, and sends it.

    :meth:`prepare` (hooks and rendering, where errors still become error responses) and
    :meth:`send` are apart for runners that must tell the two kinds of failure apart;
    :meth:`respond` does both. With no hooks to run, a plain JSON result is sent by
    :func:`send_json` without a ``Response`` object.
    """

    __slots__ = ("json_body", "render", "status_code")

    def __init__(self, render: Renderer) -> None:
        self.render = render
        self.json_body = render.json_body
        self.status_code = render.status_code

    async def prepare(
        self, request: Request, result: Any, placeholder: Response | None = None
    ) -> bytes | Response:
        """The JSON body to send, or the response; ``placeholder`` is an injected
        ``Response`` whose status, headers and cookies go onto the real one."""
        if request._after_handler is not None:
            await request.run_after_handler(result)
        if request._before_response is None and placeholder is None:
            body = self.json_body(result)
            if body is not None:
                return body
        response = self.render(result)
        if placeholder is not None:
            _merge(placeholder, response)
        if request._before_response is not None:
            await request.run_before_response(response)
        return response

    async def send(self, request: Request, send: Send, outgoing: bytes | Response) -> None:
        """Send what :meth:`prepare` made."""
        if type(outgoing) is bytes:
            await send_json(request.scope, send, self.status_code, outgoing)
        else:
            await outgoing(request.scope, request.receive, send)  # type: ignore[operator]

    async def respond(self, request: Request, send: Send, result: Any) -> None:
        """Prepare and send the response for ``result``."""
        await self.send(request, send, await self.prepare(request, result))


def _merge(placeholder: Response, response: Response) -> None:
    """Copy headers, cookies and status set on an injected ``Response`` onto the real one."""
    if placeholder.status_code:
        response.status_code = placeholder.status_code
    if placeholder.raw_headers:
        names = {k for k, _ in placeholder.raw_headers if k != b"set-cookie"}
        response.raw_headers = [(k, v) for k, v in response.raw_headers if k not in names]
        response.raw_headers.extend(placeholder.raw_headers)
