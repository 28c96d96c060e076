"""Response classes: each one is an ASGI application that sends itself."""

import importlib
from typing import TYPE_CHECKING, Any

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
from nightowl.responses._streaming import ContentStream, StreamingResponse

if TYPE_CHECKING:
    from nightowl.responses._file import FileResponse

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


def __getattr__(name: str) -> Any:
    # FileResponse (ranges, ETags, os.stat) is loaded when first asked for: an app that
    # never sends a file never needs it.
    if name == "FileResponse":
        value = importlib.import_module("nightowl.responses._file").FileResponse
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nightowl.responses' has no attribute {name!r}")
