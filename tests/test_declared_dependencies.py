"""Every third-party module the package imports is a dependency pyproject declares.

A module that only arrives through another package's dependencies (``pydantic_core``
through pydantic, ``markupsafe`` through Jinja2) breaks the day that package stops
needing it, so each one is declared. Required packages go in ``[project] dependencies``;
a battery's packages may instead sit in an optional extra, but only the modules listed
for that extra in :data:`EXTRA_USERS` may import them. Every import counts: at the top of
a file or inside a function, under ``if TYPE_CHECKING:``, and
``importlib.import_module("name")`` with a literal name.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import nightowl

PACKAGE = Path(nightowl.__file__).parent
PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"

#: Optional extra -> the nightowl modules (or packages) that may import what it installs.
EXTRA_USERS: dict[str, tuple[str, ...]] = {
    "speed": ("nightowl._server",),
    "granian": ("nightowl._server",),
    "db": ("nightowl.db", "nightowl.sessions.backends.database", "nightowl.tasks._sessions"),
    "postgres": ("nightowl.db", "nightowl.channels.backends.postgres"),
    "mysql": ("nightowl.db",),
    "redis": (
        "nightowl._redis",
        "nightowl.sessions.backends.redis",
        "nightowl.auth.throttle",
        "nightowl.cache",
        "nightowl.channels.backends.redis",
    ),
    "metrics": ("nightowl.observability.metrics",),
    "tracing": ("nightowl.observability.tracing",),
    "auth": ("nightowl.auth",),
    "admin": ("nightowl.admin",),
    "docs": ("nightowl.openapi",),
    "orjson": ("nightowl.responses._orjson",),
    "tasks": ("nightowl.tasks",),
    "tasks-postgres": ("nightowl.tasks.backends.postgres",),
    "tasks-redis": ("nightowl.tasks.backends.redis",),
    "ratelimit": ("nightowl.ratelimit",),
}

#: Extras that no module of the package may import from: the tools of its own tests.
NOT_FOR_THE_PACKAGE = {"test"}

#: Modules the package imports that are no dependency of it (module -> why).
NOT_DEPENDENCIES = {
    "IPython": "nightowl shell uses IPython when it is installed, Python's own shell otherwise",
    "models": "nightowl shell imports the project's own models.py",
    "ujson": "compat.fastapi's UJSONResponse uses ujson when the app installed it",
}


def normalize(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): ``Jinja2`` -> ``jinja2``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(text: str) -> tuple[str, set[str]]:
    """``("nightowl", {"db"})`` for ``"nightowl[db]"``: the distribution and its extras."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", text)
    assert match, text
    extras = {e.strip() for e in (match.group(2) or "").split(",") if e.strip()}
    return normalize(match.group(1)), extras


def declared() -> tuple[set[str], dict[str, set[str]]]:
    """The required distributions, and each extra's (``nightowl[db]`` in an extra resolved)."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras_text: dict[str, list[str]] = project["optional-dependencies"]

    def expand(lines: list[str]) -> set[str]:
        found = set()
        for line in lines:
            name, extras = requirement(line)
            if name == "nightowl":
                for extra in extras:
                    found |= expand(extras_text[extra])
            else:
                found.add(name)
        return found

    return expand(project["dependencies"]), {
        extra: expand(lines) for extra, lines in extras_text.items()
    }


def module_name(path: Path) -> str:
    """``nightowl.db._model`` for ``src/nightowl/db/_model.py``."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def third_party_imports(source: str) -> Iterator[tuple[str, int]]:
    """Each top-level module outside the standard library and nightowl that ``source``
    imports, with its line."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.stmt | ast.expr):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        for name in names:
            top = name.split(".")[0]
            if top != "nightowl" and top not in sys.stdlib_module_names:
                yield top, node.lineno


def _is_within(module: str, owners: tuple[str, ...]) -> bool:
    return any(module == owner or module.startswith(owner + ".") for owner in owners)


def undeclared(sources: dict[str, str]) -> list[str]:
    """``module (line n) imports x (distribution y), ...`` for each import pyproject does
    not cover."""
    required, extras = declared()
    distributions = importlib.metadata.packages_distributions()
    found = []
    for module, source in sources.items():
        for top, line in third_party_imports(source):
            if top in NOT_DEPENDENCIES:
                continue
            names = {normalize(d) for d in distributions.get(top, [])}
            where = f"{module} (line {line}) imports {top}"
            if not names:
                found.append(f"{where}, which no installed distribution provides")
                continue
            if names & required:
                continue
            allowed = [
                extra
                for extra, packages in extras.items()
                if names & packages
                and extra not in NOT_FOR_THE_PACKAGE
                and _is_within(module, EXTRA_USERS.get(extra, ()))
            ]
            if not allowed:
                found.append(
                    f"{where} ({', '.join(sorted(names))}): declare it in [project] "
                    "dependencies, or in an extra whose EXTRA_USERS entry covers the module"
                )
    return found


def _sources() -> dict[str, str]:
    return {module_name(p): p.read_text() for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_direct_import_is_declared() -> None:
    assert undeclared(_sources()) == []


def test_every_extra_says_which_modules_use_it() -> None:
    _, extras = declared()
    assert set(extras) - NOT_FOR_THE_PACKAGE == set(EXTRA_USERS)


# -- the checker itself catches what it should -------------------------------------------------


@pytest.mark.parametrize(
    ("module", "line", "message"),
    [
        # installed only as a tool of the tests
        ("nightowl.requests", "import pytest", "nightowl.requests (line"),
        # a battery's extra, imported outside that battery
        ("nightowl.routing", "def f():\n    import sqlalchemy", "imports sqlalchemy"),
        # a lazy import by name
        ("nightowl.app", "importlib.import_module('yaml')", "imports yaml"),
        # a package that only arrives as a dependency of a dependency
        ("nightowl.datastructures", "import anyio", "imports anyio"),
    ],
)
def test_an_undeclared_import_is_caught(module: str, line: str, message: str) -> None:
    sources = _sources()
    sources[module] += "\n" + line + "\n"
    found = undeclared(sources)
    assert any(message in entry for entry in found), found


#: Distribution -> (the first release with an API the package uses, that API). A floor below
#: it lets pip pick a release the package fails to import with.
API_FLOORS: dict[str, tuple[tuple[int, ...], str]] = {
    "sqlalchemy": ((2, 1), "sqlalchemy.util.concurrency.await_ (nightowl.db._session)"),
}


def floors(distribution: str) -> list[tuple[str, tuple[int, ...] | None]]:
    """Every pyproject line requiring ``distribution``, with its ``>=`` floor (``None``: none)."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    lines = [*project["dependencies"]]
    for extra_lines in project["optional-dependencies"].values():
        lines += extra_lines
    found = []
    for line in lines:
        if requirement(line)[0] != distribution:
            continue
        match = re.search(r">=\s*([0-9][0-9.]*)", line)
        floor = tuple(int(part) for part in match.group(1).split(".")) if match else None
        found.append((line, floor))
    return found


@pytest.mark.parametrize("distribution", sorted(API_FLOORS))
def test_floors_reach_the_release_with_the_api_the_code_uses(distribution: str) -> None:
    needed, api = API_FLOORS[distribution]
    lines = floors(distribution)
    assert lines, f"pyproject no longer requires {distribution}: drop it from API_FLOORS"
    too_low = [line for line, floor in lines if floor is None or floor < needed]
    assert too_low == [], f"{api} needs {distribution} >= {'.'.join(map(str, needed))}"
    module, _, name = api.split(" ")[0].rpartition(".")
    assert hasattr(importlib.import_module(module), name)
