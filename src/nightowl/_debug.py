"""The debug error page shown instead of a bare 500 when ``debug=True``.

It tells the story of the error: a template error's file and line at the top; then the
frames of the user's own code, most recent first, each with the source around its line
and its local variables; the frames of nightowl, Python and installed packages folded
below them; and the request (method, URL, headers, query, form). Values of names that
look like secrets (``password``, ``token``, ``secret_key``...) and the ``Cookie`` and
``Authorization`` headers are masked: a debug page gets shared in bug reports.
"""

from __future__ import annotations

import html
import linecache
import re
import reprlib
import traceback
from collections.abc import Iterable, Mapping
from types import FrameType
from typing import Any

from nightowl._frames import is_library_file
from nightowl.requests import Request

__all__ = ["MASK", "debug_page", "is_secret_name"]

#: What a masked value shows.
MASK = "********"
_SECRET = re.compile(
    r"pass|pwd|secret|token|api_?key|private|credential|signature|salt|auth|cookie|session_?id"
    r"|x-api-key",
    re.IGNORECASE,
)
_CONTEXT = 5  # source lines shown above and below a frame's line
_TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".txt", ".xml")

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
header{background:#2d1b4e;color:#fff;padding:1.2rem 2rem}
h1{margin:0;font-size:1.4rem;white-space:pre-wrap} p.where{margin:.4rem 0 0;opacity:.85}
main{padding:1rem 2rem} h2{font-size:1.1rem;margin:1.4rem 0 .4rem}
.frame{background:#fff;border:1px solid #ddd;border-radius:6px;margin:.6rem 0}
.frame h3{font-size:.9rem;margin:0;padding:.5rem .8rem;background:#f0ecf7;font-family:monospace}
.template h3{background:#ffe3e3} .library h3{background:#eee;color:#555}
pre{margin:0;padding:.5rem .8rem;overflow-x:auto;font-size:.85rem}
ol.source{margin:0;padding:.4rem 0 .4rem 3.5rem;font:.85rem monospace;white-space:pre}
ol.source li.current{background:#fff3c4;font-weight:bold}
table{border-collapse:collapse;width:100%;font-size:.85rem}
td,th{border-top:1px solid #eee;padding:.25rem .8rem;text-align:left;vertical-align:top}
th{width:16rem;font-family:monospace;font-weight:normal;color:#555}
td{font-family:monospace;white-space:pre-wrap;word-break:break-all}
details>summary{cursor:pointer;padding:.4rem .8rem} .masked{color:#999}
"""


def is_secret_name(name: str) -> bool:
    """Whether a variable, key or header called ``name`` probably holds a secret."""
    return bool(_SECRET.search(name))


def debug_page(request: Request, exc: BaseException) -> str:
    """An HTML page telling the story of ``exc``, raised while answering ``request``."""
    steps = list(traceback.walk_tb(exc.__traceback__))
    user = [(frame, line) for frame, line in steps if not is_library_file(frame.f_code.co_filename)]
    library = [(frame, line) for frame, line in steps if is_library_file(frame.f_code.co_filename)]
    title = html.escape(f"{type(exc).__name__}: {exc}")
    where = html.escape(f"{request.method} {_shown_url(request)}")
    parts = [_template_box(exc, steps)]
    parts.append("<h2>Your code, most recent call first</h2>")
    if user:
        parts.extend(
            _frame_html(frame, line, open_locals=index == 0)
            for index, (frame, line) in enumerate(reversed(user))
        )
    else:
        parts.append("<p>No frame of the traceback is in your code.</p>")
    if library:
        inner = "".join(
            _frame_html(frame, line, css="library") for frame, line in reversed(library)
        )
        parts.append(
            f"<details><summary>{len(library)} frames of nightowl, Python and installed "
            f"packages</summary>{inner}</details>"
        )
    parts.append(_request_html(request))
    full = html.escape("".join(traceback.format_exception(exc)))
    parts.append(
        f'<details><summary>The full traceback</summary><div class="frame"><pre>{full}</pre>'
        "</div></details>"
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        f'<style>{_STYLE}</style></head><body><header><h1>{title}</h1><p class="where">{where}</p>'
        f"</header><main>{''.join(parts)}<p>You see this page because the app runs with "
        "<code>debug=True</code>. Never turn debug on in production.</p></main></body></html>"
    )


def _template_box(exc: BaseException, steps: list[tuple[FrameType, int]]) -> str:
    """The template file and line an error happened in, at the top, when there is one."""
    filename: str | None = None
    lineno: int | None = None
    source_file = getattr(exc, "filename", None)  # Jinja2's TemplateSyntaxError
    if type(exc).__name__ == "TemplateSyntaxError" and source_file:
        filename, lineno = str(source_file), int(getattr(exc, "lineno", 0) or 0)
    else:
        for frame, line in reversed(steps):
            if frame.f_code.co_filename.endswith(_TEMPLATE_SUFFIXES):
                filename, lineno = frame.f_code.co_filename, line
                break
    if filename is None or not lineno:
        return ""
    return (
        f'<h2>In a template</h2><div class="frame template"><h3>{html.escape(filename)}:'
        f"{lineno}</h3>{_source(filename, lineno)}</div>"
    )


def _frame_html(frame: FrameType, lineno: int, *, css: str = "", open_locals: bool = False) -> str:
    code = frame.f_code
    heading = html.escape(f"{code.co_filename}:{lineno} in {code.co_name}")
    variables = _table(_locals(frame))
    opened = " open" if open_locals else ""
    return (
        f'<div class="frame {css}"><h3>{heading}</h3>{_source(code.co_filename, lineno)}'
        f"<details{opened}><summary>Local variables</summary>{variables}</details></div>"
    )


def _source(filename: str, lineno: int) -> str:
    """The lines around ``lineno``, the line itself highlighted."""
    first = max(1, lineno - _CONTEXT)
    items = []
    for number in range(first, lineno + _CONTEXT + 1):
        text = linecache.getline(filename, number)
        if not text and number > lineno:
            break
        css = ' class="current"' if number == lineno else ""
        items.append(f"<li{css}>{html.escape(text.rstrip())}</li>")
    if not items:
        return ""
    return f'<ol class="source" start="{first}">{"".join(items)}</ol>'


def _locals(frame: FrameType) -> list[tuple[str, str]]:
    try:
        variables = dict(frame.f_locals)
    except Exception:  # a frame whose locals cannot be read
        return []
    return [(name, _shown(name, value)) for name, value in sorted(variables.items())]


_REPR = reprlib.Repr()
_REPR.maxstring = 300
_REPR.maxother = 300
_REPR.maxdict = _REPR.maxlist = _REPR.maxtuple = _REPR.maxset = 20
_REPR.maxlevel = 3


def _shown(name: str, value: Any) -> str:
    """``repr(value)``, shortened, with secrets masked: by the variable's name, and inside
    it by the keys of mappings and the names of ``(name, value)`` pairs (ASGI headers)."""
    if is_secret_name(name):
        return MASK
    try:
        return _REPR.repr(_masked(value, 3))
    except Exception as exc:  # a __repr__ that fails must not break the page
        return f"<repr failed: {type(exc).__name__}>"


def _masked(value: Any, depth: int) -> Any:
    if depth == 0:
        return value
    if isinstance(value, Mapping):
        return {
            key: MASK
            if _secret_key(key)
            else _masked_query(item)
            if key == "query_string" and isinstance(item, bytes)  # an ASGI scope's
            else _masked(item, depth - 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and isinstance(value, tuple) and _secret_key(value[0]):
            return (value[0], MASK)
        items = [_masked(item, depth - 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _masked_query(query: str | bytes) -> str:
    """A query string with the values of secret-looking parameters masked."""
    from urllib.parse import parse_qsl, urlencode

    text = query.decode("latin-1") if isinstance(query, bytes) else query
    pairs = parse_qsl(text, keep_blank_values=True)
    return urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="*")


def _secret_key(key: Any) -> bool:
    if isinstance(key, bytes):
        key = key.decode("latin-1")
    return isinstance(key, str) and is_secret_name(key)


def _table(rows: Iterable[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(name)}</th>"
        f"<td{' class=masked' if value == MASK else ''}>{html.escape(value)}</td></tr>"
        for name, value in rows
    )
    return f"<table>{cells}</table>" if cells else "<p>None.</p>"


def _shown_url(request: Request) -> str:
    url = str(request.url)
    base, question, query = url.partition("?")
    return base + question + _masked_query(query) if question else url


def _request_html(request: Request) -> str:
    headers = [
        (name, MASK if name in ("cookie", "authorization") or is_secret_name(name) else value)
        for name, value in request.headers.items()
    ]
    query = [
        (name, MASK if is_secret_name(name) else value)
        for name, value in request.query_params.multi_items()
    ]
    form = getattr(request, "_form", None)  # only a form the handler already read
    fields: list[tuple[str, str]] = []
    if form is not None:
        for name, value in form.multi_items():
            shown = MASK if is_secret_name(name) else _REPR.repr(value)
            fields.append((name, shown if not isinstance(value, str) or shown == MASK else value))
    general = [("method", request.method), ("URL", _shown_url(request))]
    client = request.client
    if client is not None:
        general.append(("client", f"{client.host}:{client.port}"))
    sections = [("Request", general), ("Headers", headers), ("Query", query), ("Form", fields)]
    return "".join(
        f'<h2>{title}</h2><div class="frame">{_table(rows)}</div>'
        for title, rows in sections
        if rows or title in ("Request", "Headers")
    )
