"""nightowl's built-in ASGI middleware.

Each class wraps an ASGI app and is added with :meth:`nightowl.App.add_middleware`::

    from nightowl import App
    from nightowl.middleware import CORSMiddleware, GZipMiddleware

    app = App()
    app.add_middleware(GZipMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example"])

The middleware added last runs first (it is the outermost layer).
"""

from __future__ import annotations

from nightowl.middleware.cors import CORSMiddleware
from nightowl.middleware.functions import FunctionMiddleware
from nightowl.middleware.gzip import GZipMiddleware
from nightowl.middleware.httpsredirect import HTTPSRedirectMiddleware
from nightowl.middleware.security import SecurityHeadersMiddleware
from nightowl.middleware.trustedhost import TrustedHostMiddleware

__all__ = [
    "CORSMiddleware",
    "FunctionMiddleware",
    "GZipMiddleware",
    "HTTPSRedirectMiddleware",
    "SecurityHeadersMiddleware",
    "TrustedHostMiddleware",
]
