"""Content negotiation: answer HTML to browsers and JSON to API clients from one route.

::

    from nightowl.negotiation import negotiate

    @app.get("/users/{user_id}")
    def user(request: Request, user_id: int):
        found = USERS[user_id]
        return negotiate(
            request,
            html=lambda: render("user.html", request, user=found),   # browsers
            json=found,                                             # everyone else
        )

The ``Accept`` header is parsed with its quality values (RFC 9110, section 12.5.1):
a browser's ``text/html,...,*/*;q=0.8`` picks HTML, while ``*/*``, a missing header
or ``application/json`` pick JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from nightowl._accept import parse_accept, quality

if TYPE_CHECKING:
    from nightowl.requests import Request

__all__ = ["best_match", "negotiate", "parse_accept", "prefers_html", "quality"]

_HTML = "text/html"
_JSON = "application/json"


def best_match(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers, or ``None`` if it accepts none of them.

    Higher quality wins, then the more specific range (``text/html`` named outright beats
    ``application/json`` reached through ``*/*``), then the order of ``offers``. Without an
    ``Accept`` header the client takes anything: the first offer wins.
    """
    if not offers:
        return None
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    chosen: str | None = None
    chosen_rank = (0.0, -1)
    for offer in offers:
        rank = quality(offer, ranges)
        if rank[0] > 0 and rank > chosen_rank:
            chosen, chosen_rank = offer, rank
    return chosen


def prefers_html(request: Request) -> bool:
    """Whether the client would rather have HTML than JSON: true for browsers navigating,
    false for API clients (``*/*``, ``application/json``, no ``Accept`` header)."""
    accept = request.headers.get("accept")
    if not accept or "html" not in accept:
        return False  # the common API-client case, without parsing
    return best_match(accept, (_JSON, _HTML)) == _HTML


def negotiate(
    request: Request,
    *,
    json: Any = None,
    html: Any = None,
    text: Any = None,
    vary: bool = True,
) -> Any:
    """Return the answer the client prefers, among the ones given.

    Each answer is a value to return from the handler (a dict, a model, a
    :class:`~nightowl.responses.Response`...) or a function of no arguments producing one,
    called only if chosen (so a template is rendered only for browsers). The JSON answer
    is the default: for ``*/*``, a missing ``Accept`` header, or a client accepting none
    of the offers. ``vary=True`` adds ``Vary: Accept`` to the response, so caches keep
    one copy per kind.

    Args:
        request: the current request.
        json: the answer for ``application/json`` (serialised like any handler result).
        html: the answer for ``text/html``, usually ``lambda: render(...)``.
        text: the answer for ``text/plain``.
        vary: add ``Vary: Accept`` to the response.
    """
    answers = {
        media_type: answer
        for media_type, answer in ((_JSON, json), (_HTML, html), ("text/plain", text))
        if answer is not None
    }
    if not answers:
        raise TypeError("negotiate() needs at least one of json=, html= or text=.")
    chosen = best_match(request.headers.get("accept"), list(answers)) or next(iter(answers))
    if vary:
        request.before_response(_add_vary)
    return _produce(answers[chosen])


def _produce(answer: Any) -> Any:
    # A Response is itself callable (an ASGI app): it is the answer, not a factory.
    if callable(answer) and not hasattr(answer, "raw_headers") and not isinstance(answer, type):
        factory: Callable[[], Any] = answer
        return factory()
    return answer


async def _add_vary(response: Any) -> None:
    headers = getattr(response, "headers", None)
    if headers is not None and hasattr(headers, "add_vary_header"):
        headers.add_vary_header("Accept")
