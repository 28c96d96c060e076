"""Who is asking, and which request this is: set once, before anything else runs.

:class:`ConnectionIdentity` runs first for every HTTP request and WebSocket the app
serves:

* **The client.** Behind a reverse proxy the TCP peer is the proxy. When the peer is one
  of ``App(trusted_proxies=[...])``, the client's address is read from ``Forwarded``
  (RFC 7239) or ``X-Forwarded-For``, walking from the nearest hop back and stopping at the
  first address that is not a trusted proxy (a client can put anything at the start of
  the list, so the start is never believed on its own); the scheme from ``proto=`` or
  ``X-Forwarded-Proto``. The result replaces the ASGI scope's ``client`` and ``scheme``,
  so ``request.client``, the server's access log, rate limits and the auth battery's
  login throttling all see the same address.
* **The request id.** A well-formed incoming ``X-Request-ID`` (1 to 128 letters, digits
  and ``-_.:+/=~``) is kept, so one id follows a request through the proxies and
  services it crosses; anything else is replaced by a new random id. The id is
  ``request.request_id``, it is echoed in the response, every log line written while
  the request is served carries it, and so does every problem body.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import re
from collections.abc import Iterable

from nightowl._logging import REQUEST_ID
from nightowl.exceptions import ImproperlyConfigured
from nightowl.types import Message, Scope, Send

__all__ = ["ConnectionIdentity", "TrustedProxies"]

_WELL_FORMED = re.compile(r"[A-Za-z0-9\-_.:+/=~]{1,128}")


class _Ids:
    """New request ids, 32 hex digits: a random prefix of this process and a counter.

    Unique, not secret, and cheaper than 128 random bits per request; a forked worker
    draws a prefix of its own.
    """

    def __init__(self) -> None:
        self.renew()

    def renew(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_IDS = _Ids()
os.register_at_fork(after_in_child=_IDS.renew)
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TrustedProxies:
    """The proxies whose ``Forwarded``/``X-Forwarded-*`` headers are believed.

    Args:
        proxies: addresses (``"10.0.0.5"``) and networks (``"10.0.0.0/8"``,
            ``"fd00::/8"``); ``"*"`` trusts every peer (only when nothing but the proxy
            can reach the app).
    """

    __slots__ = ("any", "networks")

    def __init__(self, proxies: Iterable[str]) -> None:
        self.any = False
        self.networks: list[_Network] = []
        for proxy in proxies:
            if proxy == "*":
                self.any = True
                continue
            try:
                self.networks.append(ipaddress.ip_network(proxy.strip(), strict=False))
            except ValueError:
                raise ImproperlyConfigured(
                    f"trusted_proxies: {proxy!r} is not an IP address or network "
                    "(such as '10.0.0.1' or '10.0.0.0/8')."
                ) from None

    def trusts(self, address: _Address | None) -> bool:
        """Whether ``address`` is one of the trusted proxies."""
        if address is None:
            return False
        return self.any or any(address in network for network in self.networks)

    def resolve(self, scope: Scope) -> None:
        """Replace ``scope["client"]`` and ``scope["scheme"]`` with what a trusted proxy says."""
        client = scope.get("client")
        if not client or not self.trusts(_parse(client[0])):
            return
        hops, protos = _forwarded(scope["headers"])
        if not hops:
            return
        chosen = len(hops) - 1
        while chosen > 0 and self.trusts(hops[chosen]):
            chosen -= 1
        address = hops[chosen]
        if address is None:
            return  # "unknown" or an obfuscated name: keep the proxy's address
        scope["client"] = (str(address), 0)
        proto = protos[chosen] if chosen < len(protos) else (protos[-1] if protos else None)
        if proto in ("http", "https"):
            secure = proto == "https"
            if scope["type"] == "websocket":
                scope["scheme"] = "wss" if secure else "ws"
            else:
                scope["scheme"] = proto


def _parse(text: str) -> _Address | None:
    text = text.strip().strip('"')
    if text.startswith("["):  # "[2001:db8::1]:4711"
        text = text[1 : text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:  # "192.0.2.1:4711"
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _forwarded(headers: Iterable[tuple[bytes, bytes]]) -> tuple[list[_Address | None], list[str]]:
    """The hops (client first) and protocols a proxy reported, from ``Forwarded`` if sent,
    else from ``X-Forwarded-For`` and ``X-Forwarded-Proto``."""
    forwarded: list[str] = []
    xff: list[str] = []
    xfp: list[str] = []
    for name, value in headers:
        if name == b"forwarded":
            forwarded.append(value.decode("latin-1"))
        elif name == b"x-forwarded-for":
            xff.append(value.decode("latin-1"))
        elif name == b"x-forwarded-proto":
            xfp.append(value.decode("latin-1"))
    if forwarded:
        hops: list[_Address | None] = []
        protos: list[str] = []
        for element in ",".join(forwarded).split(","):
            pairs = dict(_pair(part) for part in element.split(";") if "=" in part)
            hops.append(_parse(pairs.get("for", "")))
            protos.append(pairs.get("proto", "").lower())
        return hops, protos
    addresses = [_parse(part) for part in ",".join(xff).split(",") if part.strip()]
    return addresses, [p.strip().lower() for p in ",".join(xfp).split(",") if p.strip()][-1:]


def _pair(part: str) -> tuple[str, str]:
    key, _, value = part.partition("=")
    return key.strip().lower(), value.strip().strip('"')


class ConnectionIdentity:
    """Resolves the client behind trusted proxies and gives each request its id.

    Args:
        request_id_header: the header read and echoed (``X-Request-ID``); ``None``
            turns request ids off.
        trusted_proxies: see :class:`TrustedProxies`; empty trusts no one.
    """

    __slots__ = ("header", "header_bytes", "proxies")

    def __init__(self, request_id_header: str | None, trusted_proxies: Iterable[str]) -> None:
        self.header = request_id_header
        self.header_bytes = request_id_header.lower().encode() if request_id_header else b""
        proxies = list(trusted_proxies)
        if isinstance(trusted_proxies, str):
            raise ImproperlyConfigured(
                f"trusted_proxies takes a list of addresses: [{trusted_proxies!r}]."
            )
        self.proxies = TrustedProxies(proxies) if proxies else None

    def prepare(self, scope: Scope, send: Send) -> Send:
        """Resolve the client, set the request id (in the scope and for logging) and
        return ``send`` wrapped to echo it in the response."""
        if "request_id" in scope:
            return send  # an outer nightowl app (this one is mounted in it) did it already
        if self.proxies is not None:
            self.proxies.resolve(scope)
        header_name = self.header_bytes
        if not header_name:
            return send
        request_id = None
        for name, value in scope["headers"]:
            if name == header_name:
                text = value.decode("latin-1")
                if _WELL_FORMED.fullmatch(text):
                    request_id = text
                break
        if request_id is None:
            request_id = _IDS.next()
        scope["request_id"] = request_id
        REQUEST_ID.set(request_id)
        if scope["type"] != "http":
            return send
        header = (header_name, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Each start message is a new dict; its header list may be shared.
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        return send_with_id
