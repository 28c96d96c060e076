"""Actions on the rows selected in the change list: ``delete_selected`` (with a
confirmation page listing the related rows deleted with them) and the admin's own.

The action's permissions are checked on the model, then on each selected row
(``has_change_permission(request, obj)``...): one refused row refuses the action (403).

An action receives ``(request, queryset)``: a :class:`QuerySet` of the selected rows
that the admin's ``get_queryset`` allows, in one transaction committed afterwards.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipProperty, selectinload

from nightowl.admin._history import diff, log, snapshot
from nightowl.admin._options import ModelAdmin, action, maybe_await
from nightowl.admin._protocol import SiteAPI
from nightowl.exceptions import HTTPException
from nightowl.responses import RedirectResponse, Response
from nightowl.sessions import flash

if TYPE_CHECKING:
    from nightowl.requests import Request

__all__ = [
    "QuerySet",
    "SyncQuerySet",
    "available_actions",
    "children_of",
    "delete_objects",
    "run_action",
]


class _Selection:
    """The selected rows of an action."""

    def __init__(
        self, model_admin: ModelAdmin, request: Request, session: Any, objects: list[Any]
    ) -> None:
        self.model_admin = model_admin
        self.request = request
        self.session = session
        self.objects = objects
        self.action_name = ""

    def __iter__(self) -> Iterator[Any]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.objects)

    def _set(self, values: dict[str, Any]) -> int:
        changed = 0
        for obj in self.objects:
            before = snapshot(obj)
            for key, value in values.items():
                setattr(obj, key, value)
            changes = diff(before, snapshot(obj))
            if changes:
                changed += 1
                log(self.session, self.request, self.model_admin, obj, self.action_name, changes)
        return changed


class QuerySet(_Selection):
    """The rows an ``async def`` action runs on: iterate it, or change them all with
    :meth:`update`, each change written to the history.

    Attributes:
        objects: the selected model instances.
        session: the ``AsyncSession`` they were loaded in (committed after the action).
    """

    async def update(self, **values: Any) -> int:
        """Set ``values`` on every row (``await queryset.update(published=True)``); returns
        how many rows changed."""
        changed = self._set(values)
        await self.session.flush()
        return changed

    async def delete(self) -> int:
        """Delete every row (and its one-to-many children); returns how many."""
        return await delete_objects(self.session, self.request, self.model_admin, self.objects)


class SyncQuerySet(_Selection):
    """The rows a plain ``def`` action runs on, with a sync ``Session`` (the action runs
    in SQLAlchemy's bridge, so it may query and lazy-load like any sync code).

    Attributes:
        objects: the selected model instances.
        session: a sync ``Session`` (committed after the action).
    """

    def update(self, **values: Any) -> int:
        """Set ``values`` on every row (``queryset.update(published=True)``); returns how
        many rows changed."""
        changed = self._set(values)
        self.session.flush()
        return changed

    def delete(self) -> int:
        """Delete every row (and its one-to-many children); returns how many."""
        for obj in self.objects:
            log(self.session, self.request, self.model_admin, obj, "delete", {})
            for _, child in children_of(self.model_admin, obj):
                self.session.delete(child)
            self.session.delete(obj)
        self.session.flush()
        return len(self.objects)


def _one_to_many(model_admin: ModelAdmin) -> list[RelationshipProperty[Any]]:
    return [
        rel
        for rel in sa_inspect(model_admin.model).relationships
        if rel.uselist and rel.secondary is None
    ]


def children_of(model_admin: ModelAdmin, obj: Any) -> list[tuple[str, Any]]:
    """``(model name, row)`` of the rows deleted with ``obj`` (its one-to-many children,
    loaded beforehand with :func:`child_loaders`)."""
    out = []
    for rel in _one_to_many(model_admin):
        for child in getattr(obj, rel.key):
            out.append((rel.mapper.class_.__name__, child))
    return out


def child_loaders(model_admin: ModelAdmin) -> list[Any]:
    """``selectinload`` of the relationships :func:`children_of` reads."""
    mapper = sa_inspect(model_admin.model)
    names = [rel.key for rel in _one_to_many(model_admin)]
    names += [rel.key for rel in mapper.relationships if rel.secondary is not None]
    return [selectinload(getattr(model_admin.model, name)) for name in names]


async def delete_objects(
    session: Any, request: Request, model_admin: ModelAdmin, objects: list[Any]
) -> int:
    """Delete ``objects`` with their one-to-many children, logging each object."""
    for obj in objects:
        log(session, request, model_admin, obj, "delete", {})
        for _, child in children_of(model_admin, obj):
            await session.delete(child)
        await session.delete(obj)
    await session.flush()
    return len(objects)


@action(description="Delete selected {plural}", permissions=("delete",))
async def delete_selected(model_admin: ModelAdmin, request: Request, queryset: QuerySet) -> Any:
    """The built-in action: a confirmation page, then the deletion (on ``post=yes``)."""
    form = await request.form()
    if form.get("post") != "yes":
        site = model_admin.admin
        items = [(obj, children_of(model_admin, obj)) for obj in queryset]
        context = {
            "title": "Are you sure?",
            "model_admin": model_admin,
            "items": items,
            "selected": [str(model_admin.pk_of(obj)) for obj in queryset],
            "action_name": "delete_selected",
            "base_url": site.url(model_admin.app_label, model_admin.model_name),
        }
        return site.render(
            request, "delete_selected_confirmation.html", context, model_admin=model_admin
        )
    count = await queryset.delete()
    flash(
        request,
        f"Deleted {count} {model_admin.name_plural if count != 1 else model_admin.name}.",
        "success",
    )
    return None


def _resolve(
    model_admin: ModelAdmin, entry: Any
) -> tuple[str, Callable[..., Any], str, tuple[str, ...]]:
    if entry == "delete_selected":
        function: Callable[..., Any] = delete_selected
        name = "delete_selected"
        bound = lambda request, queryset: delete_selected(model_admin, request, queryset)  # noqa: E731
    elif isinstance(entry, str):
        function = getattr(model_admin, entry)
        name = entry
        bound = function
    else:
        function = entry
        name = entry.__name__
        bound = lambda request, queryset: entry(model_admin, request, queryset)  # noqa: E731
    description = (
        getattr(function, "short_description", None) or name.replace("_", " ").capitalize()
    )
    description = description.format(plural=model_admin.name_plural)
    permissions = tuple(getattr(function, "allowed_permissions", ("change",)))
    return name, bound, description, permissions


def _is_async(model_admin: ModelAdmin, entry: Any) -> bool:
    if entry == "delete_selected":
        return True
    function = getattr(model_admin, entry) if isinstance(entry, str) else entry
    return inspect.iscoroutinefunction(function)


async def available_actions(model_admin: ModelAdmin, request: Request) -> list[dict[str, Any]]:
    """The actions the user may run here: ``{"name", "description"}``."""
    out = []
    for entry in ("delete_selected", *model_admin.actions):
        name, _, description, permissions = _resolve(model_admin, entry)
        if await _allowed(model_admin, request, permissions):
            out.append({"name": name, "description": description})
    return out


async def _allowed(model_admin: ModelAdmin, request: Request, permissions: tuple[str, ...]) -> bool:
    checks = {
        "view": model_admin.has_view_permission,
        "add": lambda r: model_admin.has_add_permission(r),
        "change": model_admin.has_change_permission,
        "delete": model_admin.has_delete_permission,
    }
    for permission in permissions:
        check = checks.get(permission)
        if check is None or not await maybe_await(check(request)):
            return False
    return True


async def _refused_rows(
    model_admin: ModelAdmin, request: Request, permissions: tuple[str, ...], objects: list[Any]
) -> int:
    """How many of ``objects`` the user may not run an action needing ``permissions`` on:
    each row is checked with ``has_change_permission(request, obj)`` (and ``view``,
    ``delete`` likewise), the hooks that restrict single rows."""
    checks = {
        "view": model_admin.has_view_permission,
        "change": model_admin.has_change_permission,
        "delete": model_admin.has_delete_permission,
    }
    per_row = [checks[p] for p in permissions if p in checks]
    refused = 0
    for obj in objects:
        for check in per_row:
            if not await maybe_await(check(request, obj)):
                refused += 1
                break
    return refused


async def run_action(site: SiteAPI, model_admin: ModelAdmin, request: Request) -> Response:
    """``POST`` to the change list: run the chosen action on the selected rows."""
    form = await request.form()
    chosen = form.get("action")
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    entries = {"delete_selected": "delete_selected"}
    entries.update({(e if isinstance(e, str) else e.__name__): e for e in model_admin.actions})
    if not isinstance(chosen, str) or chosen not in entries:
        raise HTTPException(400, "Choose an action from the list.")
    name, bound, description, permissions = _resolve(model_admin, entries[chosen])
    if not await _allowed(model_admin, request, permissions):
        raise HTTPException(403, "You do not have permission to do this.")
    ids = [value for value in form.getlist("_selected_action") if isinstance(value, str)]
    if not ids:
        flash(request, "Items must be selected in order to perform actions on them.", "warning")
        return RedirectResponse(back, status_code=303)
    pk_column = model_admin.mapper.primary_key[0]
    try:
        keys = [pk_column.type.python_type(value) for value in ids]
    except (TypeError, ValueError):
        raise HTTPException(400, "The selected rows are given by their ids.") from None
    statement = await maybe_await(model_admin.get_queryset(request))
    statement = statement.where(pk_column.in_(keys)).options(*child_loaders(model_admin))
    async with site.app.state.database.async_session() as session:
        objects = list((await session.scalars(statement)).unique().all())
        refused = await _refused_rows(model_admin, request, permissions, objects)
        if refused:
            raise HTTPException(
                403,
                f"You may not run this action on {refused} of the {len(objects)} selected "
                f"{model_admin.name_plural}; nothing was done.",
            )
        queryset = QuerySet(model_admin, request, session, objects)
        queryset.action_name = name
        if _is_async(model_admin, entries[chosen]):
            result = await bound(request, queryset)
        else:

            def run(sync_session: Any) -> Any:
                selection = SyncQuerySet(model_admin, request, sync_session, objects)
                selection.action_name = name
                return bound(request, selection)

            result = await session.run_sync(run)
        if isinstance(result, Response):
            if result.status_code < 400:
                await session.commit()
            return result
        await session.commit()
    if name != "delete_selected":
        flash(request, f"{description}: done ({len(objects)} selected).", "success")
    return RedirectResponse(back, status_code=303)
