"""nightowl: a Python web framework that is as small as Flask, as typed as FastAPI,
grows Django's batteries, and is fast.

::

    from nightowl import App

    app = App()

    @app.get("/")
    def hello():
        return {"message": "hello world"}
"""

from __future__ import annotations

import typing as _typing

from nightowl._lazy import lazy_attributes as _lazy_attributes
from nightowl.app import App
from nightowl.background import BackgroundTasks
from nightowl.datastructures import UploadFile
from nightowl.exceptions import HTTPException
from nightowl.params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security
from nightowl.requests import Request
from nightowl.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    redirect,
)
from nightowl.routing import Router, path

if _typing.TYPE_CHECKING:
    from nightowl.responses import FileResponse, StreamingResponse
    from nightowl.sessions import flash
    from nightowl.sse import EventSourceResponse, ServerSentEvent
    from nightowl.templating import render
    from nightowl.websockets import WebSocket

__version__ = "0.1.0"

__all__ = [
    "App",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "EventSourceResponse",
    "File",
    "FileResponse",
    "Form",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "JSONResponse",
    "Path",
    "PlainTextResponse",
    "Query",
    "RedirectResponse",
    "Request",
    "Response",
    "Router",
    "Security",
    "ServerSentEvent",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "flash",
    "path",
    "redirect",
    "render",
]

# Names whose modules import heavy packages (Jinja2), or that a plain JSON app never uses
# (WebSockets, files, streams): loaded on first use, so that ``import nightowl`` and a
# hello-world app stay light.
_LAZY = {
    "render": "nightowl.templating",
    "flash": "nightowl.sessions",
    "WebSocket": "nightowl.websockets",
    "FileResponse": "nightowl.responses",
    "StreamingResponse": "nightowl.responses",
    "EventSourceResponse": "nightowl.sse",
    "ServerSentEvent": "nightowl.sse",
}


__getattr__ = _lazy_attributes(__name__, _LAZY)
