"""Security-related response headers with safe defaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nightowl.exceptions import ImproperlyConfigured
from nightowl.middleware._headers import response_headers
from nightowl.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_HSTS", "SecurityHeadersMiddleware"]

#: What ``hsts=True`` sends: two years, subdomains included (the preload-list minimum is one).
DEFAULT_HSTS = "max-age=63072000; includeSubDomains"

CSPDirectives = Mapping[str, "str | Sequence[str]"]


def _csp_value(policy: str | CSPDirectives) -> str:
    if isinstance(policy, str):
        return policy
    parts = []
    for directive, sources in policy.items():
        value = sources if isinstance(sources, str) else " ".join(sources)
        parts.append(f"{directive} {value}".strip())
    return "; ".join(parts)


def _encode(name: str, value: str) -> tuple[bytes, bytes]:
    if "\r" in value or "\n" in value:
        raise ImproperlyConfigured(f"The {name} header value must not contain line breaks.")
    try:
        return name.lower().encode("latin-1"), value.encode("latin-1")
    except UnicodeEncodeError:
        raise ImproperlyConfigured(f"The {name} header value must be latin-1 text.") from None


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response, unless the handler set them itself.

    The defaults are safe for an API or a server-rendered site::

        X-Content-Type-Options: nosniff
        X-Frame-Options: DENY
        Referrer-Policy: strict-origin-when-cross-origin
        Cross-Origin-Opener-Policy: same-origin

    Each argument is a header value; ``None`` leaves that header out. A header the
    response already has is never overwritten, so one handler can relax a policy::

        app.add_middleware(
            SecurityHeadersMiddleware,
            content_security_policy={"default-src": "'self'", "img-src": ["'self'", "data:"]},
            hsts=True,
            x_frame_options="SAMEORIGIN",
        )

    Args:
        app: the ASGI app to wrap.
        x_content_type_options: ``X-Content-Type-Options``; stops MIME sniffing.
        x_frame_options: ``X-Frame-Options``; ``DENY`` forbids framing (clickjacking).
        referrer_policy: ``Referrer-Policy``.
        cross_origin_opener_policy: ``Cross-Origin-Opener-Policy``.
        content_security_policy: ``Content-Security-Policy``, as the header text or as a
            mapping of directive to source (or list of sources); off by default, since
            a policy has to fit the site.
        hsts: ``Strict-Transport-Security``, sent only on ``https`` requests: ``True`` for
            :data:`DEFAULT_HSTS`, or the header text, like ``"max-age=31536000"``. Off by
            default, because browsers remember it. Behind a TLS-terminating proxy the
            server must be told the original scheme (uvicorn's ``--proxy-headers``).
        permissions_policy: ``Permissions-Policy``, like ``"camera=(), geolocation=()"``.

    Raises:
        ImproperlyConfigured: for a value with a line break or outside latin-1.
    """

    __slots__ = ("app", "headers", "hsts")

    def __init__(
        self,
        app: ASGIApp,
        *,
        x_content_type_options: str | None = "nosniff",
        x_frame_options: str | None = "DENY",
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        cross_origin_opener_policy: str | None = "same-origin",
        content_security_policy: str | CSPDirectives | None = None,
        hsts: bool | str | None = None,
        permissions_policy: str | None = None,
    ) -> None:
        values = {
            "X-Content-Type-Options": x_content_type_options,
            "X-Frame-Options": x_frame_options,
            "Referrer-Policy": referrer_policy,
            "Cross-Origin-Opener-Policy": cross_origin_opener_policy,
            "Content-Security-Policy": (
                None if content_security_policy is None else _csp_value(content_security_policy)
            ),
            "Permissions-Policy": permissions_policy,
        }
        self.app = app
        #: The ``(name, value)`` pairs added to every response, names lowercased.
        self.headers: tuple[tuple[bytes, bytes], ...] = tuple(
            _encode(name, value) for name, value in values.items() if value is not None
        )
        hsts_value = DEFAULT_HSTS if hsts is True else hsts if isinstance(hsts, str) else None
        #: The ``Strict-Transport-Security`` pair added to ``https`` responses, if any.
        self.hsts = None if hsts_value is None else _encode("Strict-Transport-Security", hsts_value)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers
        if self.hsts is not None and scope.get("scheme") == "https":
            extra = (*extra, self.hsts)
        if not extra:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = response_headers(message).raw
                present = {name for name, _ in raw}
                raw.extend(pair for pair in extra if pair[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)
