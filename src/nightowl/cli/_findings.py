"""What one check of ``nightowl check --deploy`` found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Finding", "Level"]

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Finding:
    """One line of the report: which check, how it went (``ok``, ``warn`` or ``fail``),
    and what to do."""

    check: str
    level: Level
    message: str
