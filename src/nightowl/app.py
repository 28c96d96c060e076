"""The application: a router plus configuration, providers, middleware, lifespan and errors.

``App`` is put together from the parts in :mod:`nightowl._app` (compiling, lifespan,
serving, configuration hooks); this module holds its constructor and ``run``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

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
from nightowl.responses import JSONResponse, Response
from nightowl.routing import Route, Webhooks
from nightowl.types import MISSING

if TYPE_CHECKING:
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
        default_response_class: the class for results of routes that name no
            ``response_class`` (``JSONResponse``; ``HTMLResponse`` for a site of pages).
        root_path: the path prefix a proxy serves the app under (``/api``): URLs the app
            builds and the OpenAPI ``servers`` start with it, and requests arrive with
            or without it.
        root_path_in_servers: whether ``root_path`` is listed first in the OpenAPI
            ``servers`` (true by default).
        generate_unique_id_function: makes the OpenAPI operationId of routes that give
            no ``operation_id``, from the route (``route.name``, ``route.tags``...).
        swagger_ui_parameters: Swagger UI settings for ``/docs``, such as
            ``{"syntaxHighlight": False}`` or ``{"deepLinking": False}``.
        separate_input_output_schemas: whether a model both read and returned gets two
            OpenAPI schemas (``Item-Input``, ``Item-Output``) when they differ (true by
            default); false gives one schema, as it is read.
        strict_content_type: whether a JSON body must say so in its ``Content-Type``;
            false (the default) reads a body sent with no ``Content-Type`` as JSON. A body
            of another declared type is refused either way (415).
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
        default_response_class: type[Response] = JSONResponse,
        root_path: str = "",
        root_path_in_servers: bool = True,
        generate_unique_id_function: Callable[[Route], str] | None = None,
        swagger_ui_parameters: Mapping[str, Any] | None = None,
        separate_input_output_schemas: bool = True,
        strict_content_type: bool = False,
        **config: Any,
    ) -> None:
        super().__init__(
            dependencies=dependencies, generate_unique_id_function=generate_unique_id_function
        )
        self.default_response_class = default_response_class
        self.root_path = root_path.rstrip("/")
        self.root_path_in_servers = root_path_in_servers
        self.swagger_ui_parameters = dict(swagger_ui_parameters or {})
        self.separate_input_output_schemas = separate_input_output_schemas
        self.strict_content_type = strict_content_type
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
        #: The reverse proxies whose forwarding headers are believed (``trusted_proxies``).
        self.trusted_proxies = tuple(trusted_proxies)
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.websocket_config = websocket_config
        self.config: dict[str, Any] = dict(config)
        self.state = State()
        self._overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        #: Click commands added by batteries and users, shown by the ``nightowl`` CLI.
        self.commands: list[Any] = []
        self._providers: dict[Any, Callable[..., Any]] = {}
        self._runners: dict[Callable[..., Any], HandlerRunner] = {}
        self._init_compiling()
        #: Requests the API sends to its subscribers, documented under the OpenAPI
        #: ``webhooks``: ``@app.webhooks.post("new-subscription")``. Never served.
        self.webhooks = Webhooks()
        self.webhooks._on_change = self._invalidate
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
        turns on the debug error page and reloading when files change. Worker processes
        import the app by name: ``app.run("app:app", workers=2)`` (in production,
        ``nightowl serve app:app --workers 2``).
        """
        from nightowl._server import run_dev, split_target

        target, host = split_target(host)
        if debug is not None:
            self.debug = debug
        run_dev(
            self,
            host=host or "127.0.0.1",
            port=port if port is not None else int(os.environ.get("PORT", "8000")),
            reload=self.debug if reload is None else reload,
            target=target,
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
