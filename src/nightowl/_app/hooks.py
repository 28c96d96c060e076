"""What users and batteries configure on an app: providers, middleware, mounts, static
files, exception handlers and error pages, CLI commands."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from nightowl._app.serving import Serving
from nightowl._errors import ErrorPageRenderer, ExceptionHandler
from nightowl._handlers.runners import HandlerRunner
from nightowl.exceptions import ImproperlyConfigured
from nightowl.requests import Request
from nightowl.responses import Response
from nightowl.types import ASGIApp

if TYPE_CHECKING:
    from nightowl.staticfiles import StaticFiles

__all__ = ["Hooks"]

F = TypeVar("F", bound=Callable[..., Any])


class Hooks(Serving):
    """The configuration API of an app (its constructor is ``App.__init__``)."""

    commands: list[Any]

    def provide(
        self,
        annotation: Any,
        factory: Callable[..., Any],
        *,
        runner: HandlerRunner | None = None,
    ) -> None:
        """Inject ``factory()``'s value into every parameter annotated ``annotation``.

        ``factory`` is a dependency like any other: it may take parameters, be async,
        or be a generator whose cleanup runs after the response.

        ``runner``, for batteries: the ``async def`` handlers that take this value are
        awaited as ``await runner(handler(...))``, so that they run in a context the
        value needs (the database battery runs them inside SQLAlchemy's greenlet bridge,
        where their queries need no hop of their own).
        """
        self._providers[annotation] = factory
        if runner is not None:
            self._runners[factory] = runner
        self._invalidate()

    def add_middleware(self, middleware: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the app in an ASGI middleware: ``middleware(app, **options)``.

        The middleware added last runs first (it is the outermost layer).
        """
        if self._stack is not None:
            raise ImproperlyConfigured(
                "Middleware cannot be added once the app has started serving."
            )
        self._middleware.insert(0, (middleware, options))

    @property
    def user_middleware(self) -> tuple[tuple[Callable[..., ASGIApp], Mapping[str, Any]], ...]:
        """The middleware added with :meth:`add_middleware` and their options, outermost
        first (read-only; what ``nightowl check --deploy`` inspects)."""
        return tuple((factory, MappingProxyType(options)) for factory, options in self._middleware)

    def mount(self, prefix: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Serve another ASGI app (static files, a sub-application) under ``prefix``.

        At ``"/"`` the app answers what no route does (a single-page app's files), so
        the app's routes, ``/docs`` and other mounts still win.
        """
        if not prefix.startswith("/"):
            raise ImproperlyConfigured(f"A mount prefix must start with '/': {prefix!r}")
        if prefix == "/":
            if self._fallback is not None:
                raise ImproperlyConfigured("Only one app can be mounted at '/'.")
            self._fallback = app
        self._mounts.append((prefix.rstrip("/"), app, name))

    def static(
        self,
        prefix: str,
        directory: str | os.PathLike[str],
        *,
        name: str = "static",
        **options: Any,
    ) -> StaticFiles:
        """Serve the files in ``directory`` under ``prefix``: ``app.static("/static", "static")``.

        Calling it again with the same prefix adds another folder, searched after the
        first (how a battery adds its own ``static/``). ``app.static("/", "dist", html=True)``
        serves a single-page app: its files at ``/``, and ``index.html`` for the client-side
        routes, while the app's own routes and ``/docs`` still answer first. ``options`` go to
        :class:`nightowl.staticfiles.StaticFiles`; ``url_path_for(name, path=...)`` builds URLs.
        Returns the :class:`~nightowl.staticfiles.StaticFiles` app.
        """
        from nightowl.staticfiles import StaticFiles

        for mounted_prefix, mounted, _ in self._mounts:
            if mounted_prefix == prefix.rstrip("/") and isinstance(mounted, StaticFiles):
                mounted.add_directory(directory)
                return mounted
        if prefix == "/" and options.get("html"):
            options.setdefault("fallback", "index.html")  # a single-page app's client routes
        files = StaticFiles(directory, **options)
        self.mount(prefix, files, name=name)
        return files

    def exception_handler(self, key: type[BaseException] | int) -> Callable[[F], F]:
        """Render an exception class (or an HTTP status) yourself::

        @app.exception_handler(PaymentRequired)
        async def payment_required(request, exc):
            return JSONResponse({"error": "pay up"}, status_code=402)
        """

        def decorator(handler: F) -> F:
            self.add_exception_handler(key, handler)
            return handler

        return decorator

    def add_exception_handler(
        self, key: type[BaseException] | int, handler: ExceptionHandler
    ) -> None:
        """Register ``handler(request, exc)`` for ``key``, an exception class or a status code."""
        self._errors.add(key, handler)

    def middleware(self, kind: str) -> Callable[[F], F]:
        """Add a function as middleware: ``@app.middleware("http")`` over
        ``async def f(request, call_next) -> Response`` (see
        :mod:`nightowl.middleware.functions`)."""
        if kind != "http":
            raise ImproperlyConfigured(f'app.middleware() takes "http" only, not {kind!r}.')

        def decorator(func: F) -> F:
            from nightowl.middleware.functions import FunctionMiddleware

            self.add_middleware(FunctionMiddleware, dispatch=func)
            return func

        return decorator

    @property
    def error_page_renderer(self) -> ErrorPageRenderer | None:
        """Makes the HTML error pages that browsers get (clients preferring ``text/html``).

        ``renderer(request, exc)`` receives an :class:`~nightowl.exceptions.HTTPException`
        (a 500 one for unhandled errors) and returns a response, or ``None`` for the
        built-in page. ``App(templates=...)`` installs one rendering ``404.html``,
        ``500.html``... from the templates. Set it to ``None`` to answer every client with
        ``application/problem+json``. Handlers from :meth:`exception_handler` come first;
        in debug mode, unhandled errors show the debug page instead.
        """
        return self._errors.page_renderer

    @error_page_renderer.setter
    def error_page_renderer(self, renderer: ErrorPageRenderer | None) -> None:
        self._errors.page_renderer = renderer

    async def error_response(self, request: Request, exc: Exception) -> Response:
        """The response the app answers ``exc`` with: a registered handler's, else an HTML
        page for browsers or a problem (for mounted apps, such as static files' 404)."""
        return await self._errors.response_for(request, exc)

    def add_command(self, command: Any) -> None:
        """Add a click command to the ``nightowl`` CLI when it loads this app."""
        self.commands.append(command)
