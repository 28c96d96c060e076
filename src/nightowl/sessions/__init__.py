"""Sessions: ``request.session``, a dict kept for each browser between requests.

::

    app = App(sessions=True, secret_key="...")      # a signed cookie; or "redis://host:6379/0"
                                                    # or "database" with App(database=...)

    @app.post("/visit")
    def visit(request: Request):
        request.session["visits"] = request.session.get("visits", 0) + 1
        return {"visits": request.session["visits"]}

Sessions are on by themselves in an app with a secret key (``App(secret_key=...)``,
``SECRET_KEY`` in the environment or ``.env``) or templates; ``App(sessions=False)`` keeps
them off. ``App(sessions=...)`` also turns on CSRF protection (see :mod:`nightowl.sessions.csrf`) and makes
:class:`HTTPSession` injectable by annotation. The signing key comes from
:func:`secret_key_for`: without one, a production app refuses to start.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nightowl.exceptions import ImproperlyConfigured
from nightowl.requests import Request
from nightowl.sessions._flash import flash, get_flashed_messages
from nightowl.sessions._secret import secret_key_for
from nightowl.sessions._session import HTTPSession
from nightowl.sessions.backends import (
    CookieBackend,
    RedisBackend,
    ServerSideBackend,
    SessionBackend,
    SessionJoin,
    SessionTooLarge,
)
from nightowl.sessions.backends._base import Loaded
from nightowl.sessions.middleware import SessionMiddleware

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = [
    "CookieBackend",
    "HTTPSession",
    "RedisBackend",
    "ServerSideBackend",
    "SessionBackend",
    "SessionJoin",
    "SessionMiddleware",
    "SessionTooLarge",
    "configure_secret_key",
    "flash",
    "get_flashed_messages",
    "install",
    "register_backend",
    "secret_key_for",
    "session_backend",
    "sessions_enabled",
]

#: The session backend of each app with sessions on.
_ENABLED: weakref.WeakKeyDictionary[App, SessionBackend] = weakref.WeakKeyDictionary()
_MIDDLEWARE_OPTIONS = {"cookie_name", "max_age", "path", "domain", "same_site", "secure"}
#: Backends that other batteries offer by name, per app (see :func:`register_backend`).
_NAMED: weakref.WeakKeyDictionary[App, dict[str, Callable[[], SessionBackend]]] = (
    weakref.WeakKeyDictionary()
)
#: Named backends asked for before the battery offering them was installed.
_WAITING: weakref.WeakKeyDictionary[App, dict[str, _Named]] = weakref.WeakKeyDictionary()


def register_backend(app: App, name: str, factory: Callable[[], SessionBackend]) -> None:
    """Offer a session backend that ``App(sessions=name)`` selects.

    How a battery provides one without the sessions package importing it. (``"database"``
    is built in: ``App(database=url, sessions="database")`` keeps sessions in the app's
    database, through :mod:`nightowl.sessions.backends.database`.) ``factory()`` is called only when the app chooses
    the name, whichever of the two options comes first.
    """
    _NAMED.setdefault(app, {})[name] = factory
    waiting = _WAITING.get(app, {}).pop(name, None)
    if waiting is not None:
        waiting.set_target(factory())


class _Named(SessionBackend):
    """``App(sessions=name)`` before the battery that offers ``name`` was installed
    (options are installed in the order given): it stands in for the real backend."""

    def __init__(self, app: App, name: str) -> None:
        self.app = weakref.ref(app)
        self.name = name
        self.target: SessionBackend | None = None
        self._joins: list[SessionJoin] = []

    def set_target(self, target: SessionBackend) -> None:
        self.target = target
        for join in self._joins:
            target.join(join)

    def resolved(self) -> SessionBackend:
        if self.target is None:
            app = self.app()
            offered = _offered(app, self.name) if app is not None else None
            if offered is not None:
                self.set_target(offered)
        if self.target is None:
            hint = " (add App(database=...))" if self.name == "database" else ""
            raise ImproperlyConfigured(
                f"App(sessions={self.name!r}): no installed battery offers a session "
                f"backend called {self.name!r}{hint}."
            )
        return self.target

    def bind(self, secret_key: str) -> None:
        self.resolved().bind(secret_key)

    async def load(self, cookie: str, max_age: int) -> tuple[str | None, dict[str, Any]]:
        return await self.resolved().load(cookie, max_age)

    async def load_joined(self, cookie: str, max_age: int) -> Loaded:
        return await self.resolved().load_joined(cookie, max_age)

    def join(self, join: SessionJoin) -> bool:
        # Kept for the backend the name stands for, once a battery offers it.
        self._joins.append(join)
        return self.target.join(join) if self.target is not None else True

    async def save(self, session_id: str | None, data: dict[str, Any], max_age: int) -> str:
        return await self.resolved().save(session_id, data, max_age)

    async def delete(self, session_id: str | None) -> None:
        await self.resolved().delete(session_id)

    async def check(self) -> None:
        await self.resolved().check()

    async def close(self) -> None:
        if self.target is not None:
            await self.target.close()


def _offered(app: App, name: str) -> SessionBackend | None:
    """The backend called ``name`` that a battery offers, or ``None`` (not yet)."""
    factory = _NAMED.get(app, {}).get(name)
    if factory is not None:
        return factory()
    if name == "database":
        database = getattr(app.state, "database", None)
        if database is not None:
            from nightowl.sessions.backends.database import DatabaseSessionBackend

            return DatabaseSessionBackend(database)
    return None


def _backend(app: App, value: Any) -> SessionBackend:
    if isinstance(value, SessionBackend):
        return value
    if value is True or value in ("cookie", None):
        return CookieBackend()
    if isinstance(value, str) and value.startswith(("redis://", "rediss://", "unix://")):
        return RedisBackend(value)
    if isinstance(value, str) and value.isidentifier():
        if value == "database":
            # Adds the nightowl_session table to Model.metadata now, for migrations.
            import nightowl.sessions.backends.database  # noqa: F401
        backend = _offered(app, value)
        if backend is not None:
            return backend
        waiting = _Named(app, value)
        _WAITING.setdefault(app, {})[value] = waiting
        app.on_startup(waiting.resolved)  # still nobody offers it: refuse to start
        return waiting
    raise ImproperlyConfigured(
        f"App(sessions=...) takes True, 'cookie', 'database', a redis:// URL, "
        f"a SessionBackend or a dict of options, not {value!r}."
    )


def install(app: App, value: Any) -> None:
    """Turn on sessions and CSRF protection for ``app`` (the ``App(sessions=...)`` option).

    ``value`` is ``True`` or ``"cookie"`` (a signed cookie), a ``redis://`` URL,
    ``"database"`` (the app's database, with ``App(database=...)``) or another name a
    battery offers through :func:`register_backend`, a :class:`SessionBackend`, or a
    dict with ``backend`` plus :class:`SessionMiddleware` options and ``csrf``
    (``False`` to turn CSRF protection off, or a dict of its options). ``False`` leaves
    sessions off.
    """
    if value is False:
        return
    if app in _ENABLED:
        return
    options: dict[str, Any] = dict(value) if isinstance(value, Mapping) else {"backend": value}
    unknown = set(options) - _MIDDLEWARE_OPTIONS - {"backend", "csrf"}
    if unknown:
        raise ImproperlyConfigured(f"Unknown session options: {', '.join(sorted(unknown))}.")
    backend = _backend(app, options.pop("backend", None))
    csrf = options.pop("csrf", True)
    key: list[str] = []

    def resolve_key() -> str:
        if not key:
            key.append(secret_key_for(app))
        return key[0]

    app.on_startup(resolve_key)  # no key in production: the app refuses to start
    app.on_startup(backend.check)
    app.on_shutdown(backend.close)
    if csrf is not False:
        from nightowl.sessions.csrf import CSRFMiddleware

        csrf_options = dict(csrf) if isinstance(csrf, Mapping) else {}
        csrf_options.setdefault("max_body_size", app.max_body_size)
        app.add_middleware(CSRFMiddleware, router=app, **csrf_options)
    app.add_middleware(SessionMiddleware, backend=backend, secret_key=resolve_key, **options)
    app.provide(HTTPSession, _session_of)
    _ENABLED[app] = backend


def sessions_enabled(app: App) -> bool:
    """Whether :func:`install` has turned sessions on for ``app``."""
    return app in _ENABLED


def session_backend(app: App) -> SessionBackend | None:
    """Where ``app`` keeps its sessions (``None`` when sessions are off): a battery asks
    it to read a row with each session through :meth:`SessionBackend.join`."""
    return _ENABLED.get(app)


def configure_secret_key(app: App, value: Any) -> None:
    """Check ``App(secret_key=...)`` (kept in ``app.config``, read by :func:`secret_key_for`),
    and turn sessions and CSRF protection on, unless ``App(sessions=...)`` is given too:
    an app with a key gets ``request.session`` and ``csrf_input()`` without asking."""
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if not isinstance(value, str) or len(value) < 16:
        raise ImproperlyConfigured(
            "The secret key (App(secret_key=...) or SECRET_KEY) must be a string of at least "
            "16 characters; "
            'generate one with python -c "import secrets; print(secrets.token_urlsafe(48))".'
        )
    if "sessions" not in app.config:
        install(app, True)


def _session_of(request: Request) -> HTTPSession:
    session: HTTPSession = request.session
    return session


def __getattr__(name: str) -> Any:
    # Deprecated: two public classes were called Session (this one and nightowl.db's).
    if name == "Session":
        import warnings

        warnings.warn(
            "nightowl.sessions.Session is now nightowl.sessions.HTTPSession (nightowl.db.Session "
            "is SQLAlchemy's); the old name goes away in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return HTTPSession
    raise AttributeError(f"module 'nightowl.sessions' has no attribute {name!r}")
