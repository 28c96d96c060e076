"""Package attributes imported on first use (PEP 562's module ``__getattr__``).

A package that names what it offers but should not import it until asked (a driver, a
server's optional part, code a hello world never runs) gives :func:`lazy_attributes` the
module each name lives in and uses the function it returns as its ``__getattr__``::

    __getattr__ = lazy_attributes(__name__, {"FileResponse": "nightowl.responses._file"})

The first access imports the module and keeps the value in the package's namespace, so
later accesses are ordinary attribute reads.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each name of ``where`` from
    the module it maps to; any other name is an ``AttributeError``."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
