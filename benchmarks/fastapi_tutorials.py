"""How much of FastAPI's own tutorial code runs on nightowl.compat.fastapi.

Takes a FastAPI checkout (a work tree, or a bare git directory), copies its tutorial
programs (``docs_src/``) and their tests (``tests/test_tutorial/``) into a temporary
folder, rewrites their ``fastapi`` and ``starlette`` imports to ``nightowl.compat.fastapi``,
runs the tests with pytest and prints the pass rate. Nothing of FastAPI is kept here.

The OpenAPI snapshot tests (test functions whose name mentions ``openapi``) are left out:
they compare the whole document, byte for byte, with FastAPI's. Everything else counts,
error bodies included::

    python benchmarks/fastapi_tutorials.py path/to/fastapi            # the summary
    python benchmarks/fastapi_tutorials.py path/to/fastapi --failures  # and each failure
    python benchmarks/fastapi_tutorials.py path/to/fastapi -k body     # some tests only
    python benchmarks/fastapi_tutorials.py fastapi.git --ref 0.141.1   # a tag of a git dir

The tests need ``dirty-equals`` (benchmarks/requirements.txt); ``inline_snapshot``'s
``snapshot(value)`` is replaced by a stand-in that returns its value.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

#: ``from fastapi.x import y`` / ``import starlette.x``, at the start of a line.
IMPORT = re.compile(r"^(\s*)(from|import)(\s+)(fastapi|starlette)\b", re.MULTILINE)
#: ``import fastapi`` alone: the module keeps its name.
PLAIN_IMPORT = re.compile(r"^(\s*)import (fastapi|starlette)[ \t]*$", re.MULTILINE)
#: Dotted names in strings: ``patch("fastapi.x.y")``, ``filterwarnings("ignore::fastapi.X")``.
DOTTED = re.compile(r"(?<=[\"':])(fastapi|starlette)\.")
#: Parts of the FastAPI repository the run needs.
PARTS = (
    "docs_src",
    "tests/__init__.py",
    "tests/utils.py",
    "tests/test_tutorial",
    "docs/en/docs/img/favicon.png",  # served by a tutorial, read from the working folder
)

INLINE_SNAPSHOT_STAND_IN = '''"""A stand-in for inline_snapshot: snapshot(value) is value."""
from typing import Any


def snapshot(value: Any = None) -> Any:
    return value


def Is(value: Any) -> Any:
    return value
'''

CONFTEST = """import pytest

LEFT_OUT = []


def pytest_collection_modifyitems(config, items):
    kept = []
    for item in items:
        name = getattr(item, "originalname", item.name) or item.name
        (LEFT_OUT if "openapi" in name.lower() else kept).append(item)
    items[:] = kept
    config.hook.pytest_deselected(items=LEFT_OUT)
"""

PYTEST_INI = """[pytest]
addopts = -p no:cacheprovider
markers = xdist_group: FastAPI runs these in one xdist worker
"""


def extract(checkout: Path, target: Path, ref: str = "HEAD") -> None:
    """Copy the tutorial programs and tests from ``checkout`` (a work tree, or a git dir
    read at ``ref``)."""
    if (checkout / "docs_src").is_dir():
        for part in PARTS:
            source = checkout / part
            if source.is_dir():
                shutil.copytree(source, target / part)
            else:
                (target / part).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / part)
        return
    archive = subprocess.run(
        ["git", "--git-dir", str(checkout), "archive", ref, *PARTS],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)


def rewrite(folder: Path) -> int:
    """Point every ``fastapi``/``starlette`` import at nightowl.compat.fastapi; return how
    many files changed."""
    changed = 0
    for path in folder.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        new = PLAIN_IMPORT.sub(r"\1import nightowl.compat.fastapi as \2", text)
        new = DOTTED.sub("nightowl.compat.fastapi.", IMPORT.sub(_replace, new))
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def _replace(match: re.Match[str]) -> str:
    indent, keyword, space, _package = match.groups()
    return f"{indent}{keyword}{space}nightowl.compat.fastapi"


def run(folder: Path, extra: list[str]) -> Path:
    """Run the tests in ``folder``; return the JUnit XML report."""
    (folder / "inline_snapshot.py").write_text(INLINE_SNAPSHOT_STAND_IN)
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "pytest.ini").write_text(PYTEST_INI)
    report = folder / "report.xml"
    env = {**os.environ, "PYTHONPATH": str(folder)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/test_tutorial",
        "-q",
        "--no-header",
        "--continue-on-collection-errors",
        "-p",
        "no:randomly",
        f"--junitxml={report}",
        "-o",
        "junit_family=xunit1",
        *extra,
    ]
    subprocess.run(command, cwd=folder, env=env, capture_output=True, check=False)
    return report


def summarise(report: Path, show_failures: bool) -> float:
    """Print the counts, the failures by tutorial and the pass rate; return the rate."""
    outcomes: collections.Counter[str] = collections.Counter()
    failures: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if case.find("skipped") is not None:
            outcomes["skipped"] += 1
        elif problem is not None:
            outcomes["failed"] += 1
            module = case.get("classname", "") or case.get("file", "")
            message = (problem.get("message") or "").strip().splitlines()
            failures[module].append((case.get("name", ""), message[0][:160] if message else ""))
        else:
            outcomes["passed"] += 1
    counted = outcomes["passed"] + outcomes["failed"]
    rate = outcomes["passed"] / counted if counted else 0.0
    if show_failures:
        for module in sorted(failures):
            print(module)
            for name, text in failures[module]:
                print(f"    {name}: {text}")
    print(
        f"passed {outcomes['passed']}, failed {outcomes['failed']} "
        f"(collection errors count as one failure each), skipped {outcomes['skipped']}"
    )
    print(f"failing tutorial test modules: {len(failures)}")
    print(f"pass rate: {rate:.1%}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, help="a FastAPI work tree or git directory")
    parser.add_argument(
        "--ref", default="HEAD", help="the tag or commit of a git directory to read (0.141.1)"
    )
    parser.add_argument("--failures", action="store_true", help="list every failing test")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument("-k", dest="keyword", help="only tests matching this pytest -k")
    args = parser.parse_args()
    extra = ["-k", args.keyword] if args.keyword else []
    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        args.keep.mkdir(parents=True)
        folder = args.keep
    else:
        folder = Path(tempfile.mkdtemp(prefix="fastapi-tutorials-"))
    try:
        extract(args.checkout.resolve(), folder, args.ref)
        changed = rewrite(folder)
        print(f"rewrote the imports of {changed} files")
        summarise(run(folder, extra), args.failures)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
