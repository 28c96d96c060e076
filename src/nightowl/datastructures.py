"""Request and response data structures: headers, query parameters, URLs, forms, uploads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, TypeVar
from urllib.parse import SplitResult, unquote, urlsplit

from nightowl.exceptions import HTTPException
from nightowl.types import RawHeaders, Scope

__all__ = [
    "URL",
    "FormData",
    "Headers",
    "MultiDict",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UploadFile",
    "encode_header",
    "parse_query_dict",
    "parse_query_string",
]

_T = TypeVar("_T")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _unquote_plus(value: str, where: str) -> str:
    if "+" in value:
        value = value.replace("+", " ")
    if "%" not in value:
        return value
    if _BAD_PERCENT.search(value):
        raise HTTPException(400, f"Malformed percent-encoding in the {where}.")
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise HTTPException(400, f"The {where} is not valid UTF-8.") from None


def parse_query_string(query: str | bytes, where: str = "query string") -> list[tuple[str, str]]:
    """Split ``a=1&b=2`` into pairs, decoding strictly.

    Malformed percent-escapes and invalid UTF-8 raise a 400 :class:`HTTPException`
    instead of being silently replaced. Empty keys are skipped; a key without ``=``
    has the empty string as its value.
    """
    if isinstance(query, bytes):
        try:
            query = query.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, f"The {where} is not valid UTF-8.") from None
    pairs: list[tuple[str, str]] = []
    if not query:
        return pairs
    for chunk in query.split("&"):
        if not chunk:
            continue
        key, _, value = chunk.partition("=")
        key = _unquote_plus(key, where)
        if key:
            pairs.append((key, _unquote_plus(value, where) if value else ""))
    return pairs


def parse_query_dict(query: bytes) -> dict[str, str]:
    """Parse a raw query string into a dict (the last value of a repeated key wins).

    The fast path for handlers that take no list parameters; decoding is as strict
    as :func:`parse_query_string`.
    """
    if not query:
        return {}
    try:
        text = query.decode("ascii")
    except UnicodeDecodeError:
        return dict(parse_query_string(query))
    result: dict[str, str] = {}
    for chunk in text.split("&"):
        key, _, value = chunk.partition("=")
        if "%" in chunk or "+" in chunk:
            key = _unquote_plus(key, "query string")
            value = _unquote_plus(value, "query string")
        if key:
            result[key] = value
    return result


class MultiDict(Mapping[str, _T]):
    """An immutable mapping where a key may carry several values; ``[key]`` is the last one."""

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Iterable[tuple[str, _T]] = ()) -> None:
        self._list: list[tuple[str, _T]] = list(items)
        self._dict: dict[str, _T] = dict(self._list)

    def getlist(self, key: str) -> list[_T]:
        """Every value given for ``key``, in order."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, _T]]:
        """Every ``(key, value)`` pair, repeated keys included."""
        return list(self._list)

    def __getitem__(self, key: str) -> _T:
        return self._dict[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The last value for ``key``, or ``default``."""
        return self._dict.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return self._list == other._list
        return NotImplemented

    def __hash__(self) -> int:  # pragma: no cover - mutable-looking, never hashed
        raise TypeError("unhashable type")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(MultiDict[str]):
    """The parsed query string of a request."""

    __slots__ = ()

    def __init__(self, query: str | bytes | Iterable[tuple[str, str]] = "") -> None:
        if isinstance(query, (str, bytes)):
            super().__init__(parse_query_string(query))
        else:
            super().__init__(query)


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued, read-only HTTP headers.

    Built from the raw ASGI header list; ``headers["content-type"]`` and
    ``headers["Content-Type"]`` are the same, ``getlist`` returns every value.
    """

    __slots__ = ("_dict", "raw")

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        raw: RawHeaders | None = None,
        scope: Scope | None = None,
    ) -> None:
        if scope is not None:
            raw = scope["headers"]
        if raw is None:
            raw = [
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in (headers or {}).items()
            ]
        self.raw: RawHeaders = list(raw) if not isinstance(raw, list) else raw
        self._dict: dict[str, str] | None = None

    def _mapping(self) -> dict[str, str]:
        if self._dict is None:
            mapping: dict[str, str] = {}
            for key, value in self.raw:
                name = key.decode("latin-1").lower()
                text = value.decode("latin-1")
                # Repeated headers fold into one comma-separated value (RFC 9110 5.3),
                # except cookies, which use "; ".
                if name in mapping:
                    mapping[name] += ("; " if name == "cookie" else ", ") + text
                else:
                    mapping[name] = text
            self._dict = mapping
        return self._dict

    def getlist(self, key: str) -> list[str]:
        """Every value sent for the header ``key``, in order, unfolded."""
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self.raw if k.lower() == name]

    def __getitem__(self, key: str) -> str:
        return self._mapping()[key.lower()]

    def get(self, key: str, default: Any = None) -> Any:
        """The header's value, or ``default`` when it was not sent."""
        return self._mapping().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._mapping()

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._mapping()!r})"


def encode_header(key: str, value: str) -> tuple[bytes, bytes]:
    """``(name, value)`` as sent: the name lower-cased, both latin-1.

    Raises:
        ValueError: the name is empty or holds a space, a colon or a control character, or
            the value holds a line break or NUL; sent, they would end the header early (an
            empty reply, or headers an attacker chose: response splitting).
    """
    if not key or any(c in key for c in _BAD_NAME_CHARS):
        raise ValueError(f"{key!r} is not a valid header name.")
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValueError(
            f"The value of the {key!r} header holds a line break or NUL, which would end the "
            f"header early: {value!r}."
        )
    return key.lower().encode("latin-1"), value.encode("latin-1")


_BAD_NAME_CHARS = frozenset(" \t\r\n\x00:")


class MutableHeaders(Headers):
    """Response headers that can be set, appended to and deleted.

    Setting a value with a line break raises ``ValueError`` (see :func:`encode_header`).
    """

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        name, raw_value = encode_header(key, value)
        # Raw names may be mixed-case (ASGI allows it): compare case-insensitively.
        self.raw[:] = [(k, v) for k, v in self.raw if k.lower() != name]
        self.raw.append((name, raw_value))
        self._dict = None

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        self.raw[:] = [(k, v) for k, v in self.raw if k.lower() != name]
        self._dict = None

    def append(self, key: str, value: str) -> None:
        """Add another value for ``key`` (``Set-Cookie``, ``Vary``...)."""
        self.raw.append(encode_header(key, value))
        self._dict = None

    def setdefault(self, key: str, value: str) -> str:
        """Set ``key`` unless it is already present; return its value."""
        if key not in self:
            self[key] = value
        return str(self[key])

    def add_vary_header(self, vary: str) -> None:
        """Add ``vary`` to the ``Vary`` header, keeping what is there and adding it once."""
        existing = self.get("vary")
        if not existing:
            self["vary"] = vary
        elif vary.lower() not in {item.lower() for item in header_value_list(existing)}:
            self["vary"] = f"{existing}, {vary}"


class URL:
    """A parsed URL with the parts a handler usually wants."""

    __slots__ = ("_parts", "_url")

    def __init__(self, url: str = "", *, scope: Scope | None = None) -> None:
        if scope is not None:
            scheme = scope.get("scheme", "http")
            server = scope.get("server")
            path = scope.get("root_path", "") + scope["path"]
            query = scope.get("query_string", b"").decode("latin-1")
            host = None
            for key, value in scope["headers"]:
                if key == b"host":
                    host = value.decode("latin-1")
                    break
            if host is None and server:
                host_name, port = server
                default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
                host = host_name if port == default else f"{host_name}:{port}"
            url = f"{scheme}://{host or 'localhost'}{path}"
            if query:
                url += "?" + query
        self._url = url
        self._parts: SplitResult = urlsplit(url)

    @property
    def scheme(self) -> str:
        """``http``, ``https``, ``ws`` or ``wss``."""
        return self._parts.scheme

    @property
    def netloc(self) -> str:
        """``host:port`` as sent."""
        return self._parts.netloc

    @property
    def hostname(self) -> str | None:
        """The host name without the port."""
        return self._parts.hostname

    @property
    def port(self) -> int | None:
        """The explicit port, or ``None``."""
        return self._parts.port

    @property
    def path(self) -> str:
        """The path part."""
        return self._parts.path

    @property
    def query(self) -> str:
        """The raw query string, without ``?``."""
        return self._parts.query

    @property
    def is_secure(self) -> bool:
        """True for ``https`` and ``wss``."""
        return self.scheme in ("https", "wss")

    def replace(self, **parts: Any) -> URL:
        """A copy with some parts (``scheme``, ``netloc``, ``path``, ``query``) replaced."""
        return URL(self._parts._replace(**parts).geturl())

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"URL({self._url!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._url)


class UploadFile:
    """A file sent in a multipart form, spooled to disk past ``max_memory`` bytes.

    Read it with ``await upload.read()`` in async code or ``upload.file.read()``
    in sync code.
    """

    __slots__ = ("file", "filename", "headers", "size")

    def __init__(
        self,
        file: BinaryIO,
        *,
        filename: str | None = None,
        size: int | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.file = file
        self.filename = filename
        self.size = size
        self.headers = headers or Headers()

    @classmethod
    def spooled(cls, filename: str | None, headers: Headers, max_memory: int) -> UploadFile:
        """A new empty upload backed by a spooled temporary file."""
        from tempfile import SpooledTemporaryFile  # here: tempfile is slow to import

        spool: Any = SpooledTemporaryFile(max_size=max_memory)  # noqa: SIM115 - closed by FormData.close()
        return cls(spool, filename=filename, size=0, headers=headers)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.is_instance_schema(cls)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string", "format": "binary"}

    @property
    def content_type(self) -> str | None:
        """The part's ``Content-Type``."""
        value = self.headers.get("content-type")
        return value if isinstance(value, str) else None

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all by default)."""
        return self.file.read(size)

    async def seek(self, offset: int) -> None:
        """Move to ``offset``."""
        self.file.seek(offset)

    async def write(self, data: bytes) -> None:
        """Append ``data`` (used while parsing)."""
        self.file.write(data)
        self.size = (self.size or 0) + len(data)

    async def close(self) -> None:
        """Close the underlying file."""
        self.file.close()

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, size={self.size!r})"


class FormData(MultiDict["str | UploadFile"]):
    """Parsed form fields and uploaded files."""

    __slots__ = ()

    async def close(self) -> None:
        """Close every uploaded file."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()


class State:
    """An attribute bag: ``app.state.db = ...``, ``request.state.user = ...``."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        super().__setattr__("_state", state if state is not None else {})

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: str) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute '{key}'") from None

    def __delattr__(self, key: str) -> None:
        del self._state[key]

    def __contains__(self, key: str) -> bool:
        return key in self._state


def header_value_list(value: str) -> Sequence[str]:
    """Split a comma-separated header value into stripped items."""
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_cookie_header(header: str | None) -> dict[str, str]:
    """Parse a ``Cookie`` request header leniently, as browsers send it."""
    cookies: dict[str, str] = {}
    if not header:
        return cookies
    for chunk in header.split(";"):
        key, sep, value = chunk.partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            key, value = "", key
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if key or value:
            cookies[key] = unquote(value)
    return cookies
