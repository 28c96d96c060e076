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
    """``exc`` as Python prints it, with only the user's frames, and the exceptions it was
    raised from. A configuration error is its message alone (it says what to do); the
    innermost frame stands in when none is the user's (not for a syntax error, whose
    message says where)."""
    chain = [exc]
    while not isinstance(exc, ImproperlyConfigured):
        cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if cause is None or any(cause is seen for seen in chain):
            break
        chain.append(cause)
        exc = cause
    if isinstance(chain[0], ImproperlyConfigured):
        chain = chain[:1]
    parts: list[str] = []
    for index, error in enumerate(reversed(chain)):
        if index:
            parts.append("\nThe above caused:\n\n")
        frames = user_frames(error.__traceback__)
        if (
            not frames
            and error is chain[0]
            and not isinstance(error, (SyntaxError, ImproperlyConfigured))
        ):
            frames = traceback.extract_tb(error.__traceback__)[-1:]
        if frames:
            parts.append("In your code (most recent call last):\n")
            parts.extend(traceback.format_list(frames))
        parts.extend(traceback.format_exception_only(type(error), error))
    return "".join(parts)
