"""Running an app under a real server: the dev server behind ``App.run`` and ``serve``.

uvicorn is the default server (with uvloop and httptools when they are installed);
granian is the alternative for ``serve``. Reloading and several workers make the server
import the app in fresh processes, so both need the app as an import string
(``"module:attr"``) rather than an object; :func:`run_dev` derives one from the script
that called ``app.run()``.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any, Literal

from nightowl._guard import (
    DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_MAX_HEADERS,
    MAX_HEADER_SIZE_ENV,
    MAX_HEADERS_ENV,
    ServerGuard,
    limits_from_environment,
)
from nightowl._logging import LogFormat, logging_config
from nightowl.exceptions import ImproperlyConfigured
from nightowl.types import ASGIApp

__all__ = ["GRANIAN_MISSING", "ServerName", "find_main_import_string", "run_dev", "serve"]

ServerName = Literal["uvicorn", "granian"]

#: What to tell a user who asks for granian without having it.
GRANIAN_MISSING = (
    "The granian server is not installed. "
    "Install it with `pip install 'nightowl[granian]'` or use --server uvicorn."
)

# The shim factory below reads its target from these variables; they reach the server's
# worker processes through the environment, which every way of starting one inherits.
_TARGET_ENV = "_NIGHTOWL_SERVE_TARGET"
_FACTORY_ENV = "_NIGHTOWL_SERVE_FACTORY"
_DEBUG_ENV = "_NIGHTOWL_SERVE_DEBUG"
_PROXY_ENV = "_NIGHTOWL_SERVE_PROXY_IPS"
_LIMITED_HTTPTOOLS = "nightowl._httptools_limits:LimitedHttpToolsProtocol"
_BROADCAST_WS = "nightowl._ws_protocol:BroadcastWebSocketProtocol"
_SHIM = f"{__name__}:load_target"


def run_dev(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    reload: bool = False,
    target: str | None = None,
    **options: Any,
) -> None:
    """Serve ``app`` with uvicorn for development; what ``app.run()`` calls.

    With ``reload``, uvicorn restarts when a file in the script's folder changes. That
    needs the app's import string, found from the ``__main__`` module (the script
    started with ``python app.py``); when it cannot be found (an app built inside a
    function, an interactive session) a warning says so and the app runs without reload.
    ``workers=N`` (more than one) needs the import string too, and turns reloading off.

    Args:
        app: the ASGI app to serve.
        host: the interface to bind.
        port: the TCP port to bind.
        reload: restart the server when source files change.
        target: the app's import string (``"app:app"``), when given to ``app.run()``.
        **options: passed on to ``uvicorn.run``.

    Raises:
        ImproperlyConfigured: ``workers`` without an import string to start them from.
    """
    debug = bool(getattr(app, "debug", False))
    workers = int(options.pop("workers", None) or 1)
    if workers > 1:
        reload = False  # uvicorn cannot do both; production is `nightowl serve`
    if target is None and (reload or workers > 1):
        found = find_main_import_string(app)
        if found is not None:
            target = found[0]
            options.setdefault("app_dir", found[1])
        elif workers > 1:
            raise ImproperlyConfigured(
                f"app.run(workers={workers}) starts worker processes, which import the app "
                "by name, and nightowl could not find it as a global of the script being run. "
                f"Serve it with `nightowl serve app:app --workers {workers}` (for production), "
                f'or name it: app.run("app:app", workers={workers}).'
            )
    if target is not None:
        if reload:
            options.setdefault("reload_dirs", [str(options.get("app_dir") or Path.cwd())])
        main_file = getattr(sys.modules.get("__main__"), "__file__", None)
        options.setdefault("app_dir", Path(main_file).resolve().parent if main_file else Path.cwd())
        serve(target, host=host, port=port, reload=reload, workers=workers, debug=debug, **options)
        return
    if reload:
        warnings.warn(
            "nightowl could not find the app as a global of the script being run, so it "
            "serves without reloading. Assign the app to a module-level name (app = App()) "
            "and start the script with `python app.py` to reload on changes.",
            RuntimeWarning,
            stacklevel=3,
        )
    serve(app, host=host, port=port, debug=debug, **options)


def split_target(host: str | None) -> tuple[str | None, str | None]:
    """``(import string, host)`` from ``app.run()``'s first argument: ``app.run("app:app")``
    names the app (``module:attr``), ``app.run("0.0.0.0")`` the host."""
    if host is not None and _IMPORT_STRING.match(host):
        return host, None
    return None, host


_IMPORT_STRING = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$")


def find_main_import_string(app: object) -> tuple[str, Path] | None:
    """The ``("module:attr", folder)`` under which ``__main__`` holds ``app``, if any.

    The module is the script's file name (``app.py`` gives ``app``) or, under
    ``python -m pkg.mod``, the module's real name; the folder is where it can be imported.
    """
    main = sys.modules.get("__main__")
    file = getattr(main, "__file__", None)
    if main is None or file is None:
        return None
    names = [name for name, value in vars(main).items() if value is app]
    if not names:
        return None
    attr = "app" if "app" in names else names[0]
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and spec.name != "__main__":
        return f"{spec.name}:{attr}", Path.cwd()
    path = Path(file).resolve()
    if not path.stem.isidentifier():
        return None
    return f"{path.stem}:{attr}", path.parent


def _share_metrics_between_workers() -> None:
    """Point prometheus-client's multiprocess mode at a fresh folder the workers share.

    Every worker then writes its metrics there and ``App(metrics=True)``'s endpoint adds
    them up. A folder the user set in ``PROMETHEUS_MULTIPROC_DIR`` is kept as it is.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="nightowl-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


def serve(
    target: str | ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    server: ServerName = "uvicorn",
    factory: bool = False,
    app_dir: str | os.PathLike[str] | None = None,
    reload: bool = False,
    debug: bool = False,
    proxy_headers: bool = False,
    forwarded_allow_ips: str | None = None,
    graceful_timeout: int = 30,
    log_level: str = "info",
    log_format: LogFormat = "text",
    log_config: str | os.PathLike[str] | None = None,
    access_log: bool = True,
    max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
    max_headers: int = DEFAULT_MAX_HEADERS,
    ws_per_message_deflate: bool = False,
    **options: Any,
) -> None:
    """Serve an app until the server is stopped (Ctrl+C or SIGTERM).

    On SIGTERM the server stops accepting connections and lets requests in flight finish,
    for at most ``graceful_timeout`` seconds. Whatever the server, requests carrying both
    ``Content-Length`` and ``Transfer-Encoding`` get 400 and a closed connection, and
    requests over the header limits 431 (see :mod:`nightowl._guard`).

    Args:
        target: the app, or its import string ``"module:attr"``; reloading, several workers
            and granian need the import string.
        host: the interface to bind (``0.0.0.0`` for every interface).
        port: the TCP port to bind.
        workers: how many worker processes serve requests.
        server: ``"uvicorn"`` or ``"granian"``.
        factory: ``target`` names a function that returns the app.
        app_dir: the folder ``target``'s module is imported from.
        reload: restart when source files change (development only, uvicorn only).
        debug: set ``debug = True`` on the loaded app (the debug error page).
        proxy_headers: trust ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from
            ``forwarded_allow_ips`` to set the client address and scheme.
        forwarded_allow_ips: comma-separated addresses of trusted proxies (``127.0.0.1``).
        graceful_timeout: seconds to wait for requests in flight when shutting down.
        log_level: ``critical``, ``error``, ``warning``, ``info``, ``debug`` or ``trace``.
        log_format: ``"text"`` (time, level, logger, request id, message) or ``"json"``
            (one object per line, for log collectors).
        log_config: a logging configuration file used instead of nightowl's: JSON
            (:func:`logging.config.dictConfig`'s schema) on every server, YAML and ``.ini``
            under uvicorn.
        access_log: log every request.
        max_header_size: the most bytes of request line and headers a request may carry.
        max_headers: the most header fields a request may carry.
        ws_per_message_deflate: accept the WebSocket compression a client offers
            (permessage-deflate; uvicorn only). Off by default: the server would compress
            every message again for each connection, which costs more CPU than it saves
            bandwidth on the short JSON messages most apps send, and compressing secrets
            together with what a client controls can leak them (as CRIME and BREACH did).
        **options: passed on to the server.

    Raises:
        ImproperlyConfigured: the options cannot work together, or granian is missing.
    """
    if not isinstance(target, str) and (reload or workers > 1 or server == "granian"):
        raise ImproperlyConfigured(
            "Reloading, several workers and granian need the app as an import string "
            "such as 'app:app', not as an object."
        )
    if max_header_size < 1024 or max_headers < 1:
        raise ImproperlyConfigured(
            "max_header_size must be at least 1024 bytes and max_headers at least 1."
        )
    os.environ[MAX_HEADER_SIZE_ENV] = str(max_header_size)
    os.environ[MAX_HEADERS_ENV] = str(max_headers)
    if workers > 1:
        _share_metrics_between_workers()
    logs = _log_settings(log_level, log_format, log_config, access_log, server)
    if server == "granian":
        if reload:
            raise ImproperlyConfigured("Reloading is only supported with uvicorn.")
        if ws_per_message_deflate:
            raise ImproperlyConfigured(
                "granian does not compress WebSocket messages (permessage-deflate): "
                "serve with uvicorn to turn it on."
            )
        _serve_granian(
            str(target),
            host=host,
            port=port,
            workers=workers,
            factory=factory,
            app_dir=app_dir,
            debug=debug,
            proxy_ips=(forwarded_allow_ips or "127.0.0.1") if proxy_headers else None,
            graceful_timeout=graceful_timeout,
            log_level=log_level,
            access_log=access_log,
            log_dictconfig=logs,
            **options,
        )
    elif server == "uvicorn":
        if isinstance(target, str):
            _export_target(target, factory=factory, debug=debug, proxy_ips=None)
            target, factory = _SHIM, True
        else:
            if debug and hasattr(target, "debug"):
                target.debug = True
            target = ServerGuard(target, max_header_size=max_header_size, max_headers=max_headers)
        _serve_uvicorn(
            target,
            host=host,
            port=port,
            workers=workers,
            factory=factory,
            app_dir=app_dir,
            reload=reload,
            proxy_headers=proxy_headers,
            forwarded_allow_ips=forwarded_allow_ips,
            graceful_timeout=graceful_timeout,
            log_level=log_level,
            access_log=access_log,
            log_config=logs,
            ws_per_message_deflate=ws_per_message_deflate,
            **options,
        )
    else:
        raise ImproperlyConfigured(f"Unknown server {server!r}: use 'uvicorn' or 'granian'.")


def load_target() -> ASGIApp:
    """Load the app a server process was asked to serve (an app factory for the server).

    The parent process describes the app in environment variables; this applies what the
    servers cannot do themselves (debug mode, proxy headers under granian) and puts the
    :class:`~nightowl._guard.ServerGuard` in front of the app.
    """
    target = os.environ[_TARGET_ENV]
    module_name, _, attr = target.partition(":")
    app: Any = importlib.import_module(module_name)
    for part in (attr or "app").split("."):
        app = getattr(app, part)
    if os.environ.get(_FACTORY_ENV) == "1":
        app = app()
    if os.environ.get(_DEBUG_ENV) == "1" and hasattr(app, "debug"):
        app.debug = True
    proxy_ips = os.environ.get(_PROXY_ENV)
    if proxy_ips:
        from granian.utils.proxies import wrap_asgi_with_proxy_headers

        app = wrap_asgi_with_proxy_headers(app, proxy_ips)
    max_header_size, max_headers = limits_from_environment()
    return ServerGuard(app, max_header_size=max_header_size, max_headers=max_headers)


def _log_settings(
    level: str,
    log_format: LogFormat,
    config: str | os.PathLike[str] | None,
    access_log: bool,
    server: str,
) -> Any:
    """What the server is given to configure logging with: nightowl's configuration, or
    the user's file (a path for uvicorn, which reads every kind; a dict for granian)."""
    try:
        if config is None:
            return logging_config(level, log_format, access_log=access_log)
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    path = Path(config)
    if not path.is_file():
        raise ImproperlyConfigured(f"The logging configuration {str(path)!r} does not exist.")
    if server != "granian":
        return str(path)
    if path.suffix != ".json":
        raise ImproperlyConfigured(
            f"Under granian, the logging configuration must be a JSON file: {str(path)!r}."
        )
    import json

    try:
        loaded = json.loads(path.read_text())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise ImproperlyConfigured(f"{str(path)!r} is not a logging configuration (a mapping).")
    return loaded


def _export_target(target: str, *, factory: bool, debug: bool, proxy_ips: str | None) -> None:
    os.environ[_TARGET_ENV] = target
    os.environ[_FACTORY_ENV] = "1" if factory else ""
    os.environ[_DEBUG_ENV] = "1" if debug else ""
    os.environ[_PROXY_ENV] = proxy_ips or ""


def _serve_uvicorn(
    target: str | ASGIApp,
    *,
    app_dir: str | os.PathLike[str] | None,
    forwarded_allow_ips: str | None,
    **options: Any,
) -> None:
    import uvicorn

    graceful_timeout = options.pop("graceful_timeout")
    options.setdefault("loop", "auto")
    if options.get("http", "auto") == "auto":
        options["http"] = _LIMITED_HTTPTOOLS if _has("httptools") else "h11"
    if options.get("ws", "auto") == "auto" and _has_sansio_websockets():
        options["ws"] = _BROADCAST_WS
    # h11 buffers at most this much of a request's head before refusing it.
    options.setdefault("h11_max_incomplete_event_size", int(os.environ[MAX_HEADER_SIZE_ENV]))
    uvicorn.run(
        target,
        app_dir=None if app_dir is None else os.fspath(app_dir),
        forwarded_allow_ips=forwarded_allow_ips,
        timeout_graceful_shutdown=graceful_timeout,
        **options,
    )


def _serve_granian(
    target: str,
    *,
    host: str,
    port: int,
    workers: int,
    factory: bool,
    app_dir: str | os.PathLike[str] | None,
    debug: bool,
    proxy_ips: str | None,
    graceful_timeout: int,
    log_level: str,
    access_log: bool,
    **options: Any,
) -> None:
    try:
        from granian import Granian
        from granian.constants import Interfaces
        from granian.log import LogLevels
    except ImportError:
        raise ImproperlyConfigured(GRANIAN_MISSING) from None

    _export_target(target, factory=factory, debug=debug, proxy_ips=proxy_ips)
    target, factory = _SHIM, True
    server = Granian(
        target,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=factory,
        working_dir=None if app_dir is None else Path(app_dir),
        log_level=LogLevels("debug" if log_level == "trace" else log_level),
        log_access=access_log,
        workers_kill_timeout=graceful_timeout,
        **options,
    )
    server.serve()


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _has_sansio_websockets() -> bool:
    """Whether uvicorn's sans-I/O WebSocket protocol can run here (a uvicorn that has it,
    and a websockets it can import), which nightowl's broadcast protocol extends."""
    if not _has("websockets"):
        return False
    try:
        importlib.import_module("uvicorn.protocols.websockets.websockets_sansio_impl")
    except ImportError:
        return False
    return True
