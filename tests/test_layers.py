"""The layers of the package (DESIGN.md section 2), in one table, and the test that holds
the code to it.

Every module of ``src/nightowl`` belongs to exactly one layer, found by the longest
prefix in :data:`LAYERS`. A module may import its own layer and the layers below it,
never one above; and no two modules may import each other, even through others. Every
import counts: at the top of a file or inside a function, under ``if TYPE_CHECKING:``,
and ``from nightowl import x``. A new module needs a line here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import nightowl

PACKAGE = Path(nightowl.__file__).parent

#: Layers from the bottom up; a module may import only its own layer and those before it.
ORDER = ("core", "framework", "battery", "facade", "deprecated")

#: Module (or package, for everything under it; ``nightowl`` is the top module alone) -> layer.
LAYERS: dict[str, str] = {
    # core: ASGI only, no framework knowledge
    "nightowl.types": "core",
    "nightowl._extras": "core",
    "nightowl._env": "core",
    "nightowl.exceptions": "core",
    "nightowl.datastructures": "core",
    "nightowl._accept": "core",
    "nightowl._concurrency": "core",
    "nightowl._logging": "core",
    "nightowl._shutdown": "core",
    "nightowl._pydantic_ext": "core",
    "nightowl._lazy": "core",
    "nightowl._multipart": "core",
    "nightowl.background": "core",
    "nightowl.requests": "core",
    "nightowl.responses": "core",
    "nightowl.status": "core",
    "nightowl.encoders": "core",
    "nightowl.problems": "core",
    # framework: routing, handler compilation, the app, what serves and documents it
    "nightowl.params": "framework",
    "nightowl._table": "framework",
    "nightowl.routing": "framework",
    "nightowl._handlers": "framework",
    "nightowl._errors": "framework",
    "nightowl._debug": "framework",
    "nightowl._frames": "framework",
    "nightowl._conflicts": "framework",
    "nightowl._server": "framework",
    "nightowl._guard": "framework",
    "nightowl._identity": "framework",
    "nightowl._httptools_limits": "framework",
    "nightowl._ws_protocol": "framework",
    "nightowl._app": "framework",
    "nightowl.app": "framework",
    "nightowl.negotiation": "framework",
    "nightowl.websockets": "framework",
    "nightowl.sse": "framework",
    "nightowl.staticfiles": "framework",
    "nightowl.security": "framework",
    "nightowl.middleware": "framework",
    "nightowl.openapi": "framework",
    "nightowl.testing": "framework",
    # batteries: plug in through the App's public hooks; may use one another
    "nightowl.admin": "battery",
    "nightowl.auth": "battery",
    "nightowl.db": "battery",
    "nightowl.sessions": "battery",
    "nightowl.templating": "battery",
    "nightowl.cache": "battery",
    "nightowl.observability": "battery",
    "nightowl.channels": "battery",
    "nightowl.cli": "battery",
    "nightowl.scaffold": "battery",
    "nightowl.compat": "battery",
    "nightowl.tasks": "battery",
    "nightowl.ratelimit": "battery",
    "nightowl._redis": "battery",  # the batteries' Redis clients, one per event loop
    "nightowl.admin_pages": "battery",  # pages batteries add to the admin, without importing it
    # the package itself: the public names users import
    "nightowl": "facade",
    # old module names kept for one release; nothing may import them
    "nightowl.csrf": "deprecated",
    "nightowl.forms": "deprecated",
}

#: Imports that only serve a deprecated name, allowed until the release that drops it.
DEPRECATED_IMPORTS = {
    # nightowl.db.DatabaseSessionBackend / SessionRecord, now in the sessions battery
    ("nightowl.db", "nightowl.sessions.backends.database"),
}


def module_name(path: Path) -> str:
    """``nightowl.db._model`` for ``src/nightowl/db/_model.py``."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> str:
    """The layer of ``module``: the entry of its longest prefix in :data:`LAYERS`."""
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        layer = LAYERS.get(".".join(parts[:end]))
        if layer is not None:
            return layer
    if module == "nightowl":
        return LAYERS[module]
    raise KeyError(module)


def imports_of(module: str, source: str) -> Iterator[tuple[str, int]]:
    """Every nightowl module ``source`` imports, with the line: lazy and
    ``TYPE_CHECKING`` imports included, ``from package import module`` resolved."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "nightowl":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "nightowl":
                continue
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield (submodule if submodule in MODULES else node.module), node.lineno


def import_graph(modules: dict[str, str]) -> dict[str, dict[str, int]]:
    """Module -> {imported module: line}, for the given sources."""
    graph: dict[str, dict[str, int]] = {}
    for module, source in modules.items():
        edges: dict[str, int] = {}
        for imported, line in imports_of(module, source):
            if imported != module and imported in modules:
                edges.setdefault(imported, line)
        graph[module] = edges
    return graph


def upward_imports(graph: dict[str, dict[str, int]]) -> list[str]:
    """``a (layer) imports b (higher layer)`` for every import that points up."""
    found = []
    for module, edges in graph.items():
        rank = ORDER.index(layer_of(module))
        for imported, line in edges.items():
            if (module, imported) in DEPRECATED_IMPORTS:
                continue
            imported_layer = layer_of(imported)
            if ORDER.index(imported_layer) > rank or imported_layer == "deprecated":
                found.append(
                    f"{module} ({layer_of(module)}, line {line}) imports "
                    f"{imported} ({imported_layer})"
                )
    return found


def cycles(graph: dict[str, dict[str, int]]) -> list[str]:
    """``a -> b -> ... -> a`` for one cycle through each module that is in one."""
    edges = {
        module: [
            imported for imported in imported_by if (module, imported) not in DEPRECATED_IMPORTS
        ]
        for module, imported_by in graph.items()
    }
    found: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for imported in edges[module]:
            if state.get(imported) == 1:
                loop = [*path[path.index(imported) :], imported]
                found.append(" -> ".join(loop))
            elif imported not in state:
                visit(imported)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)
    return found


def _sources() -> dict[str, str]:
    return {module: path.read_text() for module, path in MODULES.items()}


def test_every_module_has_a_layer() -> None:
    unassigned = []
    for module in MODULES:
        try:
            layer_of(module)
        except KeyError:
            unassigned.append(module)
    assert not unassigned, f"add these modules to LAYERS in {__file__}: {unassigned}"
    assert set(LAYERS.values()) <= set(ORDER)


def test_layers_import_downward_only() -> None:
    assert upward_imports(import_graph(_sources())) == []


def test_no_import_cycles() -> None:
    assert cycles(import_graph(_sources())) == []


#: What the compiled-handler machinery may import besides the core (its README's contract).
HANDLERS_MAY_IMPORT = (
    "nightowl.params",
    "nightowl.routing",
    "nightowl._errors",
    "nightowl.websockets",
    "nightowl.sse",
)


def test_the_handler_machinery_imports_only_what_its_contract_allows() -> None:
    graph = import_graph(_sources())
    found = [
        f"{module} imports {imported}"
        for module, edges in graph.items()
        if module.split(".")[:2] == ["nightowl", "_handlers"]
        for imported in edges
        if layer_of(imported) != "core"
        and imported.split(".")[:2] != ["nightowl", "_handlers"]
        and imported not in HANDLERS_MAY_IMPORT
    ]
    assert found == []


def test_the_core_never_imports_a_battery() -> None:
    graph = import_graph(_sources())
    for module, edges in graph.items():
        if layer_of(module) in ("core", "framework"):
            assert not [m for m in edges if layer_of(m) == "battery"], module


# -- the checker itself catches what it should: each rule broken once on purpose --------------


def _broken(module: str, extra: str) -> dict[str, dict[str, int]]:
    sources = _sources()
    sources[module] += "\n" + extra + "\n"
    return import_graph(sources)


@pytest.mark.parametrize(
    ("module", "line", "message"),
    [
        (
            "nightowl.requests",
            "from nightowl.app import App",
            "nightowl.requests (core, line",
        ),
        (
            "nightowl.responses._base",
            "if TYPE_CHECKING:\n    from nightowl.sessions import HTTPSession",
            "imports nightowl.sessions (battery)",
        ),
        (
            "nightowl.routing",
            "def f():\n    from nightowl import App",
            "imports nightowl (facade)",
        ),
        (
            "nightowl.datastructures",
            "def f():\n    from nightowl.db import Model",
            "nightowl.datastructures (core",
        ),
        (
            "nightowl.db._model",
            "from nightowl import forms",
            "imports nightowl.forms (deprecated)",
        ),
    ],
)
def test_an_upward_import_is_caught(module: str, line: str, message: str) -> None:
    found = upward_imports(_broken(module, line))
    assert any(message in entry for entry in found), found


def test_a_cycle_is_caught_with_its_modules_named() -> None:
    found = cycles(_broken("nightowl.exceptions", "import nightowl.responses"))
    assert any("nightowl.exceptions" in c and "nightowl.responses" in c for c in found), found
