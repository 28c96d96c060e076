"""``Admin(app)``: an admin site, its registry of models, its pages and its static files."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import jinja2

import nightowl.admin.models  # noqa: F401  (the audit log's table)
from nightowl.admin._options import ModelAdmin, admin_class
from nightowl.admin._views import Page, page_route, routes
from nightowl.admin_pages import admin_pages
from nightowl.datastructures import encode_header
from nightowl.exceptions import HTTPException, ImproperlyConfigured
from nightowl.requests import Request
from nightowl.responses import HTMLResponse

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = ["Admin"]

T = TypeVar("T")
HERE = Path(__file__).parent
#: A strict policy: the admin's pages run no inline script and load nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
#: The same, encoded once (each page sends them).
_SECURITY_RAW = [encode_header(name, value) for name, value in SECURITY_HEADERS.items()]
_LOADER_KEY = "_nightowl_admin_templates"


class Admin:
    """An admin site on ``app``: registered models get list, add, change, delete and
    history pages for staff users.

    ::

        admin = Admin(app)                           # /admin/, staff login required
        admin.register(Tag, search_fields=["name"])

        @admin.register(Post)
        class PostAdmin(ModelAdmin):
            list_display = ["title", "author", "published"]

    Args:
        app: the app; it needs the auth battery (``Auth(app)``) for users and permissions.
        path: where the site is served (``/admin``).
        title: the site's title, shown in every page's header.
        name: the prefix of the site's route names (``admin`` gives ``admin_index``,
            ``admin_changelist``...); give each site of an app its own.
    """

    def __init__(
        self, app: App, path: str = "/admin", *, title: str = "Administration", name: str = "admin"
    ) -> None:
        if getattr(app.state, "auth", None) is None:
            raise ImproperlyConfigured(
                "Admin(app) needs the auth battery for its users and permissions: "
                "call Auth(app) before Admin(app)."
            )
        if not path.startswith("/") or path.endswith("/") or len(path) < 2:
            raise ImproperlyConfigured(
                f"Admin(path=...) starts with '/' and does not end with one: {path!r}."
            )
        if not name.isidentifier():
            raise ImproperlyConfigured(f"Admin(name=...) is an identifier, not {name!r}.")
        sites: dict[str, Admin] | None = getattr(app.state, "admin_sites", None)
        if sites is None:
            sites = app.state.admin_sites = {}
        if name in sites:
            raise ImproperlyConfigured(
                f"An admin site named {name!r} exists already: Admin(app, name=...) must differ."
            )
        sites[name] = self
        self.app = app
        self.path = path
        self.title = title
        self.name = name
        self._registry: dict[tuple[str, str], ModelAdmin] = {}
        self.pages: list[Page] = []
        self._chosen: dict[tuple[str, ...], jinja2.Template] = {}
        self._install(app)
        # Pages other batteries contribute (the task battery's jobs page), now and later.
        admin_pages(app).add_site(self)

    # -- installing ---------------------------------------------------------------------------
    def _install(self, app: App) -> None:
        from nightowl.templating import templates_for

        database = app.state.database
        if "admin" not in database.battery_migrations:
            database.add_migrations("admin", HERE / "migrations" / "admin")
        templates = templates_for(app)
        if not templates.env.globals.get(_LOADER_KEY):
            templates.add_loader(jinja2.PackageLoader("nightowl.admin", "templates"))
            templates.env.globals[_LOADER_KEY] = True
        app.static(f"{self.path}/static", HERE / "static", name=f"{self.name}_static")
        app.include(routes(self))

    # -- the registry -------------------------------------------------------------------------
    def register(
        self, model: type[Any], admin_class_: type[ModelAdmin] | None = None, **options: Any
    ) -> Callable[[type[T]], type[T]]:
        """Show ``model`` in the admin, with options or a :class:`ModelAdmin` subclass.

        ::

            admin.register(Tag, search_fields=["name"])

            @admin.register(Post)
            class PostAdmin(ModelAdmin): ...

        A model is registered once per site; registering it again is an error.
        """
        from sqlalchemy import inspect as sa_inspect
        from sqlalchemy.exc import NoInspectionAvailable

        try:
            sa_inspect(model)
        except NoInspectionAvailable:
            raise ImproperlyConfigured(
                f"admin.register() takes a model class, not {model!r}."
            ) from None
        base = admin_class_ or ModelAdmin
        if not (isinstance(base, type) and issubclass(base, ModelAdmin)):
            raise ImproperlyConfigured(
                f"admin.register() takes a ModelAdmin subclass, not {base!r}."
            )
        model_admin = self._add(model, admin_class(base, options, model) if options else base)

        def decorate(cls: type[T]) -> type[T]:
            if not (isinstance(cls, type) and issubclass(cls, ModelAdmin)):
                raise ImproperlyConfigured(
                    f"@admin.register({model.__name__}) decorates a ModelAdmin subclass, not {cls!r}."
                )
            merged = admin_class(cls, options, model) if options else cls
            self._registry.pop(self._key(model_admin), None)
            self._add(model, merged)
            return cls

        return decorate

    @staticmethod
    def _key(model_admin: ModelAdmin) -> tuple[str, str]:
        return (model_admin.app_label, model_admin.model_name)

    def _add(self, model: type[Any], cls: type[ModelAdmin]) -> ModelAdmin:
        model_admin = cls(model, self)
        key = self._key(model_admin)
        if key in self._registry:
            raise ImproperlyConfigured(
                f"{model.__name__} is registered already on the {self.name!r} admin site."
            )
        self._registry[key] = model_admin
        return model_admin

    def unregister(self, model: type[Any]) -> None:
        """Take ``model`` out of the admin."""
        for key, model_admin in list(self._registry.items()):
            if model_admin.model is model:
                del self._registry[key]
                return
        raise ImproperlyConfigured(f"{model.__name__} is not registered on this admin site.")

    @property
    def registry(self) -> Mapping[tuple[str, str], ModelAdmin]:
        """The registered models' admins, by ``(app_label, model_name)``."""
        return dict(self._registry)

    def model_admin(self, app_label: str, model_name: str) -> ModelAdmin:
        """The admin of ``app_label.model_name``, or a 404."""
        found = self._registry.get((app_label, model_name))
        if found is None:
            raise HTTPException(404, f"No model {app_label}.{model_name} in this admin.")
        return found

    def admin_for(self, model: type[Any]) -> ModelAdmin | None:
        """The admin of ``model`` on this site, if it is registered."""
        for model_admin in self._registry.values():
            if model_admin.model is model:
                return model_admin
        return None

    # -- custom pages -------------------------------------------------------------------------
    def page(
        self, path: str, *, title: str, permission: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Add a page of your own to the site, listed on the index, staff only::

            @admin.page("/stats", title="Statistics")
            async def stats(request):
                return {"posts": 42}          # the template admin/page.html shows it

        The handler takes the request and returns a ``Response``, or a mapping of values
        for the template ``admin/page.html`` (``content`` as the page's text).
        ``permission`` (``"blog.view_post"``) is checked besides the staff flag.
        """
        if not path.startswith("/") or path.endswith("/"):
            raise ImproperlyConfigured(f"admin.page(path) starts with '/': {path!r}.")

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            page = Page(path, title, handler, permission)
            self.pages.append(page)
            self.app.include(page_route(self, page))
            return handler

        return decorate

    # -- URLs and rendering -------------------------------------------------------------------
    def url(self, *parts: Any) -> str:
        """A URL of the site: ``url("blog", "post", 3, "change")`` -> ``/admin/blog/post/3/change``."""
        from urllib.parse import quote

        return "/".join([self.path, *(quote(str(p), safe="") for p in parts)]) + (
            "" if parts else "/"
        )

    def render(
        self,
        request: Request,
        template: str | Sequence[str],
        context: Mapping[str, Any],
        status_code: int = 200,
        model_admin: ModelAdmin | None = None,
    ) -> HTMLResponse:
        """Render an admin template; per-model templates win (``admin/blog/post/change_list.html``,
        then ``admin/blog/change_list.html``, then ``admin/change_list.html``)."""
        from nightowl.templating import templates_for

        names = [template] if isinstance(template, str) else list(template)
        if model_admin is not None and isinstance(template, str):
            override = (model_admin.template_overrides or {}).get(template)
            label, model = model_admin.app_label, model_admin.model_name
            names = [
                *([override] if override else []),
                f"admin/{label}/{model}/{template}",
                f"admin/{label}/{template}",
                f"admin/{template}",
            ]
        elif isinstance(template, str):
            names = [f"admin/{template}"]
        page = self._template(templates_for(request.app).env, names)
        values = {"request": request, "site": self, "user": request.scope.get("user"), **context}
        response = HTMLResponse(page.render(values), status_code=status_code)
        response.raw_headers[:0] = _SECURITY_RAW
        return response

    def _template(self, env: jinja2.Environment, names: list[str]) -> jinja2.Template:
        """The first of ``names`` that exists. Remembered unless the templates reload
        (debug mode): each name that does not exist costs every loader a look on disk."""
        if env.auto_reload:
            return env.select_template(names)
        key = tuple(names)
        found = self._chosen.get(key)
        if found is None:
            found = self._chosen[key] = env.select_template(names)
        return found

    def __repr__(self) -> str:
        return f"<Admin {self.name} at {self.path}>"
