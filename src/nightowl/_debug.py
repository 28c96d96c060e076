"""The debug error page shown instead of a bare 500 when ``debug=True``."""

from __future__ import annotations

import html
import traceback

from nightowl.requests import Request

__all__ = ["debug_page"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
header{background:#2d1b4e;color:#fff;padding:1.2rem 2rem}
h1{margin:0;font-size:1.4rem} p.where{margin:.4rem 0 0;opacity:.8}
main{padding:1rem 2rem} .frame{background:#fff;border:1px solid #ddd;border-radius:6px;margin:.6rem 0}
.frame h2{font-size:.95rem;margin:0;padding:.5rem .8rem;background:#f0ecf7;font-family:monospace}
pre{margin:0;padding:.6rem .8rem;overflow-x:auto;font-size:.85rem} .line{background:#fff3c4}
"""


def debug_page(request: Request, exc: BaseException) -> str:
    """An HTML page with the exception and the source around each frame of its traceback."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        code = html.escape(frame.line or "")
        frames.append(
            f'<div class="frame"><h2>{html.escape(frame.filename)}:{frame.lineno} in '
            f'{html.escape(frame.name)}</h2><pre class="line">{code}</pre></div>'
        )
    title = html.escape(f"{type(exc).__name__}: {exc}")
    where = html.escape(f"{request.method} {request.path}")
    full = html.escape("".join(traceback.format_exception(exc)))
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        f'<style>{_STYLE}</style></head><body><header><h1>{title}</h1><p class="where">{where}</p>'
        f'</header><main>{"".join(frames)}<h3>Full traceback</h3><div class="frame"><pre>{full}</pre>'
        "</div><p>You see this page because the app runs with <code>debug=True</code>. "
        "Never turn debug on in production.</p></main></body></html>"
    )
