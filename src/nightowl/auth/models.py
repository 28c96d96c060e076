"""Users, groups and permissions, as SQLAlchemy models of the database battery.

::

    from nightowl.auth.models import AbstractUser
    from nightowl.db import Mapped, Model, mapped_column

    class Member(AbstractUser, Model):          # a user model of your own
        USERNAME_FIELD = "email"
        nickname: Mapped[str] = mapped_column(default="")

    Auth(app, user_model=Member)

The battery's tables (``auth_permission``, ``auth_group`` and, with the default
:class:`User`, ``auth_user``) are created by the battery's own migrations; a user model
of your own is the project's, created by ``nightowl makemigrations``, with its links to
groups and permissions (``member_groups``, ``member_permissions``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, relationship

from nightowl.db import Model, mapped_column

if TYPE_CHECKING:
    from nightowl.auth.hashers import PasswordHasher

__all__ = [
    "APIKey",
    "AbstractUser",
    "Group",
    "Permission",
    "RevokedToken",
    "Token",
    "User",
    "group_permissions",
]

#: The battery's tables say where their migrations live (see Database.add_migrations).
AUTH_TABLES = {"migrations": "auth"}
USER_TABLES = {"migrations": "auth_user"}


def utcnow() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class Permission(Model):
    """Leave to do something: ``blog.change_post`` is app label ``blog``, codename
    ``change_post``. View, add, change and delete permissions are created for every
    model after ``nightowl migrate``; make others with ``auth.grant(...)`` or by hand."""

    __tablename__ = "auth_permission"
    __table_args__ = (UniqueConstraint("app_label", "codename"), {"info": AUTH_TABLES})
    __app_label__: ClassVar[str] = "auth"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    app_label: Mapped[str] = mapped_column(String(100))
    codename: Mapped[str] = mapped_column(String(100))

    def __str__(self) -> str:
        return f"{self.app_label}.{self.codename}"


group_permissions = Table(
    "auth_group_permissions",
    Model.metadata,
    Column("group_id", ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_id", ForeignKey("auth_permission.id", ondelete="CASCADE"), primary_key=True),
    info=AUTH_TABLES,
)


class Group(Model):
    """A named set of permissions; a user in the group has them all."""

    __tablename__ = "auth_group"
    __table_args__ = {"info": AUTH_TABLES}
    __app_label__: ClassVar[str] = "auth"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    permissions: Mapped[list[Permission]] = relationship(secondary=group_permissions)

    def __str__(self) -> str:
        return self.name


def _link_table(owner: Any, suffix: str, target: str) -> Table:
    """``<user table>_<suffix>``: the many-to-many link of a user model to ``target``."""
    name = f"{owner.__tablename__}_{suffix}"
    existing = owner.metadata.tables.get(name)
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    info = USER_TABLES if owner.__tablename__ == "auth_user" else {}
    column = target.split(".")[0].removeprefix("auth_")
    return Table(
        name,
        owner.metadata,
        Column(
            "user_id",
            ForeignKey(f"{owner.__tablename__}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column(f"{column}_id", ForeignKey(target, ondelete="CASCADE"), primary_key=True),
        info=dict(info),
    )


class AbstractUser(Model):
    """The columns and behaviour of a user; subclass it (with ``Model``) for your own.

    Class attributes:
        USERNAME_FIELD: the column people log in with, ``"username"`` or ``"email"``.
        EMAIL_FIELD: the column password-reset mail goes to.
        REQUIRED_FIELDS: what ``nightowl createsuperuser`` asks for besides the login
            field and the password.
        __app_label__: the app label of the model's permissions (``auth.change_user``).
    """

    __abstract__ = True
    USERNAME_FIELD: ClassVar[str] = "username"
    EMAIL_FIELD: ClassVar[str] = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["email"]

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str | None] = mapped_column(String(150), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password: Mapped[str] = mapped_column(String(255), default="", private=True)
    first_name: Mapped[str] = mapped_column(String(150), default="")
    last_name: Mapped[str] = mapped_column(String(150), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    is_staff: Mapped[bool] = mapped_column(default=False)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    last_login: Mapped[datetime | None] = mapped_column(default=None, read_only=True)
    date_joined: Mapped[datetime] = mapped_column(default=utcnow, read_only=True)

    @declared_attr
    def groups(cls) -> Mapped[list[Group]]:
        """The groups the user is in."""
        return relationship(Group, secondary=_link_table(cls, "groups", "auth_group.id"))

    @declared_attr
    def user_permissions(cls) -> Mapped[list[Permission]]:
        """Permissions given to the user directly (groups give others)."""
        return relationship(
            Permission, secondary=_link_table(cls, "permissions", "auth_permission.id")
        )

    @property
    def is_authenticated(self) -> bool:
        """Always ``True`` for a user (``current_user`` gives ``None`` for anonymous visitors)."""
        return True

    def get_username(self) -> str:
        """The value of the login field."""
        return str(getattr(self, self.USERNAME_FIELD) or "")

    def set_password(
        self, raw_password: str | None, *, hasher: PasswordHasher | None = None
    ) -> None:
        """Hash and keep ``raw_password`` (argon2id); ``None`` makes the password unusable.

        It does not run the password validators (see
        :func:`nightowl.auth.validators.validate_password`) and saves nothing: add the
        user to a session and commit. Passwords over 4 KiB raise
        :class:`~nightowl.auth.hashers.PasswordTooLong` before any hashing.
        """
        from nightowl.auth.hashers import default_hasher, unusable_password

        if raw_password is None:
            self.password = unusable_password()
        else:
            self.password = (hasher or default_hasher()).hash(raw_password)

    def check_password(self, raw_password: str, *, hasher: PasswordHasher | None = None) -> bool:
        """Whether ``raw_password`` is the user's password (argon2, Django's PBKDF2 and
        bcrypt hashes are all understood). An older hash is replaced by an argon2id one
        on success (save the user to keep it)."""
        from nightowl.auth.hashers import default_hasher

        chosen = hasher or default_hasher()
        ok = chosen.verify(self.password, raw_password)
        if ok and chosen.needs_rehash(self.password):
            self.password = chosen.hash(raw_password)
        return ok

    def has_usable_password(self) -> bool:
        """``False`` after ``set_password(None)`` (a user who logs in some other way)."""
        return bool(self.password) and not self.password.startswith("!")

    def __str__(self) -> str:
        return self.get_username()


class User(AbstractUser):
    """The default user model: table ``auth_user``, from the battery's migrations."""

    __tablename__ = "auth_user"
    __table_args__ = {"info": USER_TABLES}
    __app_label__: ClassVar[str] = "auth"


class APIKey(Model):
    """A key a program uses instead of a password (``X-API-Key: nok_...``).

    Only a SHA-256 digest of the key is kept (a key is 32 random bytes: no slow hash is
    needed to make guessing hopeless); ``prefix`` is the part shown in lists, so people
    can tell their keys apart. ``user_id`` names a row of the user model, whichever it is.
    """

    __tablename__ = "auth_api_key"
    __table_args__ = {"info": AUTH_TABLES}
    __app_label__: ClassVar[str] = "auth"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), private=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, read_only=True)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None, read_only=True)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None, read_only=True)

    def __str__(self) -> str:
        return f"nok_{self.prefix}_..."


class Token(Model):
    """An opaque bearer token (``Authorization: Bearer noa_...``) of
    :class:`~nightowl.auth.DatabaseTokens`.

    Only a SHA-256 digest is kept. ``kind`` is ``access`` or ``refresh``; the tokens of
    one login share a ``family``, so reusing a spent refresh token revokes them all.
    ``password_check`` ties the token to the user's password: changing it ends the token.
    """

    __tablename__ = "auth_token"
    __table_args__ = {"info": AUTH_TABLES}
    __app_label__: ClassVar[str] = "auth"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64), unique=True, private=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    password_check: Mapped[str] = mapped_column(String(16), private=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, read_only=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None, read_only=True)

    def __str__(self) -> str:
        return f"{self.kind} token {self.id}"


class RevokedToken(Model):
    """A JWT id (``jti``), or a whole family of them, refused until it would have expired
    anyway (:class:`~nightowl.auth.JWTTokens` checks it with the user, in one query)."""

    __tablename__ = "auth_revoked_token"
    __table_args__ = {"info": AUTH_TABLES}
    __app_label__: ClassVar[str] = "auth"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow, read_only=True)

    def __str__(self) -> str:
        return self.jti
