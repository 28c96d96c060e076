"""Django fortunes page from in-memory rows: a minimal Django ASGI app.

``django.conf.settings.configure(...)`` in the benchmark process: no apps, no middleware,
no database, the Django template engine (cached loader) reading ``templates/``, and an
``async def`` view calling ``django.shortcuts.render``. The request goes through Django's
``ASGIHandler`` (request object, URL resolver, signals, response), like under a server.
Django does not speak the ASGI lifespan protocol, so there is none (``LIFESPAN = False``).
:func:`render_only` is the template engine alone, for the render-only table.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

import django
from django.conf import settings

from apps.techempower import ADDITIONAL_FORTUNE, FORTUNE_ROWS, TEMPLATES_DIR, Fortune

NOTES = "Django ASGIHandler, no middleware, async def view + django.shortcuts.render."
LIFESPAN = False
_by_message = attrgetter("message")


def _configure() -> None:
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-secret-key-not-for-production-use",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        DATABASES={},
        USE_TZ=True,
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [str(TEMPLATES_DIR)],
                "OPTIONS": {
                    "loaders": [
                        (
                            "django.template.loaders.cached.Loader",
                            ["django.template.loaders.filesystem.Loader"],
                        )
                    ]
                },
            }
        ],
    )
    django.setup(set_prefix=False)


_configure()

from django.http import HttpRequest, HttpResponse  # noqa: E402  (needs settings)
from django.shortcuts import render  # noqa: E402
from django.urls import path  # noqa: E402


async def fortunes(request: HttpRequest) -> HttpResponse:
    """The fortunes page."""
    rows = list(FORTUNE_ROWS)
    rows.append(Fortune(0, ADDITIONAL_FORTUNE))
    rows.sort(key=_by_message)
    return render(request, "fortunes.html", {"fortunes": rows})


urlpatterns = [path("fortunes", fortunes)]


def build() -> Any:
    """Django's ASGI application."""
    from django.core.handlers.asgi import ASGIHandler

    return ASGIHandler()


async def close(app: Any) -> None:
    """Nothing to close."""


def render_only() -> Callable[[list[Fortune]], str]:
    """Render ``fortunes.html`` with the Django template engine alone (no request)."""
    from django.template import engines

    template = engines["django"].get_template("fortunes.html")
    return lambda rows: template.render({"fortunes": rows})
