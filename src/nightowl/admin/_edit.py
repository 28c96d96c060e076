"""The object pages: add, change (read-only without the change permission), delete
and history. Each writes its log entry in the transaction of the change."""

from typing import Any
from urllib.parse import quote

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from nightowl.admin._actions import child_loaders, children_of, delete_objects
from nightowl.admin._forms import AdminForm
from nightowl.admin._history import diff, entries_for, log, snapshot
from nightowl.admin._inlines import InlineFormSet
from nightowl.admin._options import ModelAdmin, maybe_await
from nightowl.admin._protocol import SiteAPI
from nightowl.db import read_session
from nightowl.exceptions import HTTPException
from nightowl.requests import Request
from nightowl.responses import RedirectResponse, Response
from nightowl.routing import Router
from nightowl.sessions import flash

__all__ = ["add_routes", "get_object"]

_HIDDEN: dict[str, Any] = {"include_in_schema": False}


def _forbidden() -> HTTPException:
    return HTTPException(403, "You do not have permission to do this.")


async def get_object(
    model_admin: ModelAdmin, request: Request, session: Any, object_id: str, *loaders: Any
) -> Any:
    """The object ``object_id`` among the rows ``get_queryset`` allows, or a 404."""
    pk = model_admin.mapper.primary_key[0]
    try:
        key = pk.type.python_type(object_id)
    except (TypeError, ValueError):
        raise HTTPException(404, f"No {model_admin.name} with id {object_id!r}.") from None
    statement = _kept_statement(model_admin, loaders)
    if statement is None:
        statement = await maybe_await(model_admin.get_queryset(request))
        statement = statement.where(pk == bindparam(_KEY, type_=pk.type)).options(*loaders)
        _keep_statement(model_admin, loaders, statement)
    found = (await session.scalars(statement, {_KEY: key})).unique().first()
    if found is None:
        raise HTTPException(404, f"No {model_admin.name} with id {object_id!r}.")
    return found


#: The bound parameter of an object's key, and how many statements an admin keeps.
_KEY, _KEPT_STATEMENTS = "object_id", 8


def _kept_statement(model_admin: ModelAdmin, loaders: tuple[Any, ...]) -> Any | None:
    kept: dict[tuple[Any, ...], Any] = model_admin.__dict__.get("_object_statements", {})
    return kept.get(loaders)


def _keep_statement(model_admin: ModelAdmin, loaders: tuple[Any, ...], statement: Any) -> None:
    """Keep the object's query for the next request (a statement made once is compiled
    and keyed once) when ``get_queryset`` is the default one: an override may depend
    on the request. A few per admin, by loader options (made once per admin too)."""
    if "get_queryset" in model_admin.__dict__ or (
        type(model_admin).get_queryset is not ModelAdmin.get_queryset
    ):
        return
    kept = model_admin.__dict__.setdefault("_object_statements", {})
    if len(kept) < _KEPT_STATEMENTS:
        kept[loaders] = statement


def _formsets(model_admin: ModelAdmin) -> list[InlineFormSet]:
    return [InlineFormSet(inline) for inline in model_admin.inline_instances]


async def _bind_all(
    formsets: list[InlineFormSet], session: Any, request: Request, parent: Any
) -> bool:
    results = [await formset.bind(session, request, parent) for formset in formsets]
    return all(results)


def _m2m_loaders(form: AdminForm) -> list[Any]:
    model_admin = form.model_admin
    kept: list[Any] | None = model_admin.__dict__.get("_m2m_loaders")
    if kept is None:
        kept = [selectinload(getattr(model_admin.model, name)) for name in form.m2m]
        model_admin.__dict__["_m2m_loaders"] = kept
    return kept


def _page_loaders(form: AdminForm) -> list[Any]:
    """The change page's loaders: the many-to-many rows, and the row of each
    autocomplete field joined to the object's query (its select shows that row); made
    once per admin (loader options are immutable)."""
    model_admin = form.model_admin
    kept: list[Any] | None = model_admin.__dict__.get("_change_page_loaders")
    if kept is None:
        autocomplete = set(model_admin.autocomplete_fields)
        joined = [
            joinedload(getattr(model_admin.model, rel.key))
            for rel in form.fk.values()
            if rel.key in autocomplete
        ]
        kept = model_admin.__dict__["_change_page_loaders"] = [*_m2m_loaders(form), *joined]
    return kept


class _Pages:
    """The add, change, delete and history views of one site."""

    def __init__(self, site: SiteAPI) -> None:
        self.site = site

    def _urls(self, model_admin: ModelAdmin, obj: Any | None = None) -> dict[str, str]:
        # The model's URL (site.url quotes each part) is made once per admin.
        base: str | None = model_admin.__dict__.get("_pages_url")
        if base is None:
            base = self.site.url(model_admin.app_label, model_admin.model_name)
            model_admin.__dict__["_pages_url"] = base
        urls = {"list": base + "/", "add": base + "/add/"}
        if obj is not None:
            own = f"{base}/{quote(str(model_admin.pk_of(obj)), safe='')}/"
            for page in ("change", "delete", "history"):
                urls[page] = own + page + "/"
        return urls

    async def _show(
        self,
        request: Request,
        model_admin: ModelAdmin,
        session: Any,
        form: AdminForm,
        obj: Any | None,
        editable: bool,
        status_code: int = 200,
        formsets: list[InlineFormSet] | None = None,
    ) -> Response:
        verb = "Add" if obj is None else ("Change" if editable else "View")
        if formsets is None:
            formsets = _formsets(model_admin)
            for formset in formsets:
                await formset.load(session, request, obj)
        context = {
            "title": f"{verb} {model_admin.name}",
            "model_admin": model_admin,
            "form": form.form,
            "fieldsets": await form.fieldsets(session, obj),
            "obj": obj,
            "editable": editable,
            "adding": obj is None,
            "can_delete": obj is not None and await model_admin.has_delete_permission(request, obj),
            "urls": self._urls(model_admin, obj),
            "inlines": [formset.context() for formset in formsets],
        }
        return self.site.render(
            request, "change_form.html", context, status_code, model_admin=model_admin
        )

    async def add_page(self, request: Request, app_label: str, model_name: str) -> Response:
        model_admin = self.site.model_admin(app_label, model_name)
        if not await model_admin.has_add_permission(request):
            raise _forbidden()
        form = AdminForm(model_admin, adding=True)
        form.initial(request, None)
        async with self.site.app.state.database.async_session() as session:
            return await self._show(request, model_admin, session, form, None, True)

    async def add_submit(self, request: Request, app_label: str, model_name: str) -> Response:
        model_admin = self.site.model_admin(app_label, model_name)
        if not await model_admin.has_add_permission(request):
            raise _forbidden()
        form = AdminForm(model_admin, adding=True)
        formsets = _formsets(model_admin)
        async with self.site.app.state.database.async_session() as session:
            chosen = await form.bind(request, session)
            inlines_valid = await _bind_all(formsets, session, request, None)
            if form.valid and inlines_valid:
                obj = model_admin.model()
                form.apply(obj, chosen)
                session.add(obj)
                if await self._saved(session, form):
                    for formset in formsets:
                        await formset.save(session, obj)
                    if await self._saved(session, form):
                        log(session, request, model_admin, obj, "add", {})
                        await session.commit()
                        return await self._after_save(request, model_admin, obj, "added")
            return await self._show(request, model_admin, session, form, None, True, 422, formsets)

    async def _saved(self, session: Any, form: AdminForm) -> bool:
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            form.form.add_error(
                None, "A row with these values exists already, or a related row is missing."
            )
            return False
        return True

    async def _after_save(
        self, request: Request, model_admin: ModelAdmin, obj: Any, done: str
    ) -> Response:
        form = await request.form()
        urls = self._urls(model_admin, obj)
        name = f"The {model_admin.name} “{obj}”"
        if "_addanother" in form:
            flash(
                request,
                f"{name} was {done}. You may add another {model_admin.name} below.",
                "success",
            )
            return RedirectResponse(urls["add"], status_code=303)
        if "_continue" in form:
            flash(request, f"{name} was {done}. You may edit it again below.", "success")
            return RedirectResponse(urls["change"], status_code=303)
        flash(request, f"{name} was {done} successfully.", "success")
        return RedirectResponse(urls["list"], status_code=303)

    async def change_page(
        self, request: Request, app_label: str, model_name: str, object_id: str
    ) -> Response:
        model_admin = self.site.model_admin(app_label, model_name)
        form = AdminForm(model_admin, adding=False)
        # Reads only: outside a transaction, so no BEGIN and ROLLBACK round trips.
        async with read_session(self.site.app.state.database) as session:
            obj = await get_object(model_admin, request, session, object_id, *_page_loaders(form))
            if not await model_admin.has_view_permission(request, obj):
                raise _forbidden()
            editable = bool(await model_admin.has_change_permission(request, obj))
            form.initial(request, obj)
            return await self._show(request, model_admin, session, form, obj, editable)

    async def change_submit(
        self, request: Request, app_label: str, model_name: str, object_id: str
    ) -> Response:
        model_admin = self.site.model_admin(app_label, model_name)
        form = AdminForm(model_admin, adding=False)
        async with self.site.app.state.database.async_session() as session:
            obj = await get_object(model_admin, request, session, object_id, *_m2m_loaders(form))
            if not await model_admin.has_change_permission(request, obj):
                raise _forbidden()
            chosen = await form.bind(request, session)
            formsets = _formsets(model_admin)
            inlines_valid = await _bind_all(formsets, session, request, obj)
            if form.valid and inlines_valid:
                relations = tuple(form.m2m)
                before = snapshot(obj, relations)
                form.apply(obj, chosen)
                changes = diff(before, snapshot(obj, relations))
                for formset in formsets:
                    changes.update(await formset.save(session, obj))
                if await self._saved(session, form):
                    log(session, request, model_admin, obj, "change", changes)
                    await session.commit()
                    return await self._after_save(request, model_admin, obj, "changed")
                obj = await get_object(
                    model_admin, request, session, object_id, *_m2m_loaders(form)
                )
            return await self._show(request, model_admin, session, form, obj, True, 422, formsets)

    async def delete_page(
        self, request: Request, app_label: str, model_name: str, object_id: str
    ) -> Response:
        model_admin = self.site.model_admin(app_label, model_name)
        async with self.site.app.state.database.async_session() as session:
            obj = await get_object(
                model_admin, request, session, object_id, *child_loaders(model_admin)
            )
            if not await model_admin.has_delete_permission(request, obj):
                raise _forbidden()
            if request.method == "POST":
                await delete_objects(session, request, model_admin, [obj])
                await session.commit()
                flash(request, f"The {model_admin.name} “{obj}” was deleted.", "success")
                return RedirectResponse(self._urls(model_admin)["list"], status_code=303)
            context = {
                "title": "Are you sure?",
                "model_admin": model_admin,
                "obj": obj,
                "related": children_of(model_admin, obj),
                "urls": self._urls(model_admin, obj),
            }
            return self.site.render(
                request, "delete_confirmation.html", context, model_admin=model_admin
            )

    async def history_page(
        self, request: Request, app_label: str, model_name: str, object_id: str
    ) -> Response:
        model_admin = self.site.model_admin(app_label, model_name)
        async with self.site.app.state.database.async_session() as session:
            obj = await get_object(model_admin, request, session, object_id)
            if not await model_admin.has_view_permission(request, obj):
                raise _forbidden()
            entries = await entries_for(session, model_admin, str(model_admin.pk_of(obj)))
        context = {
            "title": f"Change history: {obj}",
            "model_admin": model_admin,
            "obj": obj,
            "entries": entries,
            "urls": self._urls(model_admin, obj),
        }
        return self.site.render(request, "object_history.html", context, model_admin=model_admin)


def add_routes(site: SiteAPI, router: Router, staff: Any) -> None:
    """Add the object pages to the site's router; ``staff`` is the staff-user annotation."""
    pages = _Pages(site)
    name = site.name
    model = "/{app_label}/{model_name}"
    obj = model + "/{object_id}"

    async def add_page(request: Request, user: staff, app_label: str, model_name: str) -> Response:
        return await pages.add_page(request, app_label, model_name)

    async def add_submit(
        request: Request, user: staff, app_label: str, model_name: str
    ) -> Response:
        return await pages.add_submit(request, app_label, model_name)

    async def change_page(
        request: Request, user: staff, app_label: str, model_name: str, object_id: str
    ) -> Response:
        return await pages.change_page(request, app_label, model_name, object_id)

    async def change_submit(
        request: Request, user: staff, app_label: str, model_name: str, object_id: str
    ) -> Response:
        return await pages.change_submit(request, app_label, model_name, object_id)

    async def delete(
        request: Request, user: staff, app_label: str, model_name: str, object_id: str
    ) -> Response:
        return await pages.delete_page(request, app_label, model_name, object_id)

    async def history(
        request: Request, user: staff, app_label: str, model_name: str, object_id: str
    ) -> Response:
        return await pages.history_page(request, app_label, model_name, object_id)

    router.get(model + "/add/", name=f"{name}_add", **_HIDDEN)(add_page)
    router.post(model + "/add/", name=f"{name}_add_post", **_HIDDEN)(add_submit)
    router.get(obj + "/change/", name=f"{name}_change", **_HIDDEN)(change_page)
    router.post(obj + "/change/", name=f"{name}_change_post", **_HIDDEN)(change_submit)
    router.get(obj + "/delete/", name=f"{name}_delete", **_HIDDEN)(delete)
    router.post(obj + "/delete/", name=f"{name}_delete_post", **_HIDDEN)(delete)
    router.get(obj + "/history/", name=f"{name}_history", **_HIDDEN)(history)
