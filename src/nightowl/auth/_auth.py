"""``Auth(app)``: installs the battery on an app and is its Python API."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from nightowl.auth import _store
from nightowl.auth._credentials import CredentialsAPI
from nightowl.auth._login import SESSION_USER_KEY, USER_JOIN
from nightowl.auth._reads import UserLookup, UserRows
from nightowl.auth.authenticators import Authenticator, SessionAuthenticator
from nightowl.auth.backends import ModelBackend, PermissionBackend
from nightowl.auth.bearer import BearerAuthenticator, TokenBackend
from nightowl.auth.db_tokens import DatabaseTokens
from nightowl.auth.hashers import PasswordHasher, PasswordTooLong, UnknownHashFormat, default_hasher
from nightowl.auth.jwt_tokens import JWTTokens
from nightowl.auth.mail import ConsoleMailBackend, MailBackend
from nightowl.auth.models import AbstractUser, Group, Permission, User, utcnow
from nightowl.auth.permissions import sync_permissions
from nightowl.auth.throttle import LoginThrottle, throttle_from
from nightowl.auth.validators import DEFAULT_VALIDATORS, PasswordValidator, validate_password
from nightowl.db import Reader
from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.app import App
    from nightowl.db import Database

__all__ = ["Auth"]

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"


class Auth(CredentialsAPI):
    """The auth battery on one app: users, groups, permissions, login views and the CLI.

    ::

        app = App(database="sqlite:///app.db", secret_key="...")
        auth = Auth(app)

        user = await auth.create_user(username="ada", email="ada@example.com", password="...")
        await auth.grant(user, "blog.add_post")

    Args:
        app: the app; it needs a database (``App(database=...)``). Sessions are turned on
            (a signed cookie) unless ``App(sessions=...)`` chose a backend.
        user_model: the user model, :class:`~nightowl.auth.models.User` or a subclass
            of :class:`~nightowl.auth.models.AbstractUser` of the project.
        prefix: where the login, logout and password views are (``/auth``).
        views: ``False`` leaves the views out (the API and dependencies stay).
        throttle: failed-login throttling: ``True`` (in memory), a ``redis://`` URL, a
            :class:`~nightowl.auth.throttle.LoginThrottle`, or ``False``.
        mail: where password-reset mail goes (printed to the console by default).
        from_email: the sender of that mail.
        password_validators: the checks new passwords must pass.
        permission_backends: more :class:`~nightowl.auth.backends.PermissionBackend`,
            asked after the database's permissions.
        authenticators: more :class:`~nightowl.auth.authenticators.Authenticator`,
            asked after the login session and the bearer tokens.
        tokens: the bearer tokens ``{prefix}/token`` issues and requests may send:
            ``"jwt"`` (:class:`~nightowl.auth.JWTTokens` with its defaults: HS256 with
            the app's secret key, 15 minutes, refresh tokens for 14 days),
            ``"database"`` (opaque :class:`~nightowl.auth.DatabaseTokens`), a backend of
            your own configuration, or ``False`` (no token endpoint, no bearer tokens).
        token_keyword: the word before the token in ``Authorization`` (``Bearer``, or
            ``Token`` as Django REST framework writes it).
        login_redirect: where a login without ``?next=`` goes.
        reset_max_age: seconds a password-reset link stays valid.
        site_url: the scheme and host of password-reset links (``https://example.com``);
            by default the request's, which only a trusted ``Host`` header makes safe
            (see ``TrustedHostMiddleware``).
        hasher: hashes passwords (argon2id).
    """

    def __init__(
        self,
        app: App,
        *,
        user_model: type[AbstractUser] = User,
        prefix: str = "/auth",
        views: bool = True,
        throttle: Any = True,
        mail: MailBackend | None = None,
        from_email: str = "webmaster@localhost",
        password_validators: Sequence[PasswordValidator] = DEFAULT_VALIDATORS,
        permission_backends: Iterable[PermissionBackend] = (),
        authenticators: Iterable[Authenticator] = (),
        tokens: TokenBackend | str | bool = "jwt",
        token_keyword: str = "Bearer",
        login_redirect: str = "/",
        reset_max_age: int = 3600,
        site_url: str | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.app = app
        self.database: Database = _checked_database(app, user_model, prefix)
        self.user_model = user_model
        self._users = UserLookup(self.database, user_model)
        #: Reads outside any transaction, for the request path.
        self.reader: Reader = self._users.reader
        #: The user model's table as rows, and users made from them.
        self.user_rows: UserRows = self._users.rows
        self.prefix = prefix
        self.throttle: LoginThrottle | None = throttle_from(throttle)
        self.mail = mail or ConsoleMailBackend()
        self.from_email = from_email
        self.password_validators = list(password_validators)
        self.hasher = hasher or default_hasher()
        self.login_redirect = login_redirect
        self.views = views
        self.reset_max_age = reset_max_age
        self.site_url = site_url.rstrip("/") if site_url else None
        #: Issues and checks bearer tokens (``None``: the app has none).
        self.tokens: TokenBackend | None = tokens_from(tokens)
        bearer: list[Authenticator] = []
        if self.tokens is not None:
            self.tokens.bind(self, token_keyword)
            bearer.append(BearerAuthenticator(self.tokens, keyword=token_keyword))
        #: Asked in order by ``current_user``; the first to find a user wins.
        self.authenticators: list[Authenticator] = [
            SessionAuthenticator(),
            *bearer,
            *authenticators,
        ]
        #: Asked by :meth:`has_permission`; any one saying yes grants.
        self.permission_backends: list[PermissionBackend] = [ModelBackend(), *permission_backends]
        for backend in self.permission_backends:
            backend.bind(self)
        self._install(app)

    # -- installing ---------------------------------------------------------------------------
    def _install(self, app: App) -> None:
        from nightowl.auth._schemes import SchemesProvider
        from nightowl.auth.dependencies import AuthSchemes, NotAuthenticated
        from nightowl.sessions import install as install_sessions
        from nightowl.sessions import session_backend, sessions_enabled

        app.state.auth = self
        if not sessions_enabled(app):
            install_sessions(app, True)
        # With sessions in the database, the session's user is read with the session.
        self._users.join_sessions(session_backend(app), USER_JOIN, SESSION_USER_KEY)
        self.database.add_migrations("auth", MIGRATIONS / "auth")
        if self.user_model is User:
            self.database.add_migrations("auth_user", MIGRATIONS / "user")
        self.database.on_migrated(sync_permissions)
        app.add_exception_handler(NotAuthenticated, partial(_not_authenticated, self))
        app.provide(AuthSchemes, SchemesProvider(self))
        if self.throttle is not None:
            app.on_shutdown(self.throttle.close)
        if self.views:
            from nightowl.auth._views import install_views

            install_views(self, app)
        if self.tokens is not None and self.tokens.can_issue:
            from nightowl.auth._token_view import install_token_endpoint

            install_token_endpoint(self, app, self.tokens)

    @property
    def login_url(self) -> str:
        """The path of the login page."""
        return f"{self.prefix}/login"

    # -- the database -------------------------------------------------------------------------
    async def run_sync(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` on a sync session of the app's database, in its own
        transaction, committed when it returns (how the async API shares one code path
        with the CLI)."""
        async with self.database.async_session() as session:
            result = await session.run_sync(work)
            await session.commit()
            return result

    async def get_user(self, user_id: Any) -> AbstractUser | None:
        """The user with this id, or ``None`` (one query)."""
        return await self._users.get(user_id)

    async def user_from_row(self, values: Sequence[Any]) -> AbstractUser | None:
        """The user of a row of ``self.user_rows.columns`` (read by a join, say)."""
        return await self._users.from_row(values)

    async def find_by_email(self, email: str) -> AbstractUser | None:
        """The user with this email address (compared in lower case), or ``None``."""
        model = self.user_model
        column = getattr(model, model.EMAIL_FIELD)
        query = select(model).where(func.lower(column) == email.strip().lower()).limit(1)
        async with self.database.async_session() as session:
            return (await session.scalars(query)).first()

    async def record_login(self, user: AbstractUser) -> None:
        """Save the time of ``user``'s login (``last_login``)."""
        user.last_login = utcnow()
        model = type(user)
        statement = update(model).where(model.id == user.id).values(last_login=user.last_login)
        await self.run_sync(lambda db: db.execute(statement))

    # -- passwords ----------------------------------------------------------------------------
    async def authenticate(self, identifier: str, password: str) -> AbstractUser | None:
        """The active user with this login name and password, else ``None``.

        An unknown name, an inactive user and a wrong password take the same time (a
        dummy hash is checked when there is no user) and give the same answer. A hash in
        an older format (Django's PBKDF2, bcrypt) is replaced by an argon2id one.
        """
        user = await self.run_sync(lambda db: _store.find_user(db, self.user_model, identifier))
        if user is None:
            self.hasher.verify_dummy(password)
            return None
        try:
            ok = self.hasher.verify(user.password, password)
        except PasswordTooLong:
            return None
        except UnknownHashFormat:
            import logging

            logging.getLogger("nightowl.auth").error(
                "User %s has a password hash nightowl cannot read", user.id, exc_info=True
            )
            return None
        if not ok or not user.is_active:
            return None
        if self.hasher.needs_rehash(user.password):
            await self._save_password(user, self.hasher.hash(password))
        return user

    def validate_password(self, password: str, user: Any = None) -> None:
        """Run the password validators (``PasswordValidationError`` lists every reason)."""
        validate_password(password, user, self.password_validators)

    async def set_password(
        self, user: AbstractUser, password: str, *, validate: bool = True
    ) -> None:
        """Validate (unless ``validate=False``), hash and save ``user``'s new password.

        The user's other login sessions end at their next request.
        """
        if validate:
            self.validate_password(password, user)
        await self._save_password(user, self.hasher.hash(password))

    async def _save_password(self, user: AbstractUser, encoded: str) -> None:
        user.password = encoded
        model = type(user)
        statement = update(model).where(model.id == user.id).values(password=encoded)
        await self.run_sync(lambda db: db.execute(statement))

    # -- users, groups, permissions ----------------------------------------------------------------
    def _new_user(
        self, password: str | None, validate: bool, fields: dict[str, Any]
    ) -> AbstractUser:
        if "email" in fields:
            fields["email"] = _store.normalize_email(fields["email"])
        user = self.user_model(**fields)
        if password is not None and validate:
            self.validate_password(password, user)
        user.password = self.hasher.hash(password) if password is not None else ""
        if password is None:
            user.set_password(None)
        return user

    def create_user_sync(
        self, password: str | None = None, *, validate: bool = False, **fields: Any
    ) -> AbstractUser:
        """:meth:`create_user` from sync code (scripts, the CLI, sync handlers)."""
        user = self._new_user(password, validate, fields)
        with self.database.session() as db:
            db.add(user)
            db.commit()
        return user

    async def create_user(
        self, password: str | None = None, *, validate: bool = False, **fields: Any
    ) -> AbstractUser:
        """Create and save a user: ``await auth.create_user(username="ada", password="...")``.

        Args:
            password: hashed with argon2id; ``None`` gives an unusable password.
            validate: run the password validators first.
            **fields: the user's columns (``username``, ``email``, ``is_staff``...).
        """
        user = self._new_user(password, validate, fields)

        def save(db: Session) -> AbstractUser:
            db.add(user)
            db.flush()
            return user

        return await self.run_sync(save)

    async def create_superuser(self, password: str | None = None, **fields: Any) -> AbstractUser:
        """A user with ``is_staff`` and ``is_superuser`` (every permission)."""
        return await self.create_user(password, is_staff=True, is_superuser=True, **fields)

    async def grant(self, target: AbstractUser | Group, *permissions: str | Permission) -> None:
        """Give a user or group permissions: ``await auth.grant(editors, "blog.change_post")``.

        A permission that does not exist yet is created.
        """
        await self.run_sync(lambda db: _store.grant(db, target, permissions))

    async def revoke(self, target: AbstractUser | Group, *permissions: str | Permission) -> None:
        """Take permissions away from a user or group."""
        await self.run_sync(lambda db: _store.revoke(db, target, permissions))

    async def add_to_group(self, user: AbstractUser, group: str | Group) -> Group:
        """Put ``user`` in ``group`` (a :class:`Group` or a name, created if needed)."""
        return await self.run_sync(lambda db: _store.add_to_group(db, user, group))

    async def has_permission(
        self, user: AbstractUser | None, permission: str, obj: Any = None
    ) -> bool:
        """Whether ``user`` has ``permission`` (``"blog.change_post"``), on ``obj`` if given:
        any permission backend saying yes is enough."""
        if user is None:
            return False
        for backend in self.permission_backends:
            if await backend.has_permission(user, permission, obj):
                return True
        return False

    def __repr__(self) -> str:
        return f"<Auth {self.user_model.__name__} at {self.prefix}>"


def _checked_database(app: App, user_model: Any, prefix: str) -> Database:
    """The app's database, once ``Auth(app, ...)``'s arguments are known to be usable."""
    database: Database | None = getattr(app.state, "database", None)
    if database is None:
        raise ImproperlyConfigured(
            'Auth(app) keeps users in the app\'s database: App(database="sqlite:///app.db") '
            "(pip install 'nightowl[auth]' brings what it needs)."
        )
    if not (isinstance(user_model, type) and issubclass(user_model, AbstractUser)):
        raise ImproperlyConfigured(
            f"Auth(user_model=...) takes a subclass of nightowl.auth.models.AbstractUser, "
            f"not {user_model!r}."
        )
    if getattr(app.state, "auth", None) is not None:
        raise ImproperlyConfigured("Auth(app) was called twice for this app.")
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ImproperlyConfigured(
            f"Auth(prefix=...) starts with '/' and does not end with one: {prefix!r}."
        )
    return database


async def _not_authenticated(auth: Auth, request: Any, exc: Any) -> Any:
    """Browsers go to the login page; other clients get the 401."""
    from urllib.parse import urlencode

    from nightowl.exceptions import HTTPException
    from nightowl.negotiation import prefers_html
    from nightowl.responses import RedirectResponse

    if auth.views and prefers_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{auth.login_url}?{urlencode({'next': target})}", status_code=303)
    plain = HTTPException(exc.status_code, exc.detail, headers=exc.headers)
    return await request.app.error_response(request, plain)


def tokens_from(value: Any) -> TokenBackend | None:
    """The backend ``Auth(app, tokens=...)`` asks for: ``"jwt"`` (the default),
    ``"database"``, a :class:`TokenBackend`, or ``False`` for none."""
    if value is False or value is None:
        return None
    if isinstance(value, TokenBackend):
        return value
    if value == "jwt" or value is True:
        return JWTTokens()
    if value == "database":
        return DatabaseTokens()
    raise ImproperlyConfigured(
        f'Auth(tokens=...) takes "jwt", "database", a TokenBackend (JWTTokens(...), '
        f"DatabaseTokens(...)) or False, not {value!r}."
    )
