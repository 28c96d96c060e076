"""Response classes: each one is an ASGI application that sends itself."""

from typing import TYPE_CHECKING

from nightowl._lazy import lazy_attributes
from nightowl.responses._base import (
    BackgroundCall,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    ProblemResponse,
    RedirectResponse,
    Response,
    dump_json,
    problem_response,
    redirect,
)
from nightowl.responses._orjson import ORJSONResponse

if TYPE_CHECKING:
    from nightowl.responses._file import FileResponse
    from nightowl.responses._streaming import ContentStream, StreamingResponse

__all__ = [
    "BackgroundCall",
    "ContentStream",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "ProblemResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "dump_json",
    "problem_response",
    "redirect",
]


# Files (ranges, ETags, os.stat) and streams load when first asked for: an app that never
# sends one never needs them.
_LAZY = {
    "FileResponse": "nightowl.responses._file",
    "ContentStream": "nightowl.responses._streaming",
    "StreamingResponse": "nightowl.responses._streaming",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
