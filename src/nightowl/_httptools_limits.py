"""uvicorn's httptools protocol with a limit on the size and number of request headers.

httptools buffers whatever header a client sends (16 MB arrives whole, and the app answers
200); this protocol counts the request line and headers as the parser hands them over and
answers 431, closing the connection, as soon as a limit is passed. ``nightowl serve`` and
``nightowl run`` select it when httptools is installed; the limits reach worker processes
through the environment, like the rest of the serving options.

Imported only by uvicorn, by name, when it builds the protocol: it needs httptools.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from nightowl._guard import limits_from_environment

__all__ = ["LimitedHttpToolsProtocol"]


class _TooLarge(Exception):
    """Raised from a parser callback to stop parsing a request whose headers are too big."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` answering 431 to a request over the header limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_header_size, self.max_headers = limits_from_environment()
        self._header_bytes = 0
        self._header_count = 0
        self._too_large: str | None = None

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        self._header_count = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.max_headers:
            self._refuse(f"The request has more than {self.max_headers} header fields.")
        self._count(len(name) + len(value))
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.max_header_size:
            self._refuse(f"The request's headers exceed {self.max_header_size} bytes.")

    def _refuse(self, detail: str) -> None:
        self._too_large = detail
        raise _TooLarge(detail)  # httptools turns it into a parser error: no more parsing

    def send_400_response(self, msg: str) -> None:
        """Answer the parser's error; a 431 when it was ours."""
        if self._too_large is None:
            super().send_400_response(msg)
            return
        body = self._too_large.encode()
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[431],
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(body)).encode() + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()
