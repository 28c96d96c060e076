"""Permission names, and the view/add/change/delete permissions made for every model.

A permission is ``app_label.codename``. The app label of a model is the module it is
defined in: ``blog.py`` and ``blog/models.py`` both give ``blog`` (``mysite.blog.models``
too), and an app run as a script (``python app.py``) gives ``app``. Set
``__app_label__ = "shop"`` on a model to choose it. The codename is the action and the
class name in lower case: ``change_blogpost`` for ``BlogPost``, as Django names them,
so permissions imported from Django keep their names.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from nightowl.db import Model

if TYPE_CHECKING:
    from nightowl.db import Database

__all__ = ["ACTIONS", "app_label", "default_permissions", "sync_permissions"]

logger = logging.getLogger("nightowl.auth")

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
#: The permissions every model gets.
ACTIONS = ("view", "add", "change", "delete")


def app_label(model: type[Any]) -> str:
    """The app label of ``model``'s permissions (see the module docs)."""
    explicit = model.__dict__.get("__app_label__")
    if isinstance(explicit, str) and explicit:
        return explicit
    module = model.__module__
    if module == "__main__":
        main = getattr(sys.modules.get("__main__"), "__file__", None)
        return Path(main).stem if main else "main"
    parts = [p for p in module.split(".") if p]
    if len(parts) > 1 and parts[-1] == "models":
        parts.pop()
    return parts[-1]


def default_permissions(model: type[Any]) -> Iterator[tuple[str, str, str]]:
    """``(app_label, codename, name)`` of the model's view, add, change and delete
    permissions: ``("blog", "add_blogpost", "Can add blog post")``."""
    label = app_label(model)
    model_name = model.__name__.lower()
    words = _WORD_BOUNDARY.sub(" ", model.__name__).lower()
    for action in ACTIONS:
        yield label, f"{action}_{model_name}", f"Can {action} {words}"


def _models(database: Database) -> Iterator[type[Any]]:
    tables = set(database.metadata.tables.values())
    for mapper in Model.registry.mappers:
        cls = mapper.class_
        if mapper.local_table in tables and not cls.__dict__.get("__abstract__", False):
            yield cls


def sync_permissions(database: Database) -> int:
    """Create the missing view/add/change/delete permissions of every model.

    The battery runs it after ``nightowl migrate`` (``database.on_migrated``). Returns how
    many permissions it created. Does nothing before the permission table exists.
    """
    from nightowl.auth.models import Permission

    with database.session() as session:
        if not sa_inspect(session.connection()).has_table(Permission.__tablename__):
            return 0
        query = select(Permission.app_label, Permission.codename)
        existing = {(label, codename) for label, codename in session.execute(query)}
        wanted: dict[tuple[str, str], str] = {}
        for model in sorted(_models(database), key=lambda m: (m.__module__, m.__name__)):
            for label, codename, name in default_permissions(model):
                wanted.setdefault((label, codename), name)
        missing = [key for key in wanted if key not in existing]
        session.add_all(
            Permission(app_label=label, codename=codename, name=wanted[label, codename])
            for label, codename in missing
        )
        session.commit()
    if missing:
        logger.info("Created %d permissions.", len(missing))
    return len(missing)
