"""Response classes: each one is an ASGI application that sends itself."""

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
from nightowl.responses._file import FileResponse
from nightowl.responses._orjson import ORJSONResponse
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
