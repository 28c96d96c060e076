"""The admin's audit log: one :class:`LogEntry` per add, change, delete and action.

The table ``admin_log_entry`` comes from the battery's own migrations (applied by
``nightowl migrate`` once ``Admin(app)`` is installed), like the auth battery's tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped

from nightowl.db import Model, mapped_column

__all__ = ["ADMIN_TABLES", "LogEntry"]

#: The battery's tables say where their migrations live (see Database.add_migrations).
ADMIN_TABLES = {"migrations": "admin"}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class LogEntry(Model):
    """Who did what to which object, when, in which request, and what changed.

    Attributes:
        action: ``"add"``, ``"change"``, ``"delete"``, or the name of the action run.
        content_type: the object's model as ``app_label.model_name`` (``blog.post``).
        changes: the field-level diff, ``{"title": ["old", "new"]}`` (values as JSON).
        request_id: the request's ``X-Request-ID`` header, or an id made for it.
    """

    __tablename__ = "admin_log_entry"
    __table_args__ = (
        Index("ix_admin_log_entry_object", "content_type", "object_id"),
        {"info": ADMIN_TABLES},
    )
    __app_label__: ClassVar[str] = "admin"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_time: Mapped[datetime] = mapped_column(default=_now, index=True)
    user_id: Mapped[int | None] = mapped_column(default=None, index=True)
    user_repr: Mapped[str] = mapped_column(String(150), default="")
    content_type: Mapped[str] = mapped_column(String(200))
    object_id: Mapped[str] = mapped_column(String(100))
    object_repr: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str] = mapped_column(String(100), default="")

    def __str__(self) -> str:
        return f"{self.action} {self.content_type} {self.object_repr}"
