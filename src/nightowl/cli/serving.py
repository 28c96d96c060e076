"""``nightowl run`` (the development server) and ``nightowl serve`` (production)."""

from __future__ import annotations

from typing import Literal

import click

from nightowl._guard import DEFAULT_MAX_HEADER_SIZE, DEFAULT_MAX_HEADERS
from nightowl._server import serve as serve_app
from nightowl.cli.group import ScriptInfo
from nightowl.exceptions import ImproperlyConfigured

__all__ = ["run_command", "serve_command"]

_LOG_LEVELS = click.Choice(["critical", "error", "warning", "info", "debug", "trace"])
_app_argument = click.argument("app_ref", metavar="[APP]", required=False)
_host_option = click.option(
    "--host", default="127.0.0.1", show_default=True, help="The interface to bind."
)
_port_option = click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    envvar="PORT",
    show_default=True,
    show_envvar=True,
    help="The TCP port to bind.",
)
_log_level_option = click.option(
    "--log-level", type=_LOG_LEVELS, default="info", show_default=True, help="Log verbosity."
)
_log_format_option = click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text (time, level, logger, request id, message) or as JSON objects.",
)
_log_config_option = click.option(
    "--log-config",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A logging configuration file (dictConfig JSON; YAML or .ini under uvicorn) "
    "used instead of nightowl's.",
)
_max_header_size_option = click.option(
    "--max-header-size",
    type=click.IntRange(min=1024),
    default=DEFAULT_MAX_HEADER_SIZE,
    show_default=True,
    help="The most bytes of request line and headers a request may carry (else 431).",
)
_max_headers_option = click.option(
    "--max-headers",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_HEADERS,
    show_default=True,
    help="The most header fields a request may carry (else 431).",
)


@click.command("run")
@_app_argument
@_host_option
@_port_option
@click.option(
    "--reload/--no-reload",
    default=True,
    show_default=True,
    help="Restart the server when a source file changes.",
)
@click.option(
    "--reload-dir",
    "reload_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="A folder to watch for changes (default: the app's folder). Repeatable.",
)
@click.option("--debug", is_flag=True, help="Show the debug error page on unhandled errors.")
@_log_level_option
@_log_format_option
@_log_config_option
@_max_header_size_option
@_max_headers_option
@click.pass_obj
def run_command(
    info: ScriptInfo,
    app_ref: str | None,
    host: str,
    port: int,
    reload: bool,
    reload_dirs: tuple[str, ...],
    debug: bool,
    log_level: str,
    log_format: Literal["text", "json"],
    log_config: str | None,
    max_header_size: int,
    max_headers: int,
) -> None:
    """Run the development server (uvicorn, reloading on changes).

    APP is MODULE[:NAME], as in `nightowl run app:app`; by default $NIGHTOWL_APP,
    then app.py or main.py in the current folder.
    """
    located = info.locate(app_ref)
    try:
        if reload:
            serve_app(
                located.import_string,
                factory=located.factory,
                app_dir=located.app_dir,
                host=host,
                port=port,
                reload=True,
                reload_dirs=list(reload_dirs) or [str(located.app_dir)],
                debug=debug,
                log_level=log_level,
                log_format=log_format,
                log_config=log_config,
                max_header_size=max_header_size,
                max_headers=max_headers,
            )
        else:
            serve_app(
                located.app,
                host=host,
                port=port,
                debug=debug,
                log_level=log_level,
                log_format=log_format,
                log_config=log_config,
                max_header_size=max_header_size,
                max_headers=max_headers,
            )
    except ImproperlyConfigured as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("serve")
@_app_argument
@_host_option
@_port_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    envvar="WEB_CONCURRENCY",
    show_default=True,
    show_envvar=True,
    help="How many worker processes to run (one per core uses every core).",
)
@click.option(
    "--server",
    type=click.Choice(["uvicorn", "granian"]),
    default="uvicorn",
    show_default=True,
    help="The ASGI server to run.",
)
@click.option(
    "--proxy-headers",
    is_flag=True,
    help="Trust X-Forwarded-For/-Proto from --forwarded-allow-ips (behind a reverse proxy).",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    envvar="FORWARDED_ALLOW_IPS",
    show_default=True,
    show_envvar=True,
    help="Comma-separated addresses of trusted proxies, or '*'.",
)
@click.option(
    "--graceful-timeout",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Seconds that requests in flight get to finish on SIGTERM.",
)
@click.option(
    "--access-log/--no-access-log", default=True, show_default=True, help="Log every request."
)
@click.option(
    "--ws-per-message-deflate/--no-ws-per-message-deflate",
    default=False,
    show_default=True,
    help="Accept the WebSocket compression clients offer (uvicorn only; off: it costs a "
    "compression per message and connection).",
)
@_log_level_option
@_log_format_option
@_log_config_option
@_max_header_size_option
@_max_headers_option
@click.pass_obj
def serve_command(
    info: ScriptInfo,
    app_ref: str | None,
    host: str,
    port: int,
    workers: int,
    server: str,
    proxy_headers: bool,
    forwarded_allow_ips: str,
    graceful_timeout: int,
    access_log: bool,
    ws_per_message_deflate: bool,
    log_level: str,
    log_format: Literal["text", "json"],
    log_config: str | None,
    max_header_size: int,
    max_headers: int,
) -> None:
    """Run the production server: several workers, graceful shutdown on SIGTERM.

    APP is MODULE[:NAME], found as for `nightowl run`. Bind --host 0.0.0.0 to accept
    connections from other machines (in a container, for instance).
    """
    located = info.locate(app_ref)
    in_process = server == "uvicorn" and workers == 1
    try:
        serve_app(
            located.app if in_process else located.import_string,
            factory=located.factory and not in_process,
            app_dir=located.app_dir,
            host=host,
            port=port,
            workers=workers,
            server="granian" if server == "granian" else "uvicorn",
            proxy_headers=proxy_headers,
            forwarded_allow_ips=forwarded_allow_ips,
            graceful_timeout=graceful_timeout,
            access_log=access_log,
            log_level=log_level,
            log_format=log_format,
            log_config=log_config,
            max_header_size=max_header_size,
            max_headers=max_headers,
            ws_per_message_deflate=ws_per_message_deflate,
        )
    except ImproperlyConfigured as exc:
        raise click.ClickException(str(exc)) from exc
