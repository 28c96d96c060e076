"""``fastapi.responses``: nightowl's response classes."""

from typing import Any

from nightowl.exceptions import ImproperlyConfigured
from nightowl.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    ORJSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from nightowl.sse import EventSourceResponse

__all__ = [
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "UJSONResponse",
]


class UJSONResponse(JSONResponse):
    """JSON serialised by ujson (FastAPI's class; nightowl's ``JSONResponse`` is faster)."""

    def render(self, content: Any) -> bytes:
        """Serialise ``content`` with ujson, which must be installed."""
        try:
            import ujson  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise ImproperlyConfigured("UJSONResponse needs ujson: pip install ujson") from None
        return bytes(ujson.dumps(content, ensure_ascii=False).encode("utf-8"))
