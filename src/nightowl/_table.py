"""The route table: path templates compiled into a dict of static paths and a segment trie.

Lookup is a dict hit for static paths and a walk down the trie (one step per path
segment) for dynamic ones; it never scans the list of routes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from nightowl.exceptions import ImproperlyConfigured

__all__ = ["CONVERTERS", "PathTemplate", "RouteTable"]

R = TypeVar("R")

#: Converter name -> (regular expression for one match, Python type it validates to).
CONVERTERS: dict[str, tuple[str, Any]] = {
    "str": (r"[^/]+", str),
    "int": (r"[0-9]+", int),
    "float": (r"[0-9]+(?:\.[0-9]+)?", float),
    "uuid": (
        r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}",
        uuid.UUID,
    ),
    "slug": (r"[-a-zA-Z0-9_]+", str),
    "path": (r".*", str),
}

# {name}, {name:conv}, and Flask's <name>, <conv:name>
_PARAM = re.compile(
    r"\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<conv>[a-z]+))?\}"
    r"|<(?:(?P<fconv>[a-z]+):)?(?P<fname>[A-Za-z_][A-Za-z0-9_]*)>"
)


class _Segment:
    # Plain classes with __slots__ rather than dataclasses: a hello world need not import
    # dataclasses, and slot reads are the cheapest attribute reads per request.
    __slots__ = ("is_path", "names", "regex", "text", "whole")

    def __init__(
        self,
        text: str,  # the template segment, normalised to {name:conv}
        regex: re.Pattern[str] | None,  # None for a static segment
        names: tuple[str, ...],
        is_path: bool,  # a {x:path} that swallows the rest
        whole: str | None = None,  # "str" or "int" when one parameter is the whole segment
    ) -> None:
        self.text = text
        self.regex = regex
        self.names = names
        self.is_path = is_path
        self.whole = whole


class PathTemplate:
    """A parsed route path such as ``/users/{user_id:int}`` or ``/posts/<slug>``."""

    __slots__ = ("converters", "format", "param_types", "path", "segments")

    def __init__(self, path: str) -> None:
        if not path.startswith("/"):
            raise ImproperlyConfigured(f"Route paths must start with '/': {path!r}")
        self.converters: dict[str, str] = {}
        self.param_types: dict[str, Any] = {}
        normalised = _PARAM.sub(self._normalise, path)
        self.path = normalised
        self.format = re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*):[a-z]+\}", r"{\1}", normalised)
        raw_segments = normalised.split("/")[1:]
        segments = []
        for index, text in enumerate(raw_segments):
            names = tuple(
                m.group(1) for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*):([a-z]+)\}", text)
            )
            is_path = any(self.converters[n] == "path" for n in names)
            if is_path and index != len(raw_segments) - 1:
                raise ImproperlyConfigured(f"A {{name:path}} parameter must come last: {path!r}")
            regex = None
            if names:
                pattern, last = "", 0
                for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*):([a-z]+)\}", text):
                    pattern += re.escape(text[last : m.start()])
                    pattern += f"(?P<{m.group(1)}>{CONVERTERS[m.group(2)][0]})"
                    last = m.end()
                pattern += re.escape(text[last:])
                regex = re.compile(pattern, re.DOTALL)
            whole = None
            if len(names) == 1 and text == f"{{{names[0]}:{self.converters[names[0]]}}}":
                conv = self.converters[names[0]]
                whole = conv if conv in ("str", "int") else None
            segments.append(_Segment(text, regex, names, is_path, whole))
        self.segments = tuple(segments)

    def _normalise(self, match: re.Match[str]) -> str:
        name = match.group("name") or match.group("fname")
        conv = match.group("conv") or match.group("fconv") or "str"
        if conv not in CONVERTERS:
            raise ImproperlyConfigured(
                f"Unknown path converter {conv!r}; use one of {', '.join(CONVERTERS)}."
            )
        if name in self.converters:
            raise ImproperlyConfigured(f"Path parameter {name!r} appears twice.")
        self.converters[name] = conv
        self.param_types[name] = CONVERTERS[conv][1]
        return f"{{{name}:{conv}}}"

    @property
    def is_static(self) -> bool:
        """True when the path has no parameters."""
        return not self.converters

    def expand(self, params: dict[str, Any]) -> str:
        """Fill the parameters in (for ``url_for``)."""
        from urllib.parse import quote

        missing = set(self.converters) - set(params)
        if missing:
            raise KeyError(f"missing path parameters: {', '.join(sorted(missing))}")
        values = {
            # A path value joins the template's own slash: "/static/{path:path}" with
            # "/a.css" is "/static/a.css", not "/static//a.css".
            name: quote(str(params[name]).lstrip("/"), safe="/")
            if conv == "path"
            else quote(str(params[name]), safe="")
            for name, conv in self.converters.items()
        }
        return self.format.format(**values)

    def __repr__(self) -> str:
        return f"PathTemplate({self.path!r})"


class _Node(Generic[R]):
    # A plain class for the reasons _Segment gives.
    __slots__ = ("dynamic", "rest", "routes", "static")

    def __init__(self) -> None:
        self.routes: dict[str, R] = {}  # method -> route
        self.static: dict[str, _Node[R]] = {}
        self.dynamic: list[tuple[_Segment, _Node[R]]] = []
        self.rest: list[tuple[_Segment, _Node[R]]] = []  # {x:path} segments


class RouteTable(Generic[R]):
    """Maps (method, path) to a route and its raw path parameters."""

    __slots__ = ("_root", "_static")

    def __init__(self) -> None:
        self._static: dict[str, dict[str, R]] = {}
        self._root: _Node[R] = _Node()

    def add(
        self, template: PathTemplate, methods: Iterable[str], route: R, *, implicit: bool = False
    ) -> None:
        """Register ``route`` for ``methods`` at ``template``.

        A duplicate is a configuration error, unless ``implicit`` (then the existing
        route wins: an explicit HEAD handler beats the GET one answering HEAD).
        """
        if template.is_static:
            slot = self._static.setdefault(template.path, {})
        else:
            node = self._root
            for segment in template.segments:
                if segment.regex is None:
                    node = node.static.setdefault(segment.text, _Node())
                    continue
                branches = node.rest if segment.is_path else node.dynamic
                for existing, child in branches:
                    if existing.text == segment.text:
                        node = child
                        break
                else:
                    child = _Node()
                    branches.append((segment, child))
                    node = child
            slot = node.routes
        for method in methods:
            if method in slot:
                if implicit:
                    continue
                raise ImproperlyConfigured(f"Two routes answer {method} {template.path}.")
            slot[method] = route

    def lookup(self, method: str, path: str) -> tuple[R | None, dict[str, str], set[str]]:
        """Find the route for ``method`` at ``path``.

        Returns ``(route, params, allowed)``; when ``route`` is ``None``, ``allowed``
        holds the methods the path does answer (empty: the path is unknown).
        """
        allowed: set[str] = set()
        routes = self._static.get(path)
        if routes is not None:
            route = routes.get(method)
            if route is not None:
                return route, {}, allowed
            allowed.update(routes)
        segments = path.split("/")[1:]
        params: dict[str, str] = {}
        found = self._walk(self._root, segments, 0, method, params, allowed)
        if found is not None:
            return found, params, allowed
        return None, {}, allowed

    def _walk(
        self,
        node: _Node[R],
        segments: list[str],
        index: int,
        method: str,
        params: dict[str, str],
        allowed: set[str],
    ) -> R | None:
        if index == len(segments):
            if node.routes:
                route = node.routes.get(method)
                if route is not None:
                    return route
                allowed.update(node.routes)
            return None
        segment = segments[index]
        child = node.static.get(segment)
        if child is not None:
            found = self._walk(child, segments, index + 1, method, params, allowed)
            if found is not None:
                return found
        for template, child in node.dynamic:
            whole = template.whole
            if whole is not None:
                # {x} and {x:int} spanning the segment: no regex needed.
                if not segment or (
                    whole == "int" and not (segment.isdigit() and segment.isascii())
                ):
                    continue
                found = self._walk(child, segments, index + 1, method, params, allowed)
                if found is not None:
                    params[template.names[0]] = segment
                    return found
                continue
            match = template.regex.fullmatch(segment)  # type: ignore[union-attr]
            if match is None:
                continue
            found = self._walk(child, segments, index + 1, method, params, allowed)
            if found is not None:
                params.update(match.groupdict())
                return found
        if node.rest:
            remainder = "/".join(segments[index:])
            for template, child in node.rest:
                match = template.regex.fullmatch(remainder)  # type: ignore[union-attr]
                if match is None or not child.routes:
                    continue
                route = child.routes.get(method)
                if route is not None:
                    params.update(match.groupdict())
                    return route
                allowed.update(child.routes)
        return None
