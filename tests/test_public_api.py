"""The package's public face: curated exports, docstrings, lazy imports (the layers are in
test_layers.py)."""

import importlib
import importlib.metadata
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import nightowl

#: Exactly the names ``from nightowl import *`` gives, sorted (httpx checks its own the same way).
PUBLIC_NAMES = [
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


def test_all_is_exactly_the_public_names() -> None:
    assert nightowl.__all__ == PUBLIC_NAMES
    for name in nightowl.__all__:
        assert getattr(nightowl, name) is not None
    public = {n for n in vars(nightowl) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(nightowl.__all__)


def test_every_public_name_has_a_docstring() -> None:
    for name in nightowl.__all__:
        assert getattr(nightowl, name).__doc__, name


def test_the_version_is_written_once() -> None:
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"] == {"path": "src/nightowl/__init__.py"}
    # What `pip show nightowl` and `nightowl --version` report (an editable install reads
    # the version when installed: reinstall after changing it).
    assert importlib.metadata.version("nightowl") == nightowl.__version__


#: What serving a hello world must not load: the test client's, the CLI's, the templates'
#: and the database battery's libraries (and pydantic's model machinery, which only apps
#: with validated parameters or models need; pydantic-core serialises the JSON).
HEAVY_PACKAGES = ("alembic", "click", "httpx", "jinja2", "pydantic", "sqlalchemy")

#: Nor these, loaded on first use (benchmarks/README.md, "Cold start"): pydantic-core's
#: Python package (only its compiled extension serialises), typing_extensions, the standard
#: library modules that only other features need, and nightowl's own WebSockets, file
#: responses and streams.
UNUSED_MODULES = (
    "dataclasses",
    "http",
    "json",
    "nightowl._handlers.streams",
    "nightowl.responses._file",
    "nightowl.responses._streaming",
    "nightowl.sse",
    "nightowl.websockets",
    "pydantic_core",
    "pydantic_core.core_schema",
    "queue",
    "typing_extensions",
)

# ``before``: what the interpreter had loaded before nightowl (with ``--cov``, coverage's
# own start-up in the child imports ``json`` and ``dataclasses``, which is not ours).
HELLO_WORLD = """\
import asyncio, sys
before = set(sys.modules)
from nightowl import App

app = App()

@app.get("/")
def hello():
    return {"message": "hello world"}

async def call():
    scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/",
             "query_string": b"", "headers": [(b"host", b"test")], "root_path": ""}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent

sent = asyncio.run(call())
loaded = set(sys.modules) - before
heavy = sorted({name.split(".")[0] for name in loaded} & set(%r))
unused = sorted(loaded & set(%r))
import json
print(json.dumps({"status": sent[0]["status"], "body": sent[-1]["body"].decode(),
                  "heavy": heavy, "unused": unused}))
"""


def _run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_hello_world_imports_no_heavy_packages() -> None:
    answer = json.loads(_run_python(HELLO_WORLD % (HEAVY_PACKAGES, UNUSED_MODULES)))
    assert answer == {
        "status": 200,
        "body": '{"message":"hello world"}',
        "heavy": [],
        "unused": [],
    }


def test_the_test_client_still_serves_the_hello_world() -> None:
    code = (
        "from nightowl import App\n"
        "from nightowl.testing import TestClient\n"
        "app = App()\n"
        "app.get('/')(lambda: {'message': 'hello world'})\n"
        "with TestClient(app) as client:\n"
        "    print(client.get('/').json())\n"
    )
    assert _run_python(code) == "{'message': 'hello world'}\n"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("nightowl.csrf:CSRFMiddleware", "nightowl.sessions.csrf:CSRFMiddleware"),
        ("nightowl.forms:ModelForm", "nightowl.templating.forms:ModelForm"),
        ("nightowl.sessions:Session", "nightowl.sessions:HTTPSession"),
        (
            "nightowl.db:DatabaseSessionBackend",
            "nightowl.sessions.backends.database:DatabaseSessionBackend",
        ),
    ],
)
def test_old_names_still_work_with_a_deprecation_warning(old: str, new: str) -> None:
    old_module, old_name = old.split(":")
    new_module, new_name = new.split(":")
    if old_module in ("nightowl.csrf", "nightowl.forms"):
        sys.modules.pop(old_module, None)  # the warning comes when the module is imported
    with pytest.warns(DeprecationWarning, match=new_module.replace(".", r"\.")):
        value = getattr(importlib.import_module(old_module), old_name)
    assert value is getattr(importlib.import_module(new_module), new_name)
