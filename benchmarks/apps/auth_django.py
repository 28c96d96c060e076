"""Django session auth: ``GET /me/`` behind ``@login_required``.

``django.contrib.auth`` and ``django.contrib.sessions`` (sessions in PostgreSQL, the
default database engine), ``SessionMiddleware`` and ``AuthenticationMiddleware`` only
(no CSRF, common or security middleware: the least Django needs), a plain ``def`` view
as most Django code is written, persistent connections (``CONN_MAX_AGE``), through
Django's ``ASGIHandler``. Django has no bearer tokens or API keys of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

NOTES = (
    "Django ASGIHandler, Session+Authentication middleware, DB sessions (psycopg), "
    "def view + @login_required"
)
LIFESPAN = False
PASSWORD = "correct horse battery staple"


def _configure(url: str) -> None:
    import django
    from django.conf import settings

    rest = url.partition("://")[2]
    credentials, _, location = rest.rpartition("@")
    user = credentials.partition(":")[0] or "postgres"
    host_port, _, name = location.partition("/")
    host, _, port = host_port.partition(":")
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-secret-key-not-for-production-use",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": name,
                "USER": user,
                "HOST": host,
                "PORT": port or "5432",
                "CONN_MAX_AGE": 600,
            }
        },
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # setup only
        USE_TZ=True,
    )
    django.setup(set_prefix=False)


urlpatterns: list[Any] = []


def build(url: str, pool_size: int) -> Any:
    """Django's ASGI application (settings configured once per process)."""
    from django.conf import settings

    if not settings.configured:
        _configure(url)
    from django.contrib.auth.decorators import login_required
    from django.core.handlers.asgi import ASGIHandler
    from django.http import HttpRequest, JsonResponse
    from django.urls import path

    @login_required
    def me(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"username": request.user.get_username()})

    urlpatterns[:] = [path("me", me)]
    return ASGIHandler()


def _setup_sync() -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_user("ada", "ada@example.com", PASSWORD)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()  # what django.contrib.auth.login() leaves in the session store
    assert session.session_key is not None
    return session.session_key


async def credentials(app: Any) -> dict[str, list[tuple[bytes, bytes]]]:
    """Migrate, create ``ada`` and a logged-in session (in a thread: the ORM is sync)."""
    key = await asyncio.to_thread(_setup_sync)
    return {"session": [(b"cookie", f"sessionid={key}".encode())]}


async def close(app: Any) -> None:
    """Close Django's connections."""
    from django.db import connections

    await asyncio.to_thread(connections.close_all)
