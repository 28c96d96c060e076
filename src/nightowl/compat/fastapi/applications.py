"""``fastapi.applications``: ``FastAPI``, a nightowl :class:`~nightowl.App` with FastAPI's
constructor, method names and error shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nightowl.app import App
from nightowl.compat.fastapi._format import FastAPIErrorFormat
from nightowl.compat.fastapi.middleware import Middleware
from nightowl.compat.fastapi.routing import FastAPIRouting
from nightowl.exceptions import ImproperlyConfigured
from nightowl.params import Depends

__all__ = ["FastAPI"]


class FastAPI(FastAPIRouting, App):
    """A nightowl app that speaks FastAPI: ``FastAPI(title=...)``, ``include_router``,
    ``add_api_route``, ``on_event``, ``middleware=[Middleware(...)]``,
    ``exception_handlers={...}``, and errors written as FastAPI writes them
    (``{"detail": ...}``, validation errors with ``type``, ``loc``, ``msg``, ``input``,
    ``ctx``).

    ::

        from nightowl.compat.fastapi import FastAPI

        app = FastAPI()

        @app.get("/items/{item_id}")
        def read_item(item_id: int, q: str | None = None):
            return {"item_id": item_id, "q": q}

    Every other argument is nightowl's ``App``'s (FastAPI names them the same); the
    error format can still be replaced with ``app.error_format``. Sessions and CSRF
    protection stay off unless ``sessions=`` turns them on, as FastAPI has neither.
    """

    def __init__(
        self,
        *,
        title: str = "FastAPI",
        version: str = "0.1.0",
        dependencies: Sequence[Depends] | None = None,
        servers: Sequence[Mapping[str, Any]] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, Callable[..., Any]] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("error_format", FastAPIErrorFormat())
        # FastAPI refuses a JSON body sent with no Content-Type unless told otherwise.
        options.setdefault("strict_content_type", True)
        # FastAPI has no sessions or CSRF checks; a templates/ folder nearby must not turn
        # them on (with a SECRET_KEY to find). App(sessions=True) still opts in.
        options.setdefault("sessions", False)
        super().__init__(
            title=title,
            version=version,
            dependencies=list(dependencies or ()),
            servers=list(servers or ()),
            **options,
        )
        for func in on_startup or ():
            self.on_startup(func)
        for func in on_shutdown or ():
            self.on_shutdown(func)
        for key, handler in (exception_handlers or {}).items():
            self.add_exception_handler(key, handler)
        # FastAPI lists middleware outermost first; nightowl adds the outermost last.
        for entry in reversed(list(middleware or ())):
            if entry.args:
                raise ImproperlyConfigured(
                    f"Middleware({entry.cls.__name__}, ...): give its options by keyword."
                )
            self.add_middleware(entry.cls, **entry.kwargs)

    def _add_event(self, event: str, func: Callable[..., Any]) -> None:
        (self.on_startup if event == "startup" else self.on_shutdown)(func)

    #: Where Swagger UI's OAuth2 login returns (for apps that serve their own docs page).
    swagger_ui_oauth2_redirect_url = "/docs/oauth2-redirect"

    @property
    def router(self) -> FastAPI:
        """The app itself: FastAPI keeps its routes on ``app.router``, nightowl on the app."""
        return self

    @property
    def openapi_schema(self) -> dict[str, Any] | None:
        """The OpenAPI document once built (FastAPI's cache attribute); set it to replace it."""
        return self._openapi

    @openapi_schema.setter
    def openapi_schema(self, document: dict[str, Any] | None) -> None:
        self._openapi = document
