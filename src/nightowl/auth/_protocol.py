"""What the battery's modules use of :class:`~nightowl.auth.Auth`: a structural type, so
that the dependencies, views, authenticators and backends, which ``Auth`` imports, do
not import it back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from nightowl.auth._reads import UserRows
    from nightowl.auth.hashers import PasswordHasher
    from nightowl.auth.mail import MailBackend
    from nightowl.auth.models import AbstractUser
    from nightowl.auth.throttle import LoginThrottle
    from nightowl.db import Reader

__all__ = ["AuthAPI"]

T = TypeVar("T")


class AuthAPI(Protocol):
    """The attributes and methods of :class:`~nightowl.auth.Auth` the battery relies on."""

    app: Any
    database: Any
    user_model: type[AbstractUser]
    reader: Reader
    user_rows: UserRows
    prefix: str
    authenticators: list[Any]
    tokens: Any
    permission_backends: list[Any]
    hasher: PasswordHasher
    throttle: LoginThrottle | None
    mail: MailBackend
    from_email: str
    site_url: str | None
    login_redirect: str
    reset_max_age: int

    @property
    def login_url(self) -> str: ...

    async def run_sync(self, work: Callable[[Session], T]) -> T: ...

    async def get_user(self, user_id: Any) -> AbstractUser | None: ...

    async def user_from_row(self, values: Sequence[Any]) -> AbstractUser | None: ...

    async def find_by_email(self, email: str) -> AbstractUser | None: ...

    async def record_login(self, user: AbstractUser) -> None: ...

    async def authenticate(self, identifier: str, password: str) -> AbstractUser | None: ...

    def validate_password(self, password: str, user: Any = None) -> None: ...

    async def set_password(
        self, user: AbstractUser, password: str, *, validate: bool = True
    ) -> None: ...

    async def has_permission(
        self, user: AbstractUser | None, permission: str, obj: Any = None
    ) -> bool: ...
