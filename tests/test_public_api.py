"""The package's shape: curated exports, layering, lazy imports."""

import ast
import subprocess
import sys
from pathlib import Path

import nightowl

PACKAGE = Path(nightowl.__file__).parent

DESIGN_NAMES = {
    "App",
    "Router",
    "path",
    "Request",
    "Response",
    "JSONResponse",
    "HTMLResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "FileResponse",
    "StreamingResponse",
    "HTTPException",
    "Depends",
    "Query",
    "Header",
    "Cookie",
    "Body",
    "Form",
    "File",
    "UploadFile",
    "BackgroundTasks",
    "WebSocket",
    "redirect",
}

# Lower layers never import higher ones (DESIGN.md section 2).
CORE = {
    "_types",
    "datastructures",
    "exceptions",
    "requests",
    "responses",
    "_concurrency",
    "_forms",
    "background",
    "params",
    "negotiation",
}
BATTERIES = {"db", "admin", "auth", "templating"}


def test_all_is_sorted_complete_and_importable() -> None:
    assert nightowl.__all__ == sorted(nightowl.__all__)
    assert set(nightowl.__all__) >= DESIGN_NAMES
    for name in nightowl.__all__:
        assert getattr(nightowl, name) is not None
    public = {n for n in vars(nightowl) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(nightowl.__all__)


def test_every_public_name_has_a_docstring() -> None:
    for name in nightowl.__all__:
        assert getattr(nightowl, name).__doc__, name


def _imports(module: Path) -> set[str]:
    """Modules of nightowl imported at run time (``if TYPE_CHECKING:`` blocks do not count)."""
    tree = ast.parse(module.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nightowl"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("nightowl"))
    return names


def test_layers_import_downward_only() -> None:
    for module in PACKAGE.rglob("*.py"):
        relative = module.relative_to(PACKAGE)
        top = relative.parts[0].removesuffix(".py")
        imported = {name.split(".")[1] for name in _imports(module) if "." in name}
        if top in CORE:
            upward = imported - CORE
            assert not upward, f"{relative} (core) imports {upward}"
        if top not in BATTERIES:
            assert not imported & BATTERIES, f"{relative} imports a battery: {imported & BATTERIES}"


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
