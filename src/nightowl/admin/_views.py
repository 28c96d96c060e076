"""The admin's routes: the index and the change list (with its actions); the object
pages are in :mod:`nightowl.admin._edit`.

Every route depends on an active staff user (others are sent to the login page, with
``next``), then checks the model permission the page needs (a 403 otherwise). A GET
never changes data; every form carries the CSRF token the sessions battery checks.
"""

from collections.abc import Callable
from typing import Annotated, Any

from nightowl.admin._changelist import ChangeList
from nightowl.admin._filters import BadParameter
from nightowl.admin._options import ModelAdmin, maybe_await
from nightowl.admin._protocol import SiteAPI
from nightowl.auth import NotAuthenticated, current_user
from nightowl.db import read_session
from nightowl.exceptions import HTTPException
from nightowl.params import Depends
from nightowl.requests import Request
from nightowl.responses import JSONResponse, Response
from nightowl.routing import Router

__all__ = [
    "Staff",
    "change_list",
    "forbidden",
    "page_route",
    "routes",
    "staff_user",
    "visible_models",
]


async def staff_user(request: Request, user: Annotated[Any, Depends(current_user)]) -> Any:
    """The request's user when active and staff; else the login page (browsers) or a 401."""
    if user is None or not user.is_active or not user.is_staff:
        raise NotAuthenticated("Staff only: log in with a staff account.")
    return user


#: The annotation of the staff user every admin route depends on.
Staff = Annotated[Any, Depends(staff_user)]


class Page:
    """A custom page of an admin site (:meth:`Admin.page`)."""

    def __init__(self, path: str, title: str, handler: Callable[..., Any], permission: str | None):
        self.path = path
        self.title = title
        self.handler = handler
        self.permission = permission


_HIDDEN: dict[str, Any] = {"include_in_schema": False}


def forbidden() -> HTTPException:
    """The 403 of a page or a change the user has no permission for."""
    return HTTPException(403, "You do not have permission to do this.")


async def visible_models(site: SiteAPI, request: Request) -> list[dict[str, Any]]:
    """The apps and models the user may see, for the index and the navigation."""
    apps: dict[str, list[dict[str, Any]]] = {}
    for (label, _), model_admin in sorted(site.registry.items()):
        if not await model_admin.has_view_permission(request):
            continue
        can_add = await model_admin.has_add_permission(request)
        apps.setdefault(label, []).append(
            {
                "name": model_admin.name_plural.capitalize(),
                "url": site.url(label, model_admin.model_name) + "/",
                "add_url": site.url(label, model_admin.model_name, "add") + "/"
                if can_add
                else None,
            }
        )
    return [{"label": label, "models": models} for label, models in apps.items()]


async def _index(site: SiteAPI, request: Request) -> Response:
    from nightowl.admin._history import recent_actions

    apps = await visible_models(site, request)
    pages = []
    for page in site.pages:
        if await _may_open(request, page):
            pages.append({"title": page.title, "url": site.path + page.path})
    recent = await recent_actions(site, request)
    context = {"title": site.title, "apps": apps, "pages": pages, "recent": recent}
    return site.render(request, "index.html", context)


async def _may_open(request: Request, page: Page) -> bool:
    if page.permission is None:
        return True
    user = request.scope.get("user")
    return bool(await request.app.state.auth.has_permission(user, page.permission))


async def change_list(site: SiteAPI, model_admin: ModelAdmin, request: Request) -> Response:
    """The change list page of one model."""
    if not await model_admin.has_view_permission(request):
        raise forbidden()
    try:
        changes = ChangeList(model_admin, request)
        # Reads only: outside a transaction, so no BEGIN and ROLLBACK round trips.
        async with read_session(site.app.state.database) as session:
            await changes.load(session)
            filters = []
            for list_filter in changes.filters:
                choices = await list_filter.choices(session, changes.filter_values)
                links = [(c.text, changes.url(**c.params), c.selected) for c in choices]
                filters.append({"title": list_filter.title, "links": links})
    except BadParameter as exc:
        raise HTTPException(400, str(exc)) from None
    from nightowl.admin._actions import available_actions

    actions = await available_actions(model_admin, request)
    context = {
        "title": f"Select {model_admin.name} to change",
        "model_admin": model_admin,
        "cl": changes,
        "filters": filters,
        "actions": actions,
        "can_add": await model_admin.has_add_permission(request),
        "base_url": site.url(model_admin.app_label, model_admin.model_name),
    }
    return site.render(request, "change_list.html", context, model_admin=model_admin)


def routes(site: SiteAPI) -> Router:
    """The router of one admin site."""
    from nightowl.admin import _actions, _autocomplete, _edit, _export, _import

    router = Router(prefix=site.path)
    name = site.name

    async def index(request: Request, user: Staff) -> Response:
        return await _index(site, request)

    async def list_page(request: Request, user: Staff, app_label: str, model_name: str) -> Response:
        return await change_list(site, site.model_admin(app_label, model_name), request)

    async def list_submit(
        request: Request, user: Staff, app_label: str, model_name: str
    ) -> Response:
        model_admin = site.model_admin(app_label, model_name)
        return await _actions.run_action(site, model_admin, request)

    async def export_csv(
        request: Request, user: Staff, app_label: str, model_name: str
    ) -> Response:
        model_admin = site.model_admin(app_label, model_name)
        return await _export.export(site, model_admin, request, "csv")

    async def export_json(
        request: Request, user: Staff, app_label: str, model_name: str
    ) -> Response:
        model_admin = site.model_admin(app_label, model_name)
        return await _export.export(site, model_admin, request, "json")

    async def autocomplete(
        request: Request, user: Staff, app_label: str, model_name: str, field: str
    ) -> Response:
        model_admin = site.model_admin(app_label, model_name)
        return await _autocomplete.autocomplete(site, model_admin, request, field)

    async def import_rows(
        request: Request, user: Staff, app_label: str, model_name: str
    ) -> Response:
        return await _import.import_page(site, site.model_admin(app_label, model_name), request)

    router.get("/", name=f"{name}_index", **_HIDDEN)(index)
    model = "/{app_label}/{model_name}"
    router.get(model + "/import/", name=f"{name}_import", **_HIDDEN)(import_rows)
    router.post(model + "/import/", name=f"{name}_import_post", **_HIDDEN)(import_rows)
    router.get(
        "/{app_label}/{model_name}/autocomplete/{field}/",
        name=f"{name}_autocomplete",
        **_HIDDEN,
    )(autocomplete)
    router.get(model + "/export.csv", name=f"{name}_export_csv", **_HIDDEN)(export_csv)
    router.get(model + "/export.json", name=f"{name}_export_json", **_HIDDEN)(export_json)
    router.get("/{app_label}/{model_name}/", name=f"{name}_changelist", **_HIDDEN)(list_page)
    router.post("/{app_label}/{model_name}/", name=f"{name}_changelist_post", **_HIDDEN)(
        list_submit
    )
    _edit.add_routes(site, router, Staff)
    return router


def page_route(site: SiteAPI, page: Page) -> Router:
    """The route of a custom page (:meth:`Admin.page`)."""
    router = Router(prefix=site.path)

    async def custom(request: Request, user: Staff) -> Response:
        if not await _may_open(request, page):
            raise forbidden()
        result = await maybe_await(page.handler(request))
        if isinstance(result, Response):
            return result
        if not isinstance(result, dict):
            return JSONResponse(
                {"detail": "A custom admin page returns a dict or a Response."}, 500
            )
        return site.render(request, "page.html", {"title": page.title, **result})

    router.get(page.path, name=f"{site.name}_page_{page.handler.__name__}", **_HIDDEN)(custom)
    return router
