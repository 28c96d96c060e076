"""Log lines that a request cannot forge, each carrying its request's id.

A request path, a header or a database error quoting a submitted value may hold a
carriage return, a line feed or a terminal escape sequence. Logged as they are, they
start a new line that looks like nightowl's own (``GET /x%0d%0aFORGED admin logged in``),
or rewrite what a terminal shows. :func:`printable` escapes them: every log call that
puts request data into a message passes it through, and the formatters below escape
whole messages, the servers' access lines included, and the message of every exception in
a traceback.

:data:`REQUEST_ID` holds the id of the request being served (the app sets it);
:class:`RequestIdFilter` copies it onto every log record as ``request_id``.
:func:`logging_config` is the configuration ``nightowl run`` and ``nightowl serve`` give
the server: nightowl's, the server's and the app's lines, each with its time, level,
logger and request id, as text or as one JSON object per line.
"""

from __future__ import annotations

import logging
import time
import traceback
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Literal

__all__ = [
    "LOG_FORMATS",
    "REQUEST_ID",
    "JSONFormatter",
    "LogFormat",
    "RequestIdFilter",
    "TextFormatter",
    "format_exception",
    "logging_config",
    "printable",
]

#: The id of the request being served, ``"-"`` outside of one.
REQUEST_ID: ContextVar[str] = ContextVar("nightowl_request_id", default="-")

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")


def _escapes() -> dict[int, str]:
    table = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]}
    table.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x5C: "\\\\"})
    # Unicode's own line and paragraph separators end a line in some log viewers.
    table.update({0x2028: "\\u2028", 0x2029: "\\u2029"})
    return table


_ESCAPES = _escapes()


def printable(value: object) -> str:
    """``str(value)`` on one line: control characters (CR, LF, ESC, DEL, C1...) and
    backslashes escaped as in a Python literal, so that no part of it can pass for
    another log line.

    >>> printable("/x\\r\\nFORGED")
    '/x\\\\r\\\\nFORGED'
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and "\\" not in text:
        return text  # the common case: nothing to translate
    return text.translate(_ESCAPES)


def _already_escaped(text: str) -> str:
    # A message whose parts went through printable() has backslashes already doubled;
    # only what is still unprintable needs escaping here.
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else printable(ch) for ch in text)


def _escape_exception_messages(root: traceback.TracebackException) -> None:
    # A traceback is several lines by design, but an exception's message (and its notes)
    # may quote request data: each is made one line, in every exception of the chain and
    # of every group, before the traceback is formatted.
    pending, seen = [root], set()
    while pending:
        exception = pending.pop()
        if id(exception) in seen:
            continue
        seen.add(id(exception))
        notes = exception.__notes__
        if isinstance(notes, list | tuple):
            exception.__notes__ = [_already_escaped(str(note)) for note in notes]
        lines = [
            _already_escaped(line.removesuffix("\n")) + "\n"
            for line in exception.format_exception_only()
        ]
        # format() asks each exception of the chain for these lines: this one's, escaped.
        exception.format_exception_only = lines.__iter__  # type: ignore[method-assign,assignment]
        for linked in (exception.__cause__, exception.__context__, *(exception.exceptions or ())):
            if linked is not None:
                pending.append(linked)


def format_exception(
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None]
    | tuple[None, None, None],
) -> str:
    """The traceback of ``exc_info`` as :mod:`traceback` writes it, except that no
    exception's message can start a line of its own: control characters in messages and
    notes (a CR or LF quoted from a request) are escaped as :func:`printable` does."""
    if exc_info[0] is None:
        return "NoneType: None"
    _, value, tb = exc_info
    summary = traceback.TracebackException(type(value), value, tb, compact=True)
    _escape_exception_messages(summary)
    return "".join(summary.format()).rstrip("\n")


class RequestIdFilter(logging.Filter):
    """Sets ``record.request_id`` to the id of the request being served (``"-"`` if none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the request id; never drops a record."""
        record.request_id = REQUEST_ID.get()
        return True


class TextFormatter(logging.Formatter):
    """``2026-11-30 09:41:07,123 ERROR nightowl.error [3f2a...] message``: one line per
    record (the traceback of an exception follows it), control characters escaped."""

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
    ) -> None:
        super().__init__(
            fmt or "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            datefmt,
            style,
            defaults={"request_id": "-"},
        )

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line, its message escaped."""
        record.message = _already_escaped(record.message)
        return super().formatMessage(record)

    def formatException(
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        """The traceback, with every exception's message kept to its own line."""
        return format_exception(ei)


class JSONFormatter(logging.Formatter):
    """One JSON object per line, for log collectors: ``time`` (ISO 8601, UTC), ``level``,
    ``logger``, ``message``, ``request_id``, and ``exception`` (the traceback) if any."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # json is imported here, not at the top: only apps that log JSON lines need it.
        import json

        super().__init__(*args, **kwargs)
        self._encode = json.JSONEncoder(ensure_ascii=False, default=str).encode

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        entry: dict[str, Any] = {
            "time": f"{created}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return self._encode(entry)


#: Loggers whose lines the configuration routes through its one handler.
_LOGGERS = ("nightowl", "uvicorn", "uvicorn.error", "uvicorn.access", "_granian", "granian.access")


def logging_config(
    level: str = "info", log_format: LogFormat = "text", *, access_log: bool = True
) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` configuration: every line (nightowl's, the
    server's, the app's) to standard error through one handler, in ``log_format``, with
    the request id; ``level`` is ``critical``... ``debug`` or ``trace``."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"Unknown log format {log_format!r}: use 'text' or 'json'.")
    number = 5 if level.lower() == "trace" else logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"Unknown log level {level!r}.")
    formatter = f"{__name__}.{'JSONFormatter' if log_format == 'json' else 'TextFormatter'}"
    loggers: dict[str, Any] = {
        name: {"handlers": [], "level": number, "propagate": True} for name in _LOGGERS
    }
    if not access_log:
        loggers["uvicorn.access"]["level"] = loggers["granian.access"]["level"] = "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"nightowl": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "nightowl",
                "filters": ["request_id"],
            }
        },
        "loggers": loggers,
        "root": {"handlers": ["default"], "level": number},
    }
