"""nightowl's database battery: SQLAlchemy 2 models, per-request sessions, derived schemas.

::

    from nightowl import App
    from nightowl.db import Model, Mapped, mapped_column, Session

    class User(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(200), unique=True)

    app = App(database="sqlite:///app.db")

    @app.post("/users", status_code=201)
    def create_user(data: User.schema("create"), db: Session) -> User:
        user = User.from_schema(data)
        db.add(user)
        db.flush()
        return user

Requires the ``db`` extra: ``pip install 'nightowl[db]'`` (``[postgres]``, ``[mysql]``
for those databases).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

try:
    from sqlalchemy.orm import Mapped, relationship
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    from nightowl._extras import install_command

    raise ImportError(
        f"nightowl.db needs SQLAlchemy: {install_command('db')} (or the postgres or mysql extra)."
    ) from exc

from nightowl.db._database import DEFAULT_URL, Database, database_from
from nightowl.db._errors import (
    ConflictError,
    DatabaseUnavailable,
    is_missing_table,
    is_unavailable,
)
from nightowl.db._model import NAMING_CONVENTION, Model, mapped_column
from nightowl.db._pagination import OffsetPage, Page, paginate
from nightowl.db._reads import Reader, read_session
from nightowl.db._session import AsyncSession, LazyLoadError, Session

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = [
    "DEFAULT_URL",
    "NAMING_CONVENTION",
    "AsyncSession",
    "ConflictError",
    "Database",
    "DatabaseUnavailable",
    "LazyLoadError",
    "Mapped",
    "Model",
    "OffsetPage",
    "Page",
    "Reader",
    "Session",
    "install",
    "is_missing_table",
    "is_unavailable",
    "mapped_column",
    "paginate",
    "read_session",
    "relationship",
]


def install(app: App, database: Any = None) -> Database:
    """Give ``app`` a database; ``App(database=...)`` calls this.

    ``database`` is a URL (``"sqlite:///app.db"``), a mapping of :class:`Database`
    options (``{"url": ..., "pool_size": 10}``), a :class:`Database`, or ``True``/``None``
    for ``database_url`` in the app's settings, else ``$DATABASE_URL``, else
    ``sqlite:///app.db``.
    """
    return database_from(app, database).install(app)


def __getattr__(name: str) -> Any:
    # Deprecated: the database session backend belongs to the sessions battery now.
    if name in ("DatabaseSessionBackend", "SessionRecord"):
        import warnings

        warnings.warn(
            f"nightowl.db.{name} moved to nightowl.sessions.backends.database.{name}; "
            "the old name goes away in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        from nightowl.sessions.backends import database

        return getattr(database, name)
    raise AttributeError(f"module 'nightowl.db' has no attribute {name!r}")
