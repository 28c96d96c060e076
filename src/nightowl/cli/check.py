"""``nightowl check [--deploy]``: what would go wrong with this app, before it does.

Without ``--deploy``, the app is loaded and compiled (every route, the OpenAPI
document). With it, the checklist a production deployment must pass, like Django's
``check --deploy``: debug off, a strong secret key, allowed hosts, secure cookies behind
HTTPS, HSTS, trusted proxies, database pools that fit the server's connections with the
workers you run, and no unapplied migrations. A failure makes the exit status 1, so the
command can gate a CI pipeline; warnings are printed and pass (``--strict`` fails them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import click

from nightowl.cli._findings import Finding, Level
from nightowl.cli.group import ScriptInfo

__all__ = ["Finding", "check_command", "deploy_findings"]

# Placeholders people leave in: inside a key, or at its start (a random key may hold
# three letters such as "dev" anywhere by chance, so those only count at the start).
_PLACEHOLDERS = ("changeme", "change-me", "change_me", "insecure", "not-secret", "example-key")
_PLACEHOLDER_STARTS = ("secret", "dev", "test", "example", "password", "django-insecure")


def _middleware(app: Any, name: str) -> list[dict[str, Any]]:
    return [
        dict(options)
        for factory, options in getattr(app, "user_middleware", ())
        if getattr(factory, "__name__", "") == name
    ]


def _debug(app: Any) -> Finding:
    if getattr(app, "debug", False):
        return Finding("debug", "fail", "debug is on: tracebacks are shown to every client.")
    return Finding("debug", "ok", "debug is off.")


def _secret_key(app: Any) -> Finding:
    key = app.config.get("secret_key")
    settings = getattr(app, "settings", None)
    for attribute in ("SECRET_KEY", "secret_key"):
        if not key and settings is not None:
            key = getattr(settings, attribute, None)
    if key is not None and hasattr(key, "get_secret_value"):
        key = key.get_secret_value()
    key = key or os.environ.get("NIGHTOWL_SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not key:
        uses = _middleware(app, "SessionMiddleware")
        level: Level = "fail" if uses else "warn"
        return Finding("secret_key", level, "no SECRET_KEY is set" + _HOW_TO_KEY)
    text = str(key)
    lowered = text.lower()
    placeholder = lowered.startswith(_PLACEHOLDER_STARTS) or any(
        word in lowered for word in _PLACEHOLDERS
    )
    if len(text) < 32 or len(set(text)) < 8 or placeholder:
        return Finding(
            "secret_key",
            "fail",
            "the SECRET_KEY is weak (under 32 characters, few distinct ones, or a "
            "placeholder)" + _HOW_TO_KEY,
        )
    return Finding("secret_key", "ok", "the SECRET_KEY is long and random-looking.")


_HOW_TO_KEY = '; set one made by python -c "import secrets; print(secrets.token_urlsafe(48))".'


def _allowed_hosts(app: Any) -> Finding:
    found = _middleware(app, "TrustedHostMiddleware")
    if not found:
        return Finding(
            "allowed_hosts",
            "fail",
            "any Host header is accepted: add TrustedHostMiddleware(allowed_hosts=[...]) "
            "(see docs/middleware.md).",
        )
    hosts = found[0].get("allowed_hosts", ())
    if "*" in hosts:
        return Finding("allowed_hosts", "fail", "allowed_hosts contains '*': name your hosts.")
    return Finding("allowed_hosts", "ok", f"allowed hosts: {', '.join(hosts)}.")


def _cookies(app: Any) -> Finding:
    sessions = _middleware(app, "SessionMiddleware")
    if not sessions:
        return Finding("secure_cookies", "ok", "no session cookie is set.")
    secure = sessions[0].get("secure")
    if secure is False:
        return Finding(
            "secure_cookies",
            "fail",
            'the session cookie is sent over plain HTTP (sessions={"secure": False}).',
        )
    if secure is None and not getattr(app, "trusted_proxies", ()):
        return Finding(
            "secure_cookies",
            "warn",
            "the session cookie is Secure only on requests the app sees as HTTPS: behind a "
            'proxy that ends TLS, set trusted_proxies, or sessions={"secure": True}.',
        )
    return Finding("secure_cookies", "ok", "the session cookie is Secure over HTTPS.")


def _hsts(app: Any) -> Finding:
    security = _middleware(app, "SecurityHeadersMiddleware")
    if not security or not security[0].get("hsts"):
        return Finding(
            "hsts",
            "warn",
            "no Strict-Transport-Security: add SecurityHeadersMiddleware(hsts=True) once "
            "the site is served over HTTPS only.",
        )
    return Finding("hsts", "ok", "Strict-Transport-Security is sent.")


def _proxies(app: Any) -> Finding:
    proxies = getattr(app, "trusted_proxies", ())
    if "*" in proxies:
        return Finding(
            "trusted_proxies",
            "warn",
            "trusted_proxies is '*': any client that reaches the app directly can choose "
            "its own address. Name your proxies.",
        )
    if not proxies:
        return Finding(
            "trusted_proxies",
            "warn",
            "no trusted_proxies: behind a reverse proxy, every client has the proxy's "
            "address (logs, rate limits, login throttling). Set App(trusted_proxies=[...]).",
        )
    return Finding("trusted_proxies", "ok", f"trusted proxies: {', '.join(proxies)}.")


def _database(app: Any, workers: int) -> Iterator[Finding]:
    database = getattr(getattr(app, "state", None), "database", None)
    if database is None or not hasattr(database, "engine"):
        return
    from nightowl.cli._database_checks import migrations_finding, pool_finding

    yield pool_finding(database, workers)
    yield migrations_finding(database)


def deploy_findings(app: Any, *, workers: int = 1) -> list[Finding]:
    """Every deployment check on ``app``, in order; ``workers`` is how many processes
    will serve it (each has its own database pools)."""
    checks: list[Callable[[Any], Finding]] = [
        _debug,
        _secret_key,
        _allowed_hosts,
        _cookies,
        _hsts,
        _proxies,
    ]
    findings = [check(app) for check in checks]
    findings.extend(_database(app, workers))
    return findings


_MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@click.command("check")
@click.argument("app_ref", metavar="[APP]", required=False)
@click.option("--deploy", is_flag=True, help="Run the production checklist too.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    envvar="WEB_CONCURRENCY",
    show_default=True,
    show_envvar=True,
    help="Worker processes that will serve the app (for the database pool check).",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.pass_obj
def check_command(
    info: ScriptInfo, app_ref: str | None, deploy: bool, workers: int, strict: bool
) -> None:
    """Check the app: it loads and compiles; with --deploy, the production checklist.

    Exits with status 1 when a check fails. APP is MODULE[:NAME], found as for
    `nightowl run`.
    """
    app = info.locate(app_ref).app
    try:
        app.compiled_routes()
        app.openapi()
    except Exception as exc:
        raise click.ClickException(f"The app does not compile: {exc}") from exc
    click.echo(f"ok    {'app':<16}{len(app.routes)} routes compile.")
    if not deploy:
        return
    findings = deploy_findings(app, workers=workers)
    for finding in findings:
        click.echo(f"{_MARKS[finding.level]}  {finding.check:<16}{finding.message}")
    failed = [f for f in findings if f.level == "fail" or (strict and f.level == "warn")]
    warned = [f for f in findings if f.level == "warn"]
    click.echo(f"{len(failed)} failed, {len(warned)} warnings.")
    if failed:
        raise SystemExit(1)
