"""The ASGI entry point: the middleware stack, and HTTP and WebSocket dispatch.

Per request this is all that runs before the route's compiled runner: a route-table
lookup, mounts when there are any, and the 405 / slash-redirect / 404 answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nightowl._app.lifespan import Lifespan
from nightowl._errors import RAISE_SERVER_EXCEPTIONS
from nightowl._identity import ConnectionIdentity
from nightowl._logging import printable
from nightowl._shutdown import active, stopping
from nightowl.exceptions import HTTPException, WebSocketDisconnect, WebSocketException
from nightowl.requests import Request
from nightowl.responses import RedirectResponse, problem_response
from nightowl.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from nightowl.websockets import WebSocketConfig

__all__ = ["Serving"]

logger = logging.getLogger("nightowl")


class Serving(Lifespan):
    """Answers ASGI calls: ``http`` through the route table, ``websocket``, ``lifespan``."""

    max_body_size: int
    redirect_slashes: bool
    websocket_config: WebSocketConfig | None
    root_path: str

    def _init_serving(self, identity: ConnectionIdentity) -> None:
        self._identity = identity
        self._middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = []
        self._mounts: list[tuple[str, ASGIApp, str | None]] = []
        self._fallback: ASGIApp | None = None  # mounted at "/": what no route answers
        self._stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Before any middleware: their errors are rendered by this app too (error pages).
        scope["app"] = self
        if scope["type"] != "lifespan":
            send = self._identity.prepare(scope, send)
        if self.root_path:
            _strip_root_path(scope, self.root_path)
        stack = self._stack
        if stack is None:
            stack = self._stack = self._build_stack()
        if not self._middleware and scope["type"] == "http":
            await self._http(scope, receive, send)  # no middleware: skip a layer
        else:
            await stack(scope, receive, send)

    def _build_stack(self) -> ASGIApp:
        app: ASGIApp = self._dispatch
        for middleware, options in reversed(self._middleware):
            app = middleware(app, **options)
        if self._middleware:
            inner = app

            async def guard(scope: Scope, receive: Receive, send: Send) -> None:
                try:
                    await inner(scope, receive, send)
                except Exception as exc:
                    if scope["type"] != "http":
                        raise
                    await self._errors.send(Request(scope, receive), send, exc)

            return guard
        return app

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._handle_lifespan(scope, receive, send)
        else:
            raise RuntimeError(f"nightowl cannot serve ASGI scope type {kind!r}.")

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        table = self._table or self._ensure_compiled()
        path: str = scope["path"]
        if self._mounts and await self._try_mounts(scope, receive, send, path):
            return
        route, params, allowed = table.lookup(scope["method"], path)
        request = Request(scope, receive, params, self.max_body_size)
        if route is not None:
            try:
                raw_path = scope.get("raw_path")
                if raw_path and b"%" in raw_path:
                    _check_percent_encoding(raw_path)
                await route(request, send)
            except Exception as exc:
                await self._errors.send(request, send, exc)
            finally:
                if request._form is not None:
                    await request._form.close()  # uploaded files' temporary storage
            return
        await self._unrouted(scope, receive, send, request, allowed)

    async def _unrouted(
        self, scope: Scope, receive: Receive, send: Send, request: Request, allowed: set[str]
    ) -> None:
        """No route answers: 405 when other methods would, the slash redirect, the
        app mounted at ``/``, or 404."""
        path: str = scope["path"]
        table = self._table or self._ensure_compiled()
        if allowed:
            if "GET" in allowed:
                allowed.add("HEAD")
            error = HTTPException(
                405,
                f"{scope['method']} is not allowed here.",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
            await self._errors.send(request, send, error)
            return
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            # 308 keeps the method and the body, so a POST to /items/ reaches /items.
            if table.lookup(scope["method"], other)[0] is not None:
                query = scope.get("query_string", b"").decode("latin-1")
                target = scope.get("root_path", "") + other + ("?" + query if query else "")
                await RedirectResponse(target, status_code=308)(scope, receive, send)
                return
        if self._fallback is not None:
            await self._fallback(scope, receive, send)
            return
        if self._errors.custom or self._errors.wants_page(request):
            await self._errors.send(request, send, HTTPException(404, _NOT_FOUND_DETAIL))
        elif "request_id" in scope:
            await _send_not_found(scope, send)
        else:
            await _NOT_FOUND(scope, receive, send)

    async def _try_mounts(self, scope: Scope, receive: Receive, send: Send, path: str) -> bool:
        for prefix, app, _ in self._mounts:
            if app is self._fallback:
                continue
            if path == prefix or path.startswith(prefix + "/"):
                child = dict(scope)
                child["root_path"] = scope.get("root_path", "") + prefix
                child["path"] = path[len(prefix) :] or "/"
                if "raw_path" in scope and scope["raw_path"] is not None:
                    child["raw_path"] = scope["raw_path"][len(prefix.encode()) :] or b"/"
                await app(child, receive, send)
                return True
        return False

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        from nightowl.websockets import DEFAULT_CONFIG, WebSocket, WebSocketState, origin_allowed

        scope["app"] = self
        self._ensure_compiled()
        assert self._ws_table is not None
        runner, params, _ = self._ws_table.lookup("WEBSOCKET", scope["path"])
        config = self.websocket_config or DEFAULT_CONFIG
        websocket = WebSocket(scope, receive, send, params, config)
        if runner is None:
            await websocket.close(1008, "Not Found")
            return
        if not origin_allowed(websocket, config):
            await websocket.deny(403, "This origin may not open this WebSocket.")
            return
        try:
            if stopping() is None:
                await runner(websocket)
            else:
                with active():  # the server's shutdown waits for the close
                    await runner(websocket)
        except WebSocketDisconnect:
            if RAISE_SERVER_EXCEPTIONS in scope.get("extensions", ()):
                raise  # the test client raises it when the test leaves the connection
            return  # the client left: nothing went wrong
        except HTTPException as exc:  # from a dependency: 401/403 before accept, 1008 after
            await websocket.refuse(exc)
        except WebSocketException as exc:
            if websocket.application_state is not WebSocketState.DISCONNECTED:
                await websocket.close(exc.code, exc.reason)
        except Exception:
            logger.exception(
                "Unhandled exception in WebSocket handler for %s", printable(scope["path"])
            )
            if (
                websocket.application_state is not WebSocketState.DISCONNECTED
                and websocket.client_state is not WebSocketState.DISCONNECTED
            ):
                await websocket.close(1011, "Internal error")


_NOT_FOUND_DETAIL = "Nothing matches the given URL."
# Shared by every plain 404; responses are never mutated once sent.
_NOT_FOUND = problem_response(404, _NOT_FOUND_DETAIL, title="Not Found")  # no http import


def _strip_root_path(scope: Scope, root_path: str) -> None:
    """``App(root_path=...)``: the scope's ``root_path`` is the app's, and a path that
    still carries it (servers that keep it, such as uvicorn's ``--root-path``) loses it."""
    scope["root_path"] = root_path
    path: str = scope["path"]
    if path == root_path or path.startswith(root_path + "/"):
        scope["path"] = path[len(root_path) :] or "/"
        raw_path = scope.get("raw_path")
        if raw_path:
            scope["raw_path"] = raw_path[len(root_path.encode()) :] or b"/"


def _check_percent_encoding(raw_path: bytes) -> None:
    """A 400 for ``%zz`` escapes or escapes that decode to invalid UTF-8."""
    from urllib.parse import unquote_to_bytes

    hexdigits = b"0123456789abcdefABCDEF"
    for part in raw_path.split(b"%")[1:]:
        if len(part) < 2 or part[0] not in hexdigits or part[1] not in hexdigits:
            raise HTTPException(400, "The URL path has malformed percent-encoding.")
    try:
        unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "The URL path is not valid UTF-8.") from None


async def _send_not_found(scope: Scope, send: Send) -> None:
    """The plain 404 problem naming the request (its id is JSON-safe: see _identity)."""
    body = b'%s,"request_id":"%s"}' % (_NOT_FOUND.body[:-1], scope["request_id"].encode())
    headers = [(b"content-type", b"application/problem+json")]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
