"""The ``Accept`` header: media ranges with their quality values (RFC 9110, section 12.5.1).

Shared by ``Request.accepts`` and :mod:`nightowl.negotiation`, which re-exports both
functions.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["parse_accept", "quality"]


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """The media ranges of an ``Accept`` header with their quality, in the header's order.

    ``parse_accept("text/html, */*;q=0.8") == [("text/html", 1.0), ("*/*", 0.8)]``.
    Parameters other than ``q`` are dropped; an entry with a malformed ``q`` is ignored.
    """
    ranges: list[tuple[str, float]] = []
    if not header:
        return ranges
    for item in header.split(","):
        media_range, _, params = item.partition(";")
        media_range = media_range.strip().lower()
        if "/" not in media_range:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
                break
        if 0.0 <= q <= 1.0:
            ranges.append((media_range, q))
    return ranges


def quality(media_type: str, ranges: Sequence[tuple[str, float]]) -> tuple[float, int]:
    """How much the client wants ``media_type``: the quality of the most specific matching
    range, and that specificity (2 for ``type/sub``, 1 for ``type/*``, 0 for ``*/*``).
    ``(0.0, -1)`` when nothing matches."""
    main, _, sub = media_type.lower().partition("/")
    best = (0.0, -1)
    for media_range, q in ranges:
        range_main, _, range_sub = media_range.partition("/")
        if media_range == "*/*":
            specificity = 0
        elif range_main == main and range_sub == "*":
            specificity = 1
        elif range_main == main and range_sub == sub:
            specificity = 2
        else:
            continue
        if specificity > best[1]:
            best = (q, specificity)
    return best
