"""Turning exceptions into responses: user handlers first, then the app's error format
(RFC 9457 problems unless the app chose another, see :mod:`nightowl.problems`)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from nightowl._concurrency import is_async_callable, run_in_threadpool
from nightowl._logging import printable
from nightowl.exceptions import HTTPException, ResponseValidationError
from nightowl.negotiation import prefers_html
from nightowl.problems import DEFAULT_FORMAT, SERVER_ERROR_DETAIL, ErrorFormat
from nightowl.requests import ClientDisconnect, Request
from nightowl.responses import HTMLResponse, Response
from nightowl.types import Send

__all__ = [
    "RAISE_SERVER_EXCEPTIONS",
    "ErrorPageRenderer",
    "ExceptionHandler",
    "ExceptionHandlers",
    "error_page",
]

logger = logging.getLogger("nightowl.error")

ExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]
#: ``renderer(request, exc)`` -> an HTML error page, or ``None`` for the built-in one.
ErrorPageRenderer = Callable[[Request, HTTPException], Response | None]
#: An ASGI scope extension: with it, an exception no handler took is raised again after
#: its 500 is sent, so that a test sees it (``TestClient(raise_server_exceptions=True)``).
RAISE_SERVER_EXCEPTIONS = "nightowl.raise_server_exceptions"
_RAISED = "nightowl.raised"


class ExceptionHandlers:
    """The registry behind ``@app.exception_handler``: by exception class or by status code."""

    def __init__(self, debug: bool = False) -> None:
        self.by_class: dict[type[BaseException], ExceptionHandler] = {}
        self.by_status: dict[int, ExceptionHandler] = {}
        self.debug = debug
        #: Makes the HTML error pages that browsers get; ``None`` sends problems to everyone.
        self.page_renderer: ErrorPageRenderer | None = _no_custom_page
        #: Writes the body of every error response no handler takes.
        self.format: ErrorFormat = DEFAULT_FORMAT

    @property
    def custom(self) -> bool:
        """True once any handler is registered or another error format chosen."""
        return bool(self.by_class or self.by_status) or self.format is not DEFAULT_FORMAT

    def add(self, key: type[BaseException] | int, handler: ExceptionHandler) -> None:
        """Register ``handler`` for an exception class (and its subclasses) or a status code."""
        if isinstance(key, int):
            self.by_status[key] = handler
        else:
            self.by_class[key] = handler

    def _find(self, exc: BaseException) -> ExceptionHandler | None:
        if self.by_status and isinstance(exc, HTTPException):
            handler = self.by_status.get(exc.status_code)
            if handler is not None:
                return handler
        if self.by_class:
            for klass in type(exc).__mro__:
                handler = self.by_class.get(klass)
                if handler is not None:
                    return handler
        return None

    async def response_for(self, request: Request, exc: BaseException) -> Response:
        """The response that answers ``exc``; never raises for an ordinary exception."""
        return (await self._answer(request, exc))[0]

    async def _answer(
        self, request: Request, exc: BaseException
    ) -> tuple[Response, BaseException | None]:
        """The response, and the exception it answers when that is a server error that
        no handler took (the test client raises those in the test)."""
        handler = self._find(exc)
        if handler is not None:
            try:
                if is_async_callable(handler):
                    return await handler(request, exc), None  # type: ignore[misc]
                result: Any = await run_in_threadpool(handler, request, exc)
                return result, None
            except Exception as handler_error:
                if handler_error is not exc:
                    exc = handler_error
        unhandled = not isinstance(exc, (HTTPException, ClientDisconnect))
        return self.default_response(request, exc), exc if unhandled else None

    async def send(self, request: Request, send: Send, exc: BaseException) -> None:
        """Answer ``exc`` (see :meth:`response_for`): the one place where an error of a
        handler, of its runner or of the app itself becomes the response sent.

        When the scope asks for it (:data:`RAISE_SERVER_EXCEPTIONS`, which the test
        client sets), an unhandled exception is raised again once its 500 is sent.
        """
        scope = request.scope
        if scope.get(_RAISED) is exc:
            raise exc  # answered already, by the runner, and raised again for the test
        response, unhandled = await self._answer(request, exc)
        try:
            await response(scope, request.receive, send)
        except RuntimeError:
            # The response had already started when the error happened; nothing more to send.
            logger.debug("Could not send an error response for %r", exc)
        if unhandled is not None and RAISE_SERVER_EXCEPTIONS in scope.get("extensions", ()):
            scope[_RAISED] = unhandled
            raise unhandled

    def wants_page(self, request: Request) -> bool:
        """Whether an error for ``request`` is answered with an HTML page (a browser asks)."""
        return self.page_renderer is not None and prefers_html(request)

    def html_page(self, request: Request, exc: HTTPException) -> Response | None:
        """The HTML error page for a browser, or ``None`` when the client wants a problem."""
        renderer = self.page_renderer
        if renderer is None or not prefers_html(request):
            return None
        response: Response | None = None
        try:
            response = renderer(request, exc)
        except Exception:
            logger.exception("The error page renderer failed for a %s error", exc.status_code)
        if response is None:
            response = error_page(request, exc)
        for key, value in (exc.headers or {}).items():
            response.headers.setdefault(key, value)
        return response

    def default_response(self, request: Request, exc: BaseException) -> Response:
        """The built-in answer: an HTML page for browsers, else a problem for HTTP errors and
        a 500 for everything else."""
        if isinstance(exc, HTTPException):
            page = self.html_page(request, exc)
            if page is not None:
                return page
            return self.format.response(exc)
        if isinstance(exc, ClientDisconnect):
            disconnected = "The client disconnected before sending the whole body."
            return self.format.response(HTTPException(400, disconnected))
        what = "response validation" if isinstance(exc, ResponseValidationError) else "handler"
        logger.error(
            "Unhandled exception in %s for %s %s",
            what,
            printable(request.method),
            printable(request.path),
            exc_info=exc,
        )
        if self.debug:
            if "text/html" in request.headers.get("accept", ""):
                from nightowl._debug import debug_page

                return HTMLResponse(debug_page(request, exc), status_code=500)
            trace = "".join(traceback.format_exception(exc)).splitlines()
            failure = f"{type(exc).__name__}: {exc}"
            return self.format.response(HTTPException(500, failure, extra={"traceback": trace}))
        page = self.html_page(request, HTTPException(500, SERVER_ERROR_DETAIL))
        if page is not None:
            return page
        return self.format.response(HTTPException(500, SERVER_ERROR_DETAIL))


def _no_custom_page(request: Request, exc: HTTPException) -> None:
    """The default renderer: always the built-in page (templating installs one with templates)."""
    return None


_PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}"
    "main{max-width:40rem;margin:10vh auto;padding:0 1.5rem}h1{font-size:1.6rem}"
    "p.status{color:#777;font-size:.9rem;margin:0}a{color:#4b2a86}"
)


def error_page(request: Request, exc: HTTPException) -> Response:
    """The built-in HTML page for an HTTP error: its status, title and detail (no templates)."""
    import html  # here: its entity table is large, and most apps never show this page

    status = exc.status_code
    title = html.escape(exc.title)
    detail = f"<p>{html.escape(exc.detail)}</p>" if exc.detail else ""
    errors = (exc.extra or {}).get("errors")
    if isinstance(errors, list) and errors:
        items = "".join(
            "<li>{}: {}</li>".format(
                html.escape(" → ".join(str(part) for part in error.get("loc", ()))),
                html.escape(str(error.get("msg", ""))),
            )
            for error in errors
            if isinstance(error, dict)
        )
        detail += f"<ul>{items}</ul>"
    home = html.escape(request.scope.get("root_path", "") + "/", quote=True)
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{status} {title}</title><style>{_PAGE_STYLE}</style></head>"
        f'<body><main><p class="status">Error {status}</p><h1>{title}</h1>{detail}'
        f'<p><a href="{home}">Go to the home page</a></p></main></body></html>'
    )
    return HTMLResponse(body, status_code=status)
