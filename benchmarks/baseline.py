"""Another revision of nightowl, in the same process as the working tree's.

``asgi_bench.py --baseline REF`` measures the nightowl of a git revision beside today's,
in one run, so that a change to the request path is judged on figures taken together
(the machine's load moves both alike). How two versions of one package share a process:

1. ``git archive REF src/nightowl`` is unpacked into a temporary folder.
2. Before anything imports nightowl, that folder goes first on ``sys.path`` and the
   benchmark app module is executed under another name, so it builds its apps on the old
   nightowl; one request per route then compiles them and runs their lazy imports.
3. Every ``nightowl`` module is taken out of ``sys.modules`` and kept in a
   :class:`ModuleSet`; the working tree's nightowl is then imported as usual.
4. Before each contender runs (outside the timed part), its own module set is put back
   into ``sys.modules``, so a lazy import (``from nightowl._x import y`` inside a
   function) finds that contender's own modules, or imports them from its own folder
   (submodules are found through the package's ``__path__``, not ``sys.path``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
APPS = Path(__file__).resolve().parent / "apps"


def _is_nightowl(name: str) -> bool:
    return name == "nightowl" or name.startswith("nightowl.")


@dataclass
class ModuleSet:
    """One nightowl's modules, swapped into ``sys.modules`` while its app runs."""

    modules: dict[str, ModuleType] = field(default_factory=dict)

    @classmethod
    def take(cls) -> ModuleSet:
        """The nightowl modules now imported, removed from ``sys.modules``."""
        taken = cls({name: sys.modules[name] for name in list(sys.modules) if _is_nightowl(name)})
        for name in taken.modules:
            del sys.modules[name]
        return taken

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Make these modules nightowl's for the block; keep any it imports lazily."""
        for name in [name for name in sys.modules if _is_nightowl(name)]:
            del sys.modules[name]
        sys.modules.update(self.modules)
        try:
            yield
        finally:
            self.modules = {name: m for name, m in sys.modules.items() if _is_nightowl(name)}


@dataclass
class Baseline:
    """The benchmark apps built on the nightowl of ``ref``."""

    ref: str
    commit: str
    module: ModuleType  # apps/nightowl_app.py, executed on the old nightowl
    modules: ModuleSet  # the old nightowl's
    folder: Path
    #: The working tree's nightowl modules, swapped in while its row runs.
    working: ModuleSet = field(default_factory=ModuleSet)

    @property
    def label(self) -> str:
        """The row's name in the tables: ``nightowl@main``."""
        return f"nightowl@{self.ref}"

    def close(self) -> None:
        """Delete the unpacked sources."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _git(*args: str) -> bytes:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], check=True, capture_output=True
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"git {' '.join(args)} failed: {exc.stderr.decode().strip()}") from None


def unpack(ref: str) -> Path:
    """``src/nightowl`` of ``ref``, unpacked into a new temporary folder (returned)."""
    folder = Path(tempfile.mkdtemp(prefix="nightowl-baseline-"))
    archive = _git("archive", "--format=tar", ref, "src/nightowl")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def load_baseline(ref: str) -> Baseline:
    """Build the benchmark apps on the nightowl of ``ref``; call before nightowl is imported."""
    if "nightowl" in sys.modules:
        raise RuntimeError(
            "load_baseline() must run before the working tree's nightowl is imported"
        )
    commit = _git("rev-parse", "--short", f"{ref}^{{commit}}").decode().strip()
    folder = unpack(ref)
    source = str(folder / "src")
    sys.path.insert(0, source)
    try:
        spec = importlib.util.spec_from_file_location(
            "apps._baseline_nightowl_app", APPS / "nightowl_app.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        loaded_from = Path(sys.modules["nightowl"].__file__ or "")
        if not loaded_from.is_relative_to(source):
            raise RuntimeError(f"the baseline imported nightowl from {loaded_from}, not {source}")
    finally:
        sys.path.remove(source)
    return Baseline(ref, commit, module, ModuleSet(), folder)


def detach(baseline: Baseline) -> None:
    """Take the baseline's modules out of ``sys.modules`` (after :func:`warm`), so that the
    working tree's nightowl is imported next."""
    baseline.modules = ModuleSet.take()
