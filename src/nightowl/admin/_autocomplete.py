"""The autocomplete endpoint of ``autocomplete_fields``: JSON search results over the
related model, paginated, through that model's admin (its ``search_fields``, its
``get_queryset`` restriction, its ``ordering``).

``GET /admin/blog/post/autocomplete/author/?term=ada&page=1`` gives
``{"results": [{"id": "3", "text": "ada"}], "pagination": {"more": false}}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nightowl.admin._fields import search_clause
from nightowl.admin._options import ModelAdmin, maybe_await
from nightowl.exceptions import HTTPException
from nightowl.responses import JSONResponse
from nightowl.templating._fieldspecs import display

if TYPE_CHECKING:
    from nightowl.admin._protocol import SiteAPI
    from nightowl.requests import Request

__all__ = ["PAGE_SIZE", "autocomplete"]

#: Results per page.
PAGE_SIZE = 20


def _read(request: Request) -> tuple[str, int]:
    params = dict(request.query_params.multi_items())
    unknown = set(params) - {"term", "page"}
    if unknown or len(params) != len(request.query_params.multi_items()):
        raise HTTPException(400, "The autocomplete takes term= and page= once each.")
    term = params.get("term", "").strip()
    page = params.get("page", "1")
    if len(term) > 200 or "\x00" in term:
        raise HTTPException(400, "The search term is too long or not text.")
    if not page.isdigit() or not 1 <= int(page) <= 10**6:
        raise HTTPException(400, f"page is a page number, not {page!r}.")
    return term, int(page)


async def autocomplete(
    site: SiteAPI, model_admin: ModelAdmin, request: Request, field: str
) -> JSONResponse:
    """Search the rows ``field`` (a many-to-one in ``autocomplete_fields``) may point to."""
    if field not in model_admin.autocomplete_fields:
        raise HTTPException(404, f"{field!r} is not an autocomplete field of {model_admin.name}.")
    may_view = await model_admin.has_view_permission(request)
    if not (may_view or await model_admin.has_add_permission(request)):
        raise HTTPException(403, "You do not have permission to do this.")
    term, page = _read(request)
    target = model_admin.mapper.relationships[field].mapper.class_
    target_admin = site.admin_for(target)
    if target_admin is None or not target_admin.search_fields:
        raise HTTPException(
            404, f"{target.__name__} needs an admin with search_fields on this site."
        )
    statement: Any = await maybe_await(target_admin.get_queryset(request))
    if term:
        statement = statement.where(search_clause(target, target_admin.search_fields, term))
    pk = getattr(target, target_admin.pk_key)
    order = [
        getattr(target, n.lstrip("-")).desc() if n.startswith("-") else getattr(target, n)
        for n in target_admin.ordering
    ]
    statement = (
        statement.order_by(*order, pk.asc()).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    )
    async with site.app.state.database.async_session() as session:
        rows = list((await session.scalars(statement)).unique().all())
    results = [
        {"id": display(target_admin.pk_of(row)), "text": str(row)} for row in rows[:PAGE_SIZE]
    ]
    return JSONResponse(
        {"results": results, "pagination": {"more": len(rows) > PAGE_SIZE}},
        headers={"Cache-Control": "no-store"},
    )
