"""Which frames of a traceback are the user's, and a traceback of only those.

A ``NameError`` in ``models.py`` seen through ``nightowl run`` travels through importlib,
click and nightowl's own startup code; the user needs the line of ``models.py``. A frame is
a library's when its file is in nightowl's package, Python's standard library, an
installed package (``site-packages``) or importlib's frozen modules; every other frame is
the user's.
"""

from __future__ import annotations

import sysconfig
import traceback
from pathlib import Path
from types import TracebackType

from nightowl.exceptions import ImproperlyConfigured

__all__ = ["format_user_traceback", "is_library_file", "user_frames"]

_PACKAGE = str(Path(__file__).resolve().parent)
_LIBRARIES = tuple(
    sorted(
        {
            str(Path(path).resolve())
            for key in ("stdlib", "platstdlib", "purelib", "platlib")
            if (path := sysconfig.get_paths().get(key))
        }
    )
)


def is_library_file(filename: str) -> bool:
    """Whether ``filename`` belongs to nightowl, Python or an installed package."""
    if filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>...
        return filename.startswith("<frozen")
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        return False
    return any(
        resolved == root or resolved.startswith(root + "/") for root in (_PACKAGE, *_LIBRARIES)
    )


def user_frames(tb: TracebackType | None) -> list[traceback.FrameSummary]:
    """The frames of ``tb`` in the user's files, outermost first."""
    return [frame for frame in traceback.extract_tb(tb) if not is_library_file(frame.filename)]


def format_user_traceback(exc: BaseException) -> str:
    """``exc`` as Python prints it, with only the user's frames (the innermost frame when
    none is the user's; none for a configuration or syntax error, whose message says where), and
    each exception it was raised from."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    chain: list[BaseException] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    for index, error in enumerate(reversed(chain)):
        if index:
            parts.append("\nThe above caused:\n\n")
        frames = user_frames(error.__traceback__)
        if not frames and not isinstance(error, (ImproperlyConfigured, SyntaxError)):
            frames = traceback.extract_tb(error.__traceback__)[-1:]
        if frames:
            parts.append("In your code (most recent call last):\n")
            parts.extend(traceback.format_list(frames))
        parts.extend(traceback.format_exception_only(type(error), error))
    return "".join(parts)
