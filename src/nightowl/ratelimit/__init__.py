"""Rate limits, counted by the ``limits`` package, in memory or in Redis.

::

    from nightowl import App
    from nightowl.ratelimit import RateLimit, by_api_key

    app = App(rate_limit_storage="redis://127.0.0.1:6379/0")   # memory by default

    @app.get("/search", rate_limit="10/minute")                 # per route, per client
    def search(q: str): ...

    @app.post("/reports", dependencies=[RateLimit("100/hour", key=by_api_key)])
    def report(): ...

    api = Router(prefix="/api", dependencies=[RateLimit("1000/hour", scope="api")])

Past its limit a client gets a 429 problem with ``Retry-After`` and the ``RateLimit-Limit``,
``RateLimit-Remaining`` and ``RateLimit-Reset`` headers (which every answer within the
limit carries too), and the 429 is in the OpenAPI document. With Redis, every worker and
every host counts in the same place: each hit is one atomic Lua script in Redis.
Install with ``pip install 'nightowl[ratelimit]'`` (and ``redis`` for Redis).
"""

from __future__ import annotations

from nightowl.ratelimit._keys import KeyFunction, by_api_key, by_client, by_user
from nightowl.ratelimit._limit import RateLimit, configure_storage, install, route_option

__all__ = [
    "KeyFunction",
    "RateLimit",
    "by_api_key",
    "by_client",
    "by_user",
    "configure_storage",
    "install",
    "route_option",
]
