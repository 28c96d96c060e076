"""Permission backends: who may do what, asked by ``auth.has_permission(user, perm, obj)``.

A user has a permission when any backend says so. :class:`ModelBackend` (always first)
reads the permissions given to the user and to their groups; superusers have them all.
It answers only model-wide questions (``obj=None``): object-level rules come from a
backend of your own::

    class AuthorsEditTheirPosts(PermissionBackend):
        async def has_permission(self, user, permission, obj=None):
            return permission == "blog.change_post" and getattr(obj, "author_id", None) == user.id

    Auth(app, permission_backends=[AuthorsEditTheirPosts()])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

if TYPE_CHECKING:
    from nightowl.auth._protocol import AuthAPI
    from nightowl.auth.models import AbstractUser

__all__ = ["ModelBackend", "PermissionBackend"]

_CACHE = "_nightowl_permissions"


class PermissionBackend(ABC):
    """Answers whether a user has a permission, on the whole model or on one object."""

    auth: AuthAPI | None = None

    def bind(self, auth: AuthAPI) -> None:
        """Receive the :class:`~nightowl.auth.Auth` the backend serves (called once)."""
        self.auth = auth

    @abstractmethod
    async def has_permission(self, user: AbstractUser, permission: str, obj: Any = None) -> bool:
        """Whether ``user`` has ``permission`` (``"blog.change_post"``), on ``obj`` if given."""


class ModelBackend(PermissionBackend):
    """Permissions from the database: the user's own and their groups'. An inactive user
    has none, a superuser every one. Loaded once per user object (one query)."""

    async def has_permission(self, user: AbstractUser, permission: str, obj: Any = None) -> bool:
        """Model-wide permissions only: ``False`` when ``obj`` is given."""
        if not user.is_active or obj is not None:
            return False
        if user.is_superuser:
            return True
        return permission in await self.permissions_of(user)

    async def permissions_of(self, user: AbstractUser) -> frozenset[str]:
        """Every ``app_label.codename`` the user has, directly or through a group."""
        cached: frozenset[str] | None = user.__dict__.get(_CACHE)
        if cached is not None:
            return cached
        assert self.auth is not None
        found = frozenset(
            await self.auth.run_sync(lambda db: permission_names(self.auth, db, user.id))
        )
        user.__dict__[_CACHE] = found
        return found


def permission_names(auth: Any, db: Any, user_id: int) -> list[str]:
    """``app_label.codename`` of the user's permissions, own and by group (one query)."""
    from nightowl.auth.models import Permission, group_permissions

    user_model = auth.user_model
    own = user_model.user_permissions.property.secondary
    groups = user_model.groups.property.secondary
    direct = select(own.c.permission_id).where(own.c.user_id == user_id)
    by_group = (
        select(group_permissions.c.permission_id)
        .join(groups, groups.c.group_id == group_permissions.c.group_id)
        .where(groups.c.user_id == user_id)
    )
    query = select(Permission.app_label, Permission.codename).where(
        Permission.id.in_(direct.union(by_group))
    )
    return [f"{label}.{codename}" for label, codename in db.execute(query)]
