"""pydantic-core's compiled extension, loaded without its Python package until one is needed.

Serving JSON needs only three names of pydantic-core: ``to_json``, ``from_json`` and
``ValidationError``. All three live in its compiled extension,
``pydantic_core._pydantic_core``; ``import pydantic_core`` also runs the package's
``__init__``, which imports ``pydantic_core.core_schema`` (thousands of lines of
``TypedDict``\\ s that only pydantic's schema building reads) and ``typing_extensions``.
Loading the extension alone keeps those out of an app that never validates anything
(benchmarks/README.md, "Cold start", has the figures).

How, and why it stays correct when pydantic or pydantic-core is imported later:

* The extension is found and loaded by the standard import machinery, under its own name
  (``pydantic_core._pydantic_core``), and registered in ``sys.modules`` like any module. A
  later ``import pydantic_core`` runs the package's ``__init__``, whose
  ``from ._pydantic_core import ...`` finds that same module object: there is one
  ``ValidationError`` class, one ``to_json``, whoever imports them and in whichever order.
* The import system sets a submodule as an attribute of its package only when it loads the
  submodule itself, which it no longer does here; so a one-shot finder waits for the
  package's import and sets ``pydantic_core._pydantic_core`` after the package has run,
  as a normal import would have. The finder then removes itself.
* If pydantic-core is already imported, or is laid out differently (no package folder, no
  such extension: another version, a zip), nothing of this happens and the package is
  imported the ordinary way.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["ValidationError", "from_json", "to_json"]

_PACKAGE = "pydantic_core"
_EXTENSION = "pydantic_core._pydantic_core"


class _AttachOnImport:
    """A one-shot meta path finder: once ``pydantic_core`` is imported, set its
    ``_pydantic_core`` attribute to the extension loaded earlier, then step aside.

    It steps aside after the package has run, not when the package is found:
    ``importlib.util.find_spec("pydantic_core")`` finds without importing.
    """

    def __init__(self, extension: ModuleType) -> None:
        self.extension = extension

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """Find ``pydantic_core`` as the other finders would, and attach after it runs."""
        if name != _PACKAGE:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            find_spec = getattr(finder, "find_spec", None)
            spec: importlib.machinery.ModuleSpec | None = (
                find_spec(name, path, target) if find_spec is not None else None
            )
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            self.remove()
            return spec
        run_package = loader.exec_module
        extension = self.extension

        def exec_module(module: ModuleType) -> None:
            run_package(module)
            module._pydantic_core = extension  # type: ignore[attr-defined]
            self.remove()

        try:
            loader.exec_module = exec_module  # type: ignore[method-assign]
        except AttributeError:  # a loader without instance attributes: import as it is
            self.remove()
        return spec

    def remove(self) -> None:
        """Take this finder off ``sys.meta_path`` (if it is still there)."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)


def _load_extension() -> ModuleType:
    """The extension module: the one already imported, else loaded alone, else the
    package's (imported the ordinary way)."""
    loaded = sys.modules.get(_EXTENSION)
    if loaded is not None:
        return loaded
    if _PACKAGE not in sys.modules:
        package = importlib.util.find_spec(_PACKAGE)  # finds, does not import
        folders = package.submodule_search_locations if package is not None else None
        spec = importlib.machinery.PathFinder.find_spec(_EXTENSION, folders) if folders else None
        if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            extension = importlib.util.module_from_spec(spec)
            sys.modules[_EXTENSION] = extension
            try:
                spec.loader.exec_module(extension)
            except BaseException:
                del sys.modules[_EXTENSION]
                raise
            sys.meta_path.insert(0, _AttachOnImport(extension))
            return extension
    import pydantic_core

    return sys.modules.get(_EXTENSION, pydantic_core)


if TYPE_CHECKING:
    from pydantic_core import ValidationError, from_json, to_json
else:
    _extension = _load_extension()
    to_json = _extension.to_json
    from_json = _extension.from_json
    ValidationError = _extension.ValidationError
