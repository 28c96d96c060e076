"""The application: a router plus configuration, providers, middleware, lifespan and errors.

``App`` is put together from the parts in :mod:`nightowl._app` (compiling, lifespan,
serving, configuration hooks); this module holds its constructor and ``run``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nightowl._app.hooks import Hooks
from nightowl._app.lifespan import LifespanFactory
from nightowl._env import Environment, caller_folder, folder_options, options_from_env
from nightowl._errors import ExceptionHandlers
from nightowl._handlers.runners import HandlerRunner
from nightowl._identity import ConnectionIdentity
from nightowl.datastructures import State
from nightowl.exceptions import HTTPException, ImproperlyConfigured
from nightowl.params import Depends
from nightowl.problems import ErrorFormat
from nightowl.requests import DEFAULT_MAX_BODY_SIZE
from nightowl.types import MISSING
from nightowl.requests import DEFAULT_MAX_BODY_SIZE, Request
from nightowl.responses import RedirectResponse, Response, problem_response
from nightowl.routing import Router, WebSocketRoute
from nightowl.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from nightowl.staticfiles import StaticFiles
    from nightowl.websockets import WebSocketConfig

__all__ = ["App"]

#: What ``App(lifespan=...)`` takes: called with the app, entered around its life.
Lifespan = LifespanFactory


class App(Hooks):
    """A nightowl application: an ASGI app you decorate with routes.

    ::

        app = App()

        @app.get("/")
        def hello():
            return {"message": "hello world"}

    Args:
        debug: show tracebacks in error responses and reload the dev server on changes
            (by default ``DEBUG`` from the environment or ``.env``, else off).
        title, version, description, servers: what the OpenAPI document says about the API.
        summary, contact, license_info, terms_of_service: more of the document's ``info``
            (``contact={"name": ..., "email": ...}``, ``license_info={"name": "MIT"}``).
        openapi_tags: the tags, in order, with descriptions:
            ``[{"name": "items", "description": "..."}]``.
        openapi_url, docs_url, redoc_url: where the OpenAPI document, Swagger UI and ReDoc
            are served; ``None`` turns one off (no document, no UIs).
        lifespan: an async context manager factory run around the app's life;
            a mapping it yields becomes ``request.state`` of every request.
        dependencies: run before every handler.
        max_body_size: the largest JSON or form body accepted, in bytes (16 MiB).
        max_upload_size: the largest single uploaded file, in bytes (``None``: no limit).
        max_field_size: the largest value of one form field that is not a file (1 MiB).
        redirect_slashes: redirect ``GET /x/`` to ``/x`` (and back) when only the other exists.
        settings: any settings object; ``app.settings``, and injectable by its type.
        trusted_proxies: addresses and networks of the reverse proxies in front of the
            app; from them, ``Forwarded``/``X-Forwarded-For`` set ``request.client``
            (and ``X-Forwarded-Proto`` the scheme). See docs/production.md.
        request_id_header: the header carrying the request id, kept when well-formed
            and echoed in the response (``None``: no request ids).
        env_file: the ``.env`` file read after the environment (by default ``.env`` in
            the folder of the file creating the app; ``None`` reads none). ``app.env``
            gives both: arguments win, then the environment, then ``.env``.
        error_format: how error responses are written (see :attr:`error_format`).
        websocket_config: the origins allowed to open WebSockets, message size limit,
            idle timeout... (a :class:`nightowl.websockets.WebSocketConfig`).
        **config: options of batteries, such as ``database="sqlite:///app.db"`` or
            ``templates="templates"``. Each is kept in ``app.config`` and handed to the
            battery that declares it (see :func:`nightowl.app.battery_options`). Those not
            given are read from the environment or ``.env``: ``SECRET_KEY`` for
            ``secret_key``, ``NIGHTOWL_<OPTION>`` for the others (``NIGHTOWL_SESSIONS``).
            The ``templates/`` folder ``render()`` reads by default (next to the main
            script, else in the working directory), when it exists, is ``templates``.
    """

    def __init__(
        self,
        *,
        debug: bool | None = None,
        title: str = "nightowl",
        version: str = "0.1.0",
        description: str = "",
        servers: Sequence[Mapping[str, Any]] = (),
        lifespan: LifespanFactory | None = None,
        dependencies: Sequence[Depends] = (),
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_upload_size: int | None = None,
        max_field_size: int = 1024 * 1024,
        redirect_slashes: bool = True,
        settings: Any = None,
        trusted_proxies: Sequence[str] = (),
        request_id_header: str | None = "X-Request-ID",
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        env_file: str | os.PathLike[str] | None = MISSING,
        summary: str | None = None,
        openapi_tags: Sequence[Mapping[str, Any]] | None = None,
        contact: Mapping[str, Any] | None = None,
        license_info: Mapping[str, Any] | None = None,
        terms_of_service: str | None = None,
        error_format: ErrorFormat | Callable[[HTTPException], Any] | None = None,
        websocket_config: WebSocketConfig | None = None,
        **config: Any,
    ) -> None:
        super().__init__(dependencies=dependencies)
        #: The environment over the ``.env`` file: ``app.env.get("DATABASE_URL")``.
        self.env = Environment(caller_folder() / ".env" if env_file is MISSING else env_file)
        if debug is None:
            debug = self.env.flag("DEBUG")
        config = folder_options(options_from_env(self.env, config, battery_options))
        self._errors = ExceptionHandlers(debug)
        self.title = title
        self.version = version
        self.description = description
        self.servers = list(servers)
        self.summary = summary
        self.openapi_tags = [dict(tag) for tag in openapi_tags or ()]
        self.contact = dict(contact) if contact else None
        self.license_info = dict(license_info) if license_info else None
        self.terms_of_service = terms_of_service
        self.max_body_size = max_body_size
        self.max_upload_size = max_upload_size
        self.max_field_size = max_field_size
        self.redirect_slashes = redirect_slashes
        self.settings = settings
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.websocket_config = websocket_config
        self._openapi: dict[str, Any] | None = None
        self.config: dict[str, Any] = dict(config)
        self.state = State()
        #: Swap a dependency for another in tests: ``app.dependency_overrides[real] = fake``.
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        #: Click commands added by batteries and users, shown by the ``nightowl`` CLI.
        self.commands: list[Any] = []
        self._providers: dict[Any, Callable[..., Any]] = {}
        self._runners: dict[Callable[..., Any], HandlerRunner] = {}
        self._init_compiling()
        if error_format is not None:
            self.error_format = error_format
        self._init_lifespan(lifespan)
        self._init_serving(ConnectionIdentity(request_id_header, trusted_proxies))
        if settings is not None:
            self.provide(type(settings), lambda: settings)
        if config:
            installers = battery_options()
            for key, value in config.items():
                installer = installers.get(key)
                if installer is None:
                    known = ", ".join(sorted(installers)) or "none installed"
                    raise ImproperlyConfigured(
                        f"App() got an unknown option {key!r} (battery options: {known})."
                    )
                installer.load()(self, value)

    @property
    def debug(self) -> bool:
        """Debug mode: tracebacks in error responses, reloading dev server."""
        return self._errors.debug

    @debug.setter
    def debug(self, value: bool) -> None:
        self._errors.debug = value

    # -- configuration hooks ------------------------------------------------------------------
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

    def mount(self, prefix: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Serve another ASGI app (static files, a sub-application) under ``prefix``."""
        if not prefix.startswith("/") or prefix == "/":
            raise ImproperlyConfigured(
                f"A mount prefix must start with '/' and not be '/': {prefix!r}"
            )
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
        first (how a battery adds its own ``static/``). ``options`` go to
        :class:`nightowl.staticfiles.StaticFiles`; ``url_path_for(name, path=...)`` builds URLs.
        Returns the :class:`~nightowl.staticfiles.StaticFiles` app.
        """
        from nightowl.staticfiles import StaticFiles

        for mounted_prefix, mounted, _ in self._mounts:
            if mounted_prefix == prefix.rstrip("/") and isinstance(mounted, StaticFiles):
                mounted.add_directory(directory)
                return mounted
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

    def on_startup(self, func: F) -> F:
        """Run ``func`` (sync or async) when the server starts, before the first request."""
        self._startup.append(func)
        return func

    def on_shutdown(self, func: F) -> F:
        """Run ``func`` (sync or async) when the server stops."""
        self._shutdown.append(func)
        return func

    def add_command(self, command: Any) -> None:
        """Add a click command to the ``nightowl`` CLI when it loads this app."""
        self.commands.append(command)

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route named ``name``, with ``params`` filled in."""
        self._ensure_compiled()
        template = self._names.get(name)
        if template is None:
            raise KeyError(f"No route named {name!r}.")
        return template.expand(params)

    # -- compiling ----------------------------------------------------------------------------
    def openapi(self) -> dict[str, Any]:
        """The app's OpenAPI 3.1 document, built on first use and cached."""
        if self._openapi is None:
            from nightowl.openapi import build_document

            self._openapi = build_document(self)
        return self._openapi

    def _invalidate(self) -> None:
        self._openapi = None
        self._table = None
        self._ws_table = None

    def _ensure_compiled(self) -> RouteTable[Runner]:
        if self._table is None:
            self._compile()
        assert self._table is not None
        return self._table

    def compiled_routes(self) -> Sequence[CompiledRoute]:
        """Every HTTP route as compiled for serving: its analysed handler, plan, response
        model and renderer (compiling the app first if need be).

        The OpenAPI document is built from these, so that it describes exactly what is
        served and no handler is analysed twice. The items' type is internal.
        """
        self._ensure_compiled()
        return self._compiled

    def _compile(self) -> None:
        table: RouteTable[Runner] = RouteTable()
        ws_table: RouteTable[WebSocketRunner] = RouteTable()
        compiled: list[CompiledRoute] = []
        names: dict[str, PathTemplate] = {}
        compiler = Compiler(self._providers, self.dependency_overrides, self._errors, self._runners)
        from nightowl.openapi import docs_routes

        for route in [*self.iter_routes(), *docs_routes(self)]:
            names.setdefault(route.name, route.template)
            if isinstance(route, WebSocketRoute):
                ws_table.add(route.template, ["WEBSOCKET"], compiler.websocket(route))
                continue
            item = compiler.route(route)
            compiled.append(item)
            table.add(route.template, route.methods, item.runner)
        for item in compiled:
            methods = item.route.methods
            if "GET" in methods and "HEAD" not in methods:
                table.add(item.route.template, ["HEAD"], item.runner, implicit=True)
        for prefix, _, name in self._mounts:
            if name:
                names.setdefault(name, PathTemplate(prefix + "/{path:path}"))
        self._names = names
        self._ws_table = ws_table
        self._compiled = compiled
        self._table = table

    @property
    def providers(self) -> Mapping[Any, Callable[..., Any]]:
        """Types injected by annotation alone (see :meth:`provide`)."""
        return self._providers

    # -- serving ------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Before any middleware: their errors are rendered by this app too (error pages).
        scope["app"] = self
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
            if request._form is not None:
                await request._form.close()  # uploaded files' temporary storage
            return
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
        if self.redirect_slashes and scope["method"] in ("GET", "HEAD") and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if table.lookup("GET", other)[0] is not None:
                query = scope.get("query_string", b"").decode("latin-1")
                target = scope.get("root_path", "") + other + ("?" + query if query else "")
                await RedirectResponse(target, status_code=308)(scope, receive, send)
                return
        if self._errors.custom or self._errors.wants_page(request):
            await self._errors.send(request, send, HTTPException(404, _NOT_FOUND_DETAIL))
        else:
            await _NOT_FOUND(scope, receive, send)

    async def _try_mounts(self, scope: Scope, receive: Receive, send: Send, path: str) -> bool:
        for prefix, app, _ in self._mounts:
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
            await runner(websocket)
        except WebSocketDisconnect:
            return  # the client left: nothing went wrong
        except HTTPException as exc:  # from a dependency: 401/403 before accept, 1008 after
            await websocket.refuse(exc)
        except Exception:
            logger.exception("Unhandled exception in WebSocket handler for %s", scope["path"])
            if (
                websocket.application_state is not WebSocketState.DISCONNECTED
                and websocket.client_state is not WebSocketState.DISCONNECTED
            ):
                await websocket.close(1011, "Internal error")

    # -- lifespan -----------------------------------------------------------------------------
    async def startup(self) -> None:
        """Compile the routes, run startup hooks and enter the lifespan context."""
        self._ensure_compiled()
        for func in self._startup:
            await _call(func)
        if self._lifespan is not None:
            self._lifespan_stack = contextlib.AsyncExitStack()
            state = await self._lifespan_stack.enter_async_context(self._lifespan(self))
            if state:
                for key, value in state.items():
                    setattr(self.state, key, value)

    async def shutdown(self) -> None:
        """Leave the lifespan context and run shutdown hooks."""
        if self._lifespan_stack is not None:
            stack, self._lifespan_stack = self._lifespan_stack, None
            await stack.aclose()
        for func in self._shutdown:
            await _call(func)

    async def _handle_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            await self.startup()
            if self._lifespan is not None and "state" in scope:
                scope["state"].update(self.state._state)
        except BaseException as exc:
            logger.exception("Application startup failed")
            await send(
                {"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"}
            )
            raise
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        try:
            await self.shutdown()
        except BaseException as exc:
            logger.exception("Application shutdown failed")
            await send(
                {"type": "lifespan.shutdown.failed", "message": f"{type(exc).__name__}: {exc}"}
            )
            raise
        await send({"type": "lifespan.shutdown.complete"})

    # -- running ------------------------------------------------------------------------------
    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        debug: bool | None = None,
        reload: bool | None = None,
        **server_options: Any,
    ) -> None:
        """Serve the app with the development server (uvicorn).

        ``host`` defaults to 127.0.0.1 and ``port`` to ``$PORT`` or 8000; ``debug=True``
        turns on the debug error page and reloading when files change.
        """
        from nightowl._server import run_dev

        if debug is not None:
            self.debug = debug
        run_dev(
            self,
            host=host or "127.0.0.1",
            port=port if port is not None else int(os.environ.get("PORT", "8000")),
            reload=self.debug if reload is None else reload,
            **server_options,
        )


def battery_options() -> dict[str, Any]:
    """Options that batteries add to ``App(...)``, by name.

    A battery declares one in its package metadata, in the ``nightowl.options``
    entry-point group: ``database = "nightowl.db:install"``. ``App(database=url)`` then
    calls ``install(app, url)``, so the core never imports a battery itself.
    """
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group="nightowl.options")}
