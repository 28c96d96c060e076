"""The package's public face: curated exports, docstrings, lazy imports (the layers are in
test_layers.py)."""

import importlib
import subprocess
import sys

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


def test_hello_world_imports_no_heavy_packages() -> None:
    code = (
        "import sys\n"
        "from nightowl import App\n"
        "from nightowl.testing import TestClient\n"
        "app = App()\n"
        "app.get('/')(lambda: {'message': 'hello world'})\n"
        "assert TestClient(app).get('/').json() == {'message': 'hello world'}\n"
        "print(sorted(m for m in ('sqlalchemy', 'jinja2', 'alembic') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


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
