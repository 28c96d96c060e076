"""Per-framework benchmark applications, shared by ``asgi_bench.py`` and ``http_bench.py``.

Every module exposes ``build(sync: bool) -> ASGI app`` plus module-level ``app_async`` and
``app_sync`` (so ``uvicorn apps.<module>:app_async`` serves it), and a ``NOTES`` string on
how plain ``def`` handlers are run by that framework. Each app answers the same routes:

* ``GET /`` -> ``{"message": "hello world"}``
* ``GET /users/{user_id}`` (int) -> ``{"id": user_id}``
* ``GET /search?q=<str>&limit=<int>`` -> ``{"q": q, "limit": limit}``
* ``POST /items`` (JSON ``Item``) -> 201 with the item
* anything else -> 404
"""

from __future__ import annotations

#: Benchmark name -> module under ``apps`` (the import needs only that framework installed).
FRAMEWORKS: dict[str, str] = {
    "nightowl": "nightowl_app",
    "blacksheep": "blacksheep_app",
    "starlette": "starlette_app",
    "litestar": "litestar_app",
    "fastapi": "fastapi_app",
    "bare": "bare_app",
}
