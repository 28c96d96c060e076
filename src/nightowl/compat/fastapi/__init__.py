"""FastAPI's names on nightowl: change ``fastapi`` to ``nightowl.compat.fastapi`` in imports.

::

    from nightowl.compat.fastapi import Depends, FastAPI, HTTPException, status
    from nightowl.compat.fastapi.security import OAuth2PasswordBearer
    from nightowl.compat.fastapi.testclient import TestClient

The modules mirror FastAPI's (``.security``, ``.testclient``, ``.responses``,
``.encoders``, ``.exceptions``, ``.exception_handlers``, ``.middleware.*``, ``.status``,
``.routing``, ``.staticfiles``, ``.templating``, ``.websockets``, ``.params``,
``.requests``, ``.background``...). Every name is nightowl's own or a thin subclass of it;
:class:`FastAPI` answers errors in FastAPI's shape (``{"detail": ...}``) so that an API's
clients keep working. docs/moving-from-fastapi.md lists the few deliberate differences.
"""

from __future__ import annotations

from nightowl import status
from nightowl.background import BackgroundTasks
from nightowl.compat.fastapi.applications import FastAPI
from nightowl.compat.fastapi.routing import APIRouter
from nightowl.datastructures import UploadFile
from nightowl.exceptions import HTTPException, WebSocketException
from nightowl.params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security
from nightowl.requests import Request
from nightowl.responses import Response
from nightowl.websockets import WebSocket, WebSocketDisconnect

__all__ = [
    "APIRouter",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "FastAPI",
    "File",
    "Form",
    "HTTPException",
    "Header",
    "Path",
    "Query",
    "Request",
    "Response",
    "Security",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "status",
]
