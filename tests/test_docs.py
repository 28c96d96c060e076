"""Every Python example in the README and docs/ runs, and its test functions pass."""

import gc
import re
import sys
import types
from pathlib import Path

import pytest

from nightowl import App
from nightowl.testing import TestClient

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _blocks() -> list[tuple[str, int, str]]:
    found = []
    for doc in DOCS:
        for index, match in enumerate(BLOCK.finditer(doc.read_text())):
            found.append((doc.name, index, match.group(1)))
    return found


@pytest.mark.parametrize(("doc", "index", "code"), _blocks(), ids=lambda v: str(v)[:20])
def test_example_runs(doc: str, index: int, code: str, tmp_path: Path) -> None:
    # A real module, as a user's file would be: pydantic generics and string annotations
    # look their names up through sys.modules.
    name = f"docs_{Path(doc).stem}_{index}"
    module = types.ModuleType(name)
    module.__file__ = str(tmp_path / f"{name}.py")
    sys.modules[name] = module
    try:
        exec(compile(code, f"{doc}[{index}]", "exec"), module.__dict__)
        _exercise(module.__dict__)
    finally:
        del sys.modules[name]
        # Models of one example must be gone before the next declares a class of the same
        # name on the shared declarative base: SQLAlchemy's registry forgets a class only
        # when it is collected, and mapped classes sit in reference cycles.
        module.__dict__.clear()
        gc.collect()


def _exercise(namespace: dict[str, object]) -> None:
    for name, value in namespace.items():
        if name.startswith("test_") and callable(value):
            value()
    app = namespace.get("app")
    if isinstance(app, App):
        with TestClient(app) as client:  # the app compiles and starts
            client.get("/")


def test_readme_examples_behave_as_described() -> None:
    blocks = {code.split("\n", 1)[0]: code for _, _, code in _blocks()}
    assert blocks  # sanity
    namespace: dict[str, object] = {}
    routing = next(code for _, _, code in _blocks() if "class UserView" in code)
    exec(routing, namespace)
    client = TestClient(namespace["app"])  # type: ignore[arg-type]
    assert client.get("/users/abc").status_code == 422
    assert client.get("/files/a/b.txt?limit=5", headers={"X-API-Key": "k"}).json() == {
        "path": "a/b.txt",
        "q": None,
        "limit": 5,
    }
    assert client.get("/files/a").status_code == 422  # the header is required
    assert client.get("/api/health").json() == {"status": "ok"}
    assert client.delete("/users/3/view").status_code == 204

    namespace = {}
    exec(next(code for _, _, code in _blocks() if "class UserCreate" in code), namespace)
    created = TestClient(namespace["app"]).post("/users", json={"email": "a@b.c", "password": "pw"})  # type: ignore[arg-type]
    assert created.status_code == 201
    assert created.json() == {"id": 1, "email": "a@b.c"}
