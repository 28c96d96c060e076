"""``DateTime(timezone=True)`` on SQLite as on PostgreSQL: stored in UTC, read back aware.

SQLite has no time zones: SQLAlchemy writes an aware datetime's wall-clock time and drops
its offset, and reads every value back naive. The same app then answers
``"2026-01-02T03:04:05+00:00"`` on PostgreSQL and ``"2026-01-02T03:04:05"`` on SQLite, and
two aware values in different zones are stored out of order. This type, which the SQLite
engines use for ``DateTime`` columns, converts aware values to UTC before writing and
reads ``timezone=True`` columns back with ``tzinfo=UTC``. Columns without
``timezone=True`` are untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.engine import Dialect

__all__ = ["UTCDateTime", "use_aware_datetimes"]


class UTCDateTime(DATETIME):
    """SQLite's ``DATETIME``, in UTC and time-zone aware when the column says ``timezone=True``."""

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        process = super().bind_processor(dialect)
        if not self.timezone:
            return process

        def bind(value: Any) -> Any:
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return process(value) if process is not None else value

        return bind

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        process = super().result_processor(dialect, coltype)
        if not self.timezone:
            return process

        def result(value: Any) -> Any:
            if process is not None:
                value = process(value)
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value

        return result


def use_aware_datetimes(dialect: Dialect) -> None:
    """Make ``dialect`` (a SQLite one) read and write ``DateTime`` columns with :class:`UTCDateTime`."""
    colspecs = dict(getattr(dialect, "colspecs", {}))
    colspecs[sqltypes.DateTime] = UTCDateTime
    dialect.colspecs = colspecs
