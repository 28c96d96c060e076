"""The code stays readable: no function over cyclomatic complexity 20 (radon's measure),
no module over 600 lines, no class over 300 lines, in ``src/nightowl``.

Each failure names every offender, so a split can start from the message.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from radon.complexity import cc_visit
from radon.visitors import Function

import nightowl

PACKAGE = Path(nightowl.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))

MAX_COMPLEXITY = 20
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 300


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _functions(blocks: list[Any]) -> Iterator[Function]:
    """Every function, method and nested function among radon's blocks, which list the
    functions, the methods and the classes (a class's own figure sums its methods, so
    classes are not held to the limit themselves)."""
    for block in blocks:
        if isinstance(block, Function):
            yield block
            yield from _functions(block.closures)


def test_no_function_is_too_complex() -> None:
    offenders = []
    for path in SOURCES:
        for block in _functions(cc_visit(path.read_text(encoding="utf-8"))):
            if block.complexity > MAX_COMPLEXITY:
                offenders.append(
                    f"{_relative(path)}:{block.lineno} {block.fullname} ({block.complexity})"
                )
    limit = f"functions over cyclomatic complexity {MAX_COMPLEXITY}: "
    assert not offenders, limit + ", ".join(offenders)


def test_no_module_is_too_long() -> None:
    offenders = []
    for path in SOURCES:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{_relative(path)} ({lines} lines)")
    assert not offenders, f"modules over {MAX_MODULE_LINES} lines: " + ", ".join(offenders)


def test_no_class_is_too_long() -> None:
    offenders = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    offenders.append(f"{_relative(path)}:{node.lineno} {node.name} ({lines} lines)")
    assert not offenders, f"classes over {MAX_CLASS_LINES} lines: " + ", ".join(offenders)
