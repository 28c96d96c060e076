"""The battery's database work, written once on a sync session.

``Auth``'s async methods run these through ``AsyncSession.run_sync`` and the CLI calls
them directly, so the Python API, the views and the commands do the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from nightowl.auth.models import AbstractUser, Group, Permission, group_permissions
from nightowl.auth.permissions import app_label

__all__ = [
    "add_to_group",
    "find_user",
    "grant",
    "normalize_email",
    "permission",
    "revoke",
]


def normalize_email(email: str | None) -> str | None:
    """Emails are kept in lower case, so logging in with ``Ada@Example.com`` works."""
    return email.strip().lower() if email else email


def find_user(db: Session, user_model: type[AbstractUser], identifier: str) -> AbstractUser | None:
    """The user whose login field is ``identifier`` (emails compared in lower case)."""
    field = user_model.USERNAME_FIELD
    column = getattr(user_model, field)
    if field == user_model.EMAIL_FIELD:
        query = select(user_model).where(func.lower(column) == identifier.strip().lower())
    else:
        query = select(user_model).where(column == identifier)
    return db.scalars(query.limit(1)).first()


def permission(db: Session, name: str | Permission, *, create: bool = True) -> Permission:
    """The permission ``app_label.codename``, created when missing (``create=True``)."""
    if isinstance(name, Permission):
        return name
    label, dot, codename = name.partition(".")
    if not dot or not label or not codename:
        raise ValueError(f"A permission is written app_label.codename, not {name!r}.")
    found = db.scalars(
        select(Permission).where(Permission.app_label == label, Permission.codename == codename)
    ).first()
    if found is None:
        if not create:
            raise LookupError(f"There is no permission {name!r}.")
        found = Permission(app_label=label, codename=codename, name=codename.replace("_", " "))
        db.add(found)
        db.flush()
    return found


def _link(db: Session, target: AbstractUser | Group) -> tuple[Any, str, Any]:
    """The link table of ``target``'s permissions, its key column, and the id."""
    if isinstance(target, Group):
        return group_permissions, "group_id", target.id
    table = type(target).user_permissions.property.secondary
    return table, "user_id", target.id


def grant(
    db: Session, target: AbstractUser | Group, permissions: Iterable[str | Permission]
) -> None:
    """Give ``target`` (a user or a group) the permissions it does not have yet."""
    table, key, ident = _link(db, target)
    db.flush()
    have = set(db.scalars(select(table.c.permission_id).where(table.c[key] == ident)))
    for name in permissions:
        found = permission(db, name)
        if found.id not in have:
            db.execute(insert(table).values({key: ident, "permission_id": found.id}))
            have.add(found.id)
    target.__dict__.pop("_nightowl_permissions", None)


def revoke(
    db: Session, target: AbstractUser | Group, permissions: Iterable[str | Permission]
) -> None:
    """Take the permissions away from ``target`` (a user or a group)."""
    table, key, ident = _link(db, target)
    for name in permissions:
        found = permission(db, name, create=False)
        db.execute(table.delete().where(table.c[key] == ident, table.c.permission_id == found.id))
    target.__dict__.pop("_nightowl_permissions", None)


def add_to_group(db: Session, user: AbstractUser, group: str | Group) -> Group:
    """Put ``user`` in ``group`` (a name: the group is created if needed)."""
    if isinstance(group, str):
        found = db.scalars(select(Group).where(Group.name == group)).first()
        if found is None:
            found = Group(name=group)
            db.add(found)
            db.flush()
        group = found
    table = type(user).groups.property.secondary
    db.flush()
    exists = db.execute(
        select(table.c.user_id).where(table.c.user_id == user.id, table.c.group_id == group.id)
    ).first()
    if exists is None:
        db.execute(insert(table).values(user_id=user.id, group_id=group.id))
    user.__dict__.pop("_nightowl_permissions", None)
    return group


def model_permissions(model: type[Any]) -> list[str]:
    """``app_label.view_x`` ... of a model, for granting them all at once."""
    label = app_label(model)
    name = model.__name__.lower()
    return [f"{label}.{action}_{name}" for action in ("view", "add", "change", "delete")]
