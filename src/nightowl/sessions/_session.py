"""The session object handlers see as ``request.session``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ["HTTPSession"]


class HTTPSession(MutableMapping[str, Any]):
    """A dict-like store that follows one browser from request to request.

    ::

        @app.post("/cart")
        def add(request: Request, item: Annotated[str, Form()]):
            request.session["cart"] = [*request.session.get("cart", []), item]

    Values must be JSON-serialisable. Changes are saved when the response starts;
    changing a value in place (``session["cart"].append(x)``) is not noticed, so
    assign again or set ``session.modified = True``.

    Attributes:
        id: the server-side id (``None`` for the cookie backend or a new session).
        from_cookie: the request carried a session cookie (even a tampered or expired one).
        modified: the data changed and will be saved.
        accessed: the data was read or written (the response then varies on ``Cookie``).
        joined: what the backend read in the same query as the session, by name: for each
            :class:`~nightowl.sessions.backends.SessionJoin`, the value its key had then
            and the matching row (``None`` when none matched). Empty unless the backend
            supports joins (the database backend) and a battery asked for one.
    """

    __slots__ = ("_data", "accessed", "from_cookie", "id", "joined", "modified", "regenerate_id")

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        id: str | None = None,
        from_cookie: bool = False,
        joined: Mapping[str, tuple[Any, Any]] | None = None,
    ) -> None:
        self._data: dict[str, Any] = data or {}
        self.id = id
        self.from_cookie = from_cookie
        self.joined: Mapping[str, tuple[Any, Any]] = joined or {}
        self.modified = False
        self.accessed = False
        self.regenerate_id = False

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.accessed = True
        self._data[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        self.accessed = True
        del self._data[key]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed = True
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return key in self._data

    def clear(self) -> None:
        """Forget everything (logging out): the cookie is deleted with the response."""
        if self._data:
            self._data.clear()
            self.modified = True

    def cycle_id(self) -> None:
        """Keep the data under a new id (call it on login, against session fixation)."""
        self.regenerate_id = True
        self.modified = True

    def to_dict(self) -> dict[str, Any]:
        """A plain copy of the data."""
        return dict(self._data)

    def __repr__(self) -> str:
        return f"HTTPSession({self._data!r})"
