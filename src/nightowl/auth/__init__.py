"""nightowl's auth battery: users, groups, permissions, login pages, safe defaults.

::

    from nightowl import App, Depends
    from nightowl.auth import Auth, User, current_user, login_required, require_permission

    app = App(database="sqlite:///app.db", secret_key="...")
    auth = Auth(app)        # models, migrations, /auth/ pages, CLI commands

    @app.get("/me")
    async def me(user: Annotated[User, Depends(login_required)]) -> UserOut: ...

    @app.post("/posts", dependencies=[Depends(require_permission("blog.add_post"))])
    async def create_post(...): ...

Needs the database battery and argon2: ``pip install 'nightowl[auth]'``. Users log in
with ``/auth/login``; ``nightowl createsuperuser`` makes the first one.
"""

from __future__ import annotations

try:
    import argon2  # noqa: F401
    import jwt  # noqa: F401
    import sqlalchemy  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    from nightowl._extras import install_command

    raise ImportError(
        f"nightowl.auth needs {exc.name}: {install_command('auth')} "
        "(it brings the database battery, argon2-cffi, bcrypt and pyjwt)."
    ) from exc

from nightowl.auth._auth import Auth
from nightowl.auth._login import login, logout, update_session_auth_hash
from nightowl.auth.apikeys import APIKeyAuthenticator
from nightowl.auth.authenticators import Authenticator, SessionAuthenticator
from nightowl.auth.backends import ModelBackend, PermissionBackend
from nightowl.auth.bearer import BearerAuthenticator, TokenBackend, TokenPair
from nightowl.auth.db_tokens import DatabaseTokens
from nightowl.auth.dependencies import (
    NotAuthenticated,
    PermissionDenied,
    Requirement,
    current_user,
    login_required,
    require_permission,
    require_staff,
    require_superuser,
)
from nightowl.auth.hashers import PasswordHasher, PasswordTooLong
from nightowl.auth.jwt_tokens import JWTTokens
from nightowl.auth.models import AbstractUser, APIKey, Group, Permission, Token, User
from nightowl.auth.validators import PasswordValidationError, validate_password

__all__ = [
    "APIKey",
    "APIKeyAuthenticator",
    "AbstractUser",
    "Auth",
    "Authenticator",
    "BearerAuthenticator",
    "DatabaseTokens",
    "Group",
    "JWTTokens",
    "ModelBackend",
    "NotAuthenticated",
    "PasswordHasher",
    "PasswordTooLong",
    "PasswordValidationError",
    "Permission",
    "PermissionBackend",
    "PermissionDenied",
    "Requirement",
    "SessionAuthenticator",
    "Token",
    "TokenBackend",
    "TokenPair",
    "User",
    "current_user",
    "login",
    "login_required",
    "logout",
    "require_permission",
    "require_staff",
    "require_superuser",
    "update_session_auth_hash",
    "validate_password",
]
