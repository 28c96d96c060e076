"""Parse urlencoded and multipart request bodies, streaming uploads to spooled files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from nightowl.datastructures import FormData, Headers, UploadFile, parse_query_string
from nightowl.exceptions import HTTPException
from nightowl.types import Scope

__all__ = ["DEFAULT_MAX_FIELD_SIZE", "FormSource", "parse_form"]

#: Upload bytes kept in memory before spilling to a temporary file.
SPOOL_MAX_MEMORY = 1024 * 1024
#: A limit on one part's headers, so a client cannot make us buffer them without end.
MAX_PART_HEADER_SIZE = 16 * 1024
#: RFC 2046 allows 70 characters; python-multipart refuses more than this.
MAX_BOUNDARY_LENGTH = 256
#: The largest value of one form field that is not a file (``App(max_field_size=...)``).
DEFAULT_MAX_FIELD_SIZE = 1024 * 1024


class FormSource(Protocol):
    """What the parser reads from a request (a :class:`~nightowl.requests.Request`)."""

    scope: Scope
    max_body_size: int

    @property
    def headers(self) -> Headers: ...

    @property
    def app(self) -> Any: ...

    async def body(self) -> bytes: ...

    def stream(self) -> AsyncIterator[bytes]: ...


async def parse_form(
    request: FormSource,
    *,
    max_files: int = 1000,
    max_fields: int = 1000,
    max_field_size: int | None = None,
) -> FormData:
    """Read the request body as a form; 415 for any other content type.

    ``max_field_size`` bounds each value that is not a file (413 past it); ``None`` takes
    the app's ``max_field_size`` (1 MiB by default).
    """
    if max_field_size is None:
        app = request.scope.get("app")
        max_field_size = getattr(app, "max_field_size", None) or DEFAULT_MAX_FIELD_SIZE
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type == b"application/x-www-form-urlencoded":
        body = await request.body()
        pairs = parse_query_string(body, where="form body")
        if len(pairs) > max_fields:
            raise HTTPException(413, f"Too many form fields (more than {max_fields}).")
        for name, value in pairs:
            if len(value) > max_field_size:
                raise HTTPException(413, _field_too_large(name, max_field_size))
        return FormData(pairs)
    if content_type == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise HTTPException(400, "The multipart body has no boundary.")
        if len(boundary) > MAX_BOUNDARY_LENGTH:
            raise HTTPException(
                400, f"The multipart boundary is longer than {MAX_BOUNDARY_LENGTH} characters."
            )
        reader = _MultipartReader(request, boundary, max_files, max_fields, max_field_size)
        return await reader.read()
    raise HTTPException(
        415,
        "Expected a form body (application/x-www-form-urlencoded or multipart/form-data).",
    )


class _MultipartReader:
    """Feed the body to python-multipart, collecting fields and spooling files."""

    def __init__(
        self,
        request: FormSource,
        boundary: bytes,
        max_files: int,
        max_fields: int,
        max_field_size: int,
    ) -> None:
        self.request = request
        self.max_files = max_files
        self.max_fields = max_fields
        self.max_field_size = max_field_size
        self.max_fields_size = request.max_body_size
        max_upload = (
            getattr(request.app, "max_upload_size", None) if "app" in request.scope else None
        )
        self.max_upload_size: int | None = max_upload
        self.items: list[tuple[str, str | UploadFile]] = []
        self.files = 0
        self.fields = 0
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_bytes = 0
        self._name = ""
        self._data = bytearray()
        self._upload: UploadFile | None = None
        self._pending: list[tuple[UploadFile, bytes]] = []
        self._total_fields_size = 0
        callbacks: Any = {
            "on_part_begin": self._on_part_begin,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
        }
        self.parser = MultipartParser(boundary, callbacks)

    async def read(self) -> FormData:
        # The request's own limit is for fields; files have their own (or none).
        self.request.max_body_size = 1 << 62
        try:
            async for chunk in self.request.stream():
                self.parser.write(chunk)
                await self._flush()
            self.parser.finalize()
            await self._flush()
            if self.parser.state not in (MultipartState.END, MultipartState.BOUNDARY_PADDING):
                raise HTTPException(
                    400, "Malformed multipart body: it ends before its closing boundary."
                )
            for _, value in self.items:
                if isinstance(value, UploadFile):
                    await value.seek(0)
        except HTTPException:
            await self._close_all()
            raise
        except Exception as exc:  # python-multipart's parse errors
            await self._close_all()
            raise HTTPException(400, f"Malformed multipart body: {exc}") from None
        return FormData(self.items)

    async def _flush(self) -> None:
        # Callbacks are sync; file writes happen here, between chunks.
        for upload, piece in self._pending:
            await upload.write(piece)
            if self.max_upload_size is not None and (upload.size or 0) > self.max_upload_size:
                raise HTTPException(413, f"An uploaded file exceeds {self.max_upload_size} bytes.")
        self._pending.clear()

    async def _close_all(self) -> None:
        for _, value in self.items:
            if isinstance(value, UploadFile):
                await value.close()
        if self._upload is not None:
            await self._upload.close()

    # -- python-multipart callbacks -------------------------------------------------------------
    def _on_part_begin(self) -> None:
        self._headers = []
        self._header_bytes = 0
        self._data = bytearray()
        self._upload = None

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]
        self._count_header(end - start)

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._count_header(end - start)

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_PART_HEADER_SIZE:
            raise HTTPException(413, "A multipart part's headers are too large.")

    def _on_header_end(self) -> None:
        self._headers.append((bytes(self._header_field).lower(), bytes(self._header_value)))
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        disposition = b""
        for key, value in self._headers:
            if key == b"content-disposition":
                disposition = value
        _, options = parse_options_header(disposition)
        if b"name" not in options:
            raise HTTPException(400, "A multipart part has no name in its Content-Disposition.")
        try:
            self._name = options[b"name"].decode("utf-8")
            filename = options[b"filename"].decode("utf-8") if b"filename" in options else None
        except UnicodeDecodeError:
            raise HTTPException(400, "A multipart part name is not valid UTF-8.") from None
        if filename is not None:
            self.files += 1
            if self.files > self.max_files:
                raise HTTPException(413, f"Too many files (more than {self.max_files}).")
            headers = Headers(raw=[(k, v) for k, v in self._headers])
            self._upload = UploadFile.spooled(filename, headers, SPOOL_MAX_MEMORY)
            self.items.append((self._name, self._upload))
        else:
            self.fields += 1
            if self.fields > self.max_fields:
                raise HTTPException(413, f"Too many form fields (more than {self.max_fields}).")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._upload is not None:
            self._pending.append((self._upload, data[start:end]))
        else:
            self._total_fields_size += end - start
            if self._total_fields_size > self.max_fields_size:
                raise HTTPException(413, f"The form fields exceed {self.max_fields_size} bytes.")
            if len(self._data) + end - start > self.max_field_size:
                raise HTTPException(413, _field_too_large(self._name, self.max_field_size))
            self._data += data[start:end]

    def _on_part_end(self) -> None:
        if self._upload is None:
            try:
                value = self._data.decode("utf-8")
            except UnicodeDecodeError:
                raise HTTPException(
                    400, f"The form field {self._name!r} is not valid UTF-8."
                ) from None
            self.items.append((self._name, value))
        self._upload = None


def _field_too_large(name: str, limit: int) -> str:
    return f"The form field {name!r} exceeds {limit} bytes (a file upload has no such limit)."
