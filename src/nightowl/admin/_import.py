"""Import rows from CSV or JSON: a dry run first, which shows the rows that would be
created or updated and each row's errors, then a confirmation that saves them all in
one transaction (or none, if any fails). Each saved row is written to the history.

A row with the primary key of an existing row (among those ``get_queryset`` allows)
updates the columns it carries; any other row creates one. Columns the model's input
schemas leave out (read-only, generated) are ignored, so an export imports back; a
column that is no field of the model refuses the file. Values are validated by the
model's ``create`` and ``patch`` schemas, as the API validates them.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pydantic
from sqlalchemy.exc import IntegrityError

from nightowl.admin._edit import get_object
from nightowl.admin._forms import fk_columns
from nightowl.admin._history import diff, jsonable, log, snapshot
from nightowl.admin._options import ModelAdmin
from nightowl.exceptions import HTTPException
from nightowl.responses import RedirectResponse, Response
from nightowl.sessions import flash

if TYPE_CHECKING:
    from nightowl.admin._protocol import SiteAPI
    from nightowl.requests import Request

__all__ = ["MAX_BYTES", "MAX_ROWS", "ImportProblem", "import_page", "largest_file", "parse"]

#: The largest file and the most rows one import takes (the file is also bounded by the
#: app's ``max_field_size``, 1 MiB by default: the confirmation posts it back as a field).
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000


class ImportProblem(ValueError):
    """A file that cannot be read as rows: shown on the page, nothing is imported."""


@dataclass(slots=True)
class RowResult:
    """What happens to one row: ``create``, ``update``, ``unchanged`` or ``error``."""

    line: int
    action: str = "create"
    text: str = ""
    changes: dict[str, list[Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def parse(text: str, kind: str) -> list[dict[str, Any]]:
    """The rows of a CSV (a header line, then rows) or JSON (a list of objects) file."""
    if kind == "json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ImportProblem(f"The file is not valid JSON: {exc}.") from None
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise ImportProblem("A JSON import is a list of objects, one per row.")
        return data
    reader = csv.DictReader(io.StringIO(text))
    try:
        rows = [{k: v for k, v in row.items() if v != ""} for row in reader]
    except csv.Error as exc:
        raise ImportProblem(f"The file is not valid CSV: {exc}.") from None
    if any(None in row for row in rows):
        raise ImportProblem("A CSV row has more cells than the header has names.")
    return rows


def _errors(exc: pydantic.ValidationError) -> list[str]:
    out = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "row"
        message = "This field is required." if error["type"] == "missing" else error["msg"]
        out.append(f"{where}: {message}")
    return out


class _Importer:
    """Checks (and, when saving, applies) the rows of one file."""

    def __init__(self, model_admin: ModelAdmin, request: Request, session: Any) -> None:
        self.model_admin = model_admin
        self.request = request
        self.session = session
        model = model_admin.model
        # The admin's read-only fields stay as they are, as on the change page.
        columns = set(model.schema("read").model_fields)
        fixed = [name for name in model_admin.readonly_fields if name in columns]
        self.create_schema = model.schema("create", exclude=fixed or None)
        self.patch_schema = model.schema("patch", exclude=fixed or None)
        self.known = set(model.schema("read").model_fields) | set(self.create_schema.model_fields)
        self.fk = fk_columns(model_admin)
        self.may_add = False
        self.may_change = False
        self._exists: dict[tuple[Any, Any], bool] = {}

    async def check_header(self, rows: list[dict[str, Any]]) -> None:
        unknown = sorted({key for row in rows for key in row} - self.known)
        if unknown:
            raise ImportProblem(f"No field named {', '.join(unknown)} on {self.model_admin.name}.")
        self.may_add = bool(await self.model_admin.has_add_permission(self.request))
        self.may_change = bool(await self.model_admin.has_change_permission(self.request))

    async def row(self, line: int, record: dict[str, Any], save: bool) -> RowResult:
        result = RowResult(line)
        key = self.model_admin.pk_key
        existing = None
        if record.get(key) not in (None, ""):
            try:
                existing = await get_object(
                    self.model_admin, self.request, self.session, str(record[key])
                )
            except HTTPException:
                existing = None
        inputs = self.patch_schema if existing is not None else self.create_schema
        values = {k: v for k, v in record.items() if k in inputs.model_fields}
        try:
            data = inputs.model_validate(values)
        except pydantic.ValidationError as exc:
            result.action, result.errors = "error", _errors(exc)
            return result
        await self._check_related(data, result)
        if existing is not None:
            await self._update(existing, data, result, save)
        else:
            await self._create(record, data, result, save)
        return result

    async def _check_related(self, data: Any, result: RowResult) -> None:
        for name, rel in self.fk.items():
            value = getattr(data, name, None)
            if name not in data.model_fields_set or value is None:
                continue
            cache_key = (rel.mapper.class_, value)
            if cache_key not in self._exists:
                found = await self.session.get(rel.mapper.class_, value)
                self._exists[cache_key] = found is not None
            if not self._exists[cache_key]:
                result.errors.append(f"{name}: no {rel.mapper.class_.__name__} with id {value!r}.")

    async def _update(self, obj: Any, data: Any, result: RowResult, save: bool) -> None:
        result.text = str(obj)
        if not self.may_change:
            result.errors.append("You may not change rows.")
        before = snapshot(obj)
        after = dict(before)
        after.update({k: jsonable(getattr(data, k)) for k in data.model_fields_set})
        result.changes = diff(before, after)
        result.action = "error" if result.errors else ("update" if result.changes else "unchanged")
        if save and result.action == "update":
            obj.apply(data)
            log(self.session, self.request, self.model_admin, obj, "change", result.changes)

    async def _create(
        self, record: dict[str, Any], data: Any, result: RowResult, save: bool
    ) -> None:
        if not self.may_add:
            result.errors.append("You may not add rows.")
        obj = self.model_admin.model.from_schema(data)
        key = self.model_admin.pk_key
        if record.get(key) not in (None, "") and key not in data.model_fields_set:
            pk_type = self.model_admin.mapper.primary_key[0].type.python_type
            try:
                setattr(obj, key, pk_type(record[key]))
            except (TypeError, ValueError):
                result.errors.append(f"{key}: not a valid id.")
        result.text = str(obj)
        result.action = "error" if result.errors else "create"
        if save and result.action == "create":
            self.session.add(obj)
            await self.session.flush()
            log(self.session, self.request, self.model_admin, obj, "add", {})


async def _rows_of(request: Request, form: Any) -> tuple[str, str]:
    """``(text, kind)`` of the uploaded file, or of the confirmed dry run."""
    if form.get("payload") is not None:
        kind = form.get("kind")
        payload = form.get("payload")
        if kind not in ("csv", "json") or not isinstance(payload, str):
            raise ImportProblem("The confirmation lost its data: upload the file again.")
        return payload, kind
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise ImportProblem("Choose a CSV or JSON file to import.")
    kind = "json" if upload.filename.lower().endswith(".json") else "csv"
    limit = largest_file(request)
    raw = await upload.read(limit + 1)
    if len(raw) > limit:
        raise ImportProblem(
            f"The file is larger than {_size(limit)}, the most one import takes; split it, "
            f"or raise App(max_field_size=...) (the confirmation carries the file back), "
            f"up to {_size(MAX_BYTES)}."
        )
    try:
        return raw.decode("utf-8-sig"), kind
    except UnicodeDecodeError:
        raise ImportProblem("The file is not UTF-8 text.") from None


def largest_file(request: Request) -> int:
    """The largest file an import takes: :data:`MAX_BYTES`, or less when the app's
    ``max_field_size`` is smaller, since the confirmation posts the file back as a field."""
    field_size = getattr(request.app, "max_field_size", None) or MAX_BYTES
    return min(MAX_BYTES, int(field_size))


def _size(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{size // 1024} KB"


async def _run(
    model_admin: ModelAdmin,
    request: Request,
    session: Any,
    records: list[dict[str, Any]],
    kind: str,
    save: bool,
) -> tuple[list[RowResult], bool]:
    importer = _Importer(model_admin, request, session)
    await importer.check_header(records)
    first_line = 2 if kind == "csv" else 1
    results = [await importer.row(first_line + i, r, save) for i, r in enumerate(records)]
    return results, any(r.errors for r in results)


async def import_page(site: SiteAPI, model_admin: ModelAdmin, request: Request) -> Response:
    """``GET``: the upload form. ``POST``: the dry run, or (``confirm``) the import."""
    may_add = await model_admin.has_add_permission(request)
    if not (may_add or await model_admin.has_change_permission(request)):
        raise HTTPException(403, "You do not have permission to do this.")
    context: dict[str, Any] = {
        "title": f"Import {model_admin.name_plural}",
        "model_admin": model_admin,
        "base_url": site.url(model_admin.app_label, model_admin.model_name),
        "results": None,
        "error": None,
    }
    if request.method != "POST":
        return site.render(request, "import.html", context, model_admin=model_admin)
    form = await request.form()
    save = form.get("confirm") == "yes"
    try:
        text, kind = await _rows_of(request, form)
        records = parse(text, kind)
        if len(records) > MAX_ROWS:
            raise ImportProblem(f"An import takes at most {MAX_ROWS} rows.")
        async with site.app.state.database.async_session() as session:
            try:
                results, failed = await _run(model_admin, request, session, records, kind, save)
                if save and not failed:
                    await session.commit()
            except IntegrityError:
                await session.rollback()
                raise ImportProblem(
                    "The database refused the rows (a duplicate value, or a missing "
                    "related row): nothing was imported."
                ) from None
            if save and not failed:
                created = sum(r.action == "create" for r in results)
                updated = sum(r.action == "update" for r in results)
                flash(request, f"Imported: {created} created, {updated} updated.", "success")
                return RedirectResponse(context["base_url"] + "/", status_code=303)
            await session.rollback()
    except ImportProblem as exc:
        context["error"] = str(exc)
        return site.render(request, "import.html", context, 400, model_admin=model_admin)
    context.update(
        results=results,
        failed=failed,
        payload=text,
        kind=kind,
        counts={
            a: sum(r.action == a for r in results)
            for a in ("create", "update", "unchanged", "error")
        },
    )
    return site.render(
        request, "import.html", context, 422 if failed else 200, model_admin=model_admin
    )
