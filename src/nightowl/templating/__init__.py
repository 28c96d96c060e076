"""Server-rendered HTML with Jinja2: ``render("page.html", request, **context)``.

::

    from nightowl import App, Request, render

    app = App(templates="templates")            # a templates/ folder next to the app by default

    @app.get("/")
    def home(request: Request):
        return render("home.html", request, title="Welcome")

Browsers get HTML error pages from the templates ``404.html``, ``500.html``... when
they exist. Autoescaping is on. Every template sees ``request``, ``url_for(name, **params)``,
``static_url(path)``, ``csrf_input()``, ``csrf_token()`` and ``get_flashed_messages()``.
``render(..., block="results")`` renders a single block, for htmx-style partial updates.
Jinja2 is imported only when this module is.
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from nightowl.exceptions import HTTPException, ImproperlyConfigured
from nightowl.requests import Request
from nightowl.responses import HTMLResponse
from nightowl.sessions import flash, get_flashed_messages
from nightowl.templating._uses import uses_sessions

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = [
    "Templates",
    "flash",
    "install",
    "render",
    "render_block",
    "render_error_page",
    "templates_for",
]

_TEMPLATES: weakref.WeakKeyDictionary[App, Templates] = weakref.WeakKeyDictionary()


class Templates:
    """A Jinja2 environment wired to nightowl: autoescaping, loaders, and the page helpers.

    Args:
        directory: one folder or several, searched in order.
        loader: any Jinja2 loader instead (``jinja2.DictLoader({...})`` for inline templates).
        packages: packages whose ``templates/`` folder is searched after the folders
            (how a battery ships its own pages).
        auto_reload: check the template files for changes at every render. ``None``
            (the default) follows the app's ``debug`` flag: a changed template shows at
            the next request in debug mode, while in production each template is read
            once and never looked up on disk again.
        **env_options: more ``jinja2.Environment`` options (``trim_blocks=True``...).

    ``templates.env`` is the environment: add filters and globals to it.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
        *,
        loader: jinja2.BaseLoader | None = None,
        packages: Iterable[str] = (),
        auto_reload: bool | None = None,
        **env_options: Any,
    ) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if loader is not None:
            loaders.append(loader)
        if directory is not None:
            folders = [directory] if isinstance(directory, (str, os.PathLike)) else list(directory)
            loaders.append(jinja2.FileSystemLoader([os.fspath(f) for f in folders]))
        loaders.extend(jinja2.PackageLoader(package, "templates") for package in packages)
        self._loaders = loaders
        env_options.setdefault(
            "autoescape", jinja2.select_autoescape(default_for_string=True, default=True)
        )
        #: ``auto_reload`` as given: ``None`` follows the app's ``debug`` flag.
        self.auto_reload = auto_reload
        env_options["auto_reload"] = True if auto_reload is None else auto_reload
        self.env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), **env_options)
        self.env.globals.update(
            url_for=_url_for,
            static_url=_static_url,
            csrf_input=_csrf_input,
            csrf_token=_csrf_token,
            get_flashed_messages=_flashed,
        )

    def add_loader(self, loader: jinja2.BaseLoader) -> None:
        """Search ``loader`` too, after the others (a battery's templates)."""
        self._loaders.append(loader)

    def add_directory(self, directory: str | os.PathLike[str]) -> None:
        """Search ``directory`` too, after the others."""
        self.add_loader(jinja2.FileSystemLoader(os.fspath(directory)))

    def get_template(self, name: str) -> jinja2.Template:
        """Load (and cache) the template called ``name``.

        Raises:
            jinja2.TemplateNotFound: with the folders searched in its message.
        """
        try:
            return self.env.get_template(name)
        except jinja2.TemplateNotFound as exc:
            if exc.name != name:  # an {% extends %} or {% include %} inside it: Jinja2's own
                raise
            raise jinja2.TemplateNotFound(
                name, f"Template {name!r} not found; searched: {self.searched()}."
            ) from None

    def searched(self) -> str:
        """The folders (and packages) templates are looked for in, for messages."""
        places: list[str] = []
        for loader in self._loaders:
            if isinstance(loader, jinja2.FileSystemLoader):
                places.extend(os.path.abspath(folder) for folder in loader.searchpath)
            elif isinstance(loader, jinja2.PackageLoader):
                places.append(f"{loader.package_name}/{loader.package_path} (package)")
            else:
                places.append(type(loader).__name__)
        return ", ".join(places) or "no folders"

    def render_string(
        self, name: str, request: Request | None, context: Mapping[str, Any], block: str | None
    ) -> str:
        """Render ``name`` (or just its ``block``) to a string."""
        template = self.get_template(name)
        values = {"request": request, **context}
        if block is None:
            return template.render(values)
        render_function = template.blocks.get(block)
        if render_function is None:
            raise KeyError(f"Template {name!r} has no block {block!r}.")
        return "".join(render_function(template.new_context(values)))

    def response(
        self,
        name: str,
        request: Request | None,
        context: Mapping[str, Any],
        *,
        block: str | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> HTMLResponse:
        """An HTML response with the rendered template."""
        body = self.render_string(name, request, context, block)
        return HTMLResponse(body, status_code=status_code, headers=headers, media_type=media_type)


def install(app: App, value: Any) -> None:
    """The ``App(templates=...)`` option: a folder, a list of folders, a Jinja2 loader or :class:`Templates`.

    Also turns on sessions (and CSRF protection) when a template uses them
    (``csrf_input()``, flash messages, ``request.session``: see
    :mod:`nightowl.templating._uses`), unless ``App(sessions=...)`` is given too.
    """
    if isinstance(value, Templates):
        templates = value
    elif isinstance(value, jinja2.BaseLoader):
        templates = Templates(loader=value)
    elif isinstance(value, (str, os.PathLike, list, tuple)):
        templates = Templates(value)
    else:
        raise ImproperlyConfigured(
            f"App(templates=...) takes a folder, a list of folders, a Jinja2 loader or "
            f"a Templates object, not {value!r}."
        )
    _TEMPLATES[app] = templates
    if app.error_page_renderer is not None:
        app.error_page_renderer = render_error_page
    if "sessions" not in app.config and uses_sessions(templates.env):
        from nightowl.sessions import install as install_sessions

        install_sessions(app, True)


def templates_for(app: App) -> Templates:
    """The app's :class:`Templates`; without ``App(templates=...)``, the ``templates/`` folder
    next to the main script, or else in the working directory.

    Unless the templates were given ``auto_reload``, their files are checked for changes
    only while the app is in debug mode (the flag may change after startup:
    ``app.run(debug=True)``).
    """
    templates = _TEMPLATES.get(app)
    if templates is None:
        folders = []
        main = getattr(sys.modules.get("__main__"), "__file__", None)
        if main:
            folders.append(Path(main).resolve().parent / "templates")
        folders.append(Path.cwd() / "templates")
        templates = _TEMPLATES[app] = Templates([f for f in folders if f.is_dir()] or folders[-1:])
    if templates.auto_reload is None:
        templates.env.auto_reload = app.debug
    return templates


def render(
    template: str,
    request: Request,
    context: Mapping[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render a template of the request's app into an HTML response.

    ::

        return render("users/list.html", request, users=users)
        return render("users/list.html", request, block="rows", users=users)   # htmx partial

    Args:
        template: the template's name in the app's template folders.
        request: the current request (templates see it as ``request``).
        context, **values: the template's variables.
        block: render only this ``{% block %}``.
        status_code, headers: of the response (422 for a form shown again with errors).
    """
    merged = {**(context or {}), **values}
    return templates_for(request.app).response(
        template, request, merged, block=block, status_code=status_code, headers=headers
    )


def render_block(
    template: str,
    block: str,
    request: Request,
    context: Mapping[str, Any] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render one ``{% block %}`` of a template (``render(..., block=block)``)."""
    return render(template, request, context, block=block, **values)


def render_error_page(request: Request, exc: HTTPException) -> HTMLResponse | None:
    """The HTML error page for browsers from the template ``<status>.html`` (``404.html``,
    ``403.html``, ``500.html``...), or ``None`` (the built-in page) when there is none.

    ``App(templates=...)`` makes it the app's :attr:`~nightowl.App.error_page_renderer`.
    The template sees ``status_code``, ``title``, ``detail`` and ``errors`` (the
    validation errors of a 422) besides the usual helpers.
    """
    templates = templates_for(request.app)
    try:
        template = templates.get_template(f"{exc.status_code}.html")
    except jinja2.TemplateNotFound:
        return None
    context = {
        "request": request,
        "status_code": exc.status_code,
        "title": exc.title,
        "detail": exc.detail,
        "errors": (exc.extra or {}).get("errors", []),
    }
    return HTMLResponse(template.render(context), status_code=exc.status_code)


# -- template globals: they find the request in the template's context ----------------------------


def _request_of(context: Any) -> Request:
    request = context.get("request")
    if request is None:
        raise RuntimeError("This template helper needs the request: render(name, request, ...).")
    return request  # type: ignore[no-any-return]


@jinja2.pass_context
def _url_for(context: Any, name: str, /, **params: Any) -> str:
    return _request_of(context).url_for(name, **params)


@jinja2.pass_context
def _static_url(context: Any, path: str) -> str:
    return _request_of(context).url_for("static", path=path.lstrip("/"))


@jinja2.pass_context
def _csrf_token(context: Any) -> str:
    from nightowl.sessions.csrf import get_csrf_token

    return get_csrf_token(_request_of(context))


@jinja2.pass_context
def _csrf_input(context: Any) -> Markup:
    token = escape(_csrf_token(context))
    return Markup(f'<input type="hidden" name="csrf_token" value="{token}">')


@jinja2.pass_context
def _flashed(
    context: Any, with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[Any]:
    return get_flashed_messages(
        _request_of(context), with_categories=with_categories, category_filter=category_filter
    )
