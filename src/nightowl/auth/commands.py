"""``nightowl createsuperuser``, ``nightowl changepassword`` and ``nightowl createapikey``.

Declared in the ``nightowl.commands`` entry-point group, so they exist wherever
``nightowl[auth]`` is installed; each loads the app (``--app``, ``$NIGHTOWL_APP``,
``app.py``), finds its :class:`~nightowl.auth.Auth`, and works on its database.

``createsuperuser --noinput`` reads ``NIGHTOWL_SUPERUSER_USERNAME``,
``NIGHTOWL_SUPERUSER_EMAIL`` and ``NIGHTOWL_SUPERUSER_PASSWORD`` (as Django reads
``DJANGO_SUPERUSER_*``), for scripts and containers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from nightowl.cli.group import ScriptInfo

if TYPE_CHECKING:
    from nightowl.auth._auth import Auth

__all__ = ["changepassword", "createapikey", "createsuperuser"]

ENV_PREFIX = "NIGHTOWL_SUPERUSER_"


def _auth() -> Auth:
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    auth = getattr(getattr(app, "state", None), "auth", None)
    if auth is None:
        raise click.ClickException(
            "The app does not use nightowl.auth: add `from nightowl.auth import Auth` and "
            "`Auth(app)` to it."
        )
    return auth  # type: ignore[no-any-return]


def _ask_password(auth: Auth, user: Any, *, interactive: bool) -> str:
    """Prompt twice until the two match and the validators accept (or the user insists)."""
    from nightowl.auth.validators import PasswordValidationError

    while True:
        password: str = click.prompt("Password", hide_input=True)
        again: str = click.prompt("Password (again)", hide_input=True)
        if password != again:
            click.echo("Error: your passwords didn't match.", err=True)
            continue
        if not password.strip():
            click.echo("Error: a blank password isn't allowed.", err=True)
            continue
        try:
            auth.validate_password(password, user)
        except PasswordValidationError as exc:
            for message in exc.messages:
                click.echo(f"Error: {message}", err=True)
            if not (interactive and click.confirm("Bypass password validation and use it anyway?")):
                continue
        return password


def _fields_from_env(auth: Auth) -> tuple[dict[str, Any], str]:
    model = auth.user_model
    wanted = dict.fromkeys([model.USERNAME_FIELD, *model.REQUIRED_FIELDS])
    fields: dict[str, Any] = {}
    for name in wanted:
        value = os.environ.get(ENV_PREFIX + name.upper())
        if not value:
            raise click.ClickException(f"--noinput needs ${ENV_PREFIX}{name.upper()}.")
        fields[name] = value
    password = os.environ.get(ENV_PREFIX + "PASSWORD")
    if not password:
        raise click.ClickException(f"--noinput needs ${ENV_PREFIX}PASSWORD.")
    return fields, password


def _exists(auth: Auth, fields: dict[str, Any]) -> bool:
    from nightowl.auth._store import find_user

    field = auth.user_model.USERNAME_FIELD
    with auth.database.session() as db:
        return find_user(db, auth.user_model, str(fields[field])) is not None


def _database_errors(action: Any) -> Any:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return action()
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(
            f"The database failed ({detail}): has `nightowl migrate` been run?"
        ) from exc


@click.command("createsuperuser")
@click.option(
    "--noinput",
    "--no-input",
    "noinput",
    is_flag=True,
    help=f"Read ${ENV_PREFIX}* instead of asking.",
)
def createsuperuser(noinput: bool) -> None:
    """Create a user with every permission (staff and superuser)."""
    from nightowl.auth.validators import PasswordValidationError

    auth = _auth()
    model = auth.user_model
    if noinput:
        fields, password = _fields_from_env(auth)
        try:
            auth.validate_password(password, fields)
        except PasswordValidationError as exc:
            raise click.ClickException(" ".join(exc.messages)) from exc
    else:
        fields = {}
        for name in dict.fromkeys([model.USERNAME_FIELD, *model.REQUIRED_FIELDS]):
            fields[name] = click.prompt(name.replace("_", " ").capitalize()).strip()
        password = _ask_password(auth, fields, interactive=True)
    if _database_errors(lambda: _exists(auth, fields)):
        login = fields[model.USERNAME_FIELD]
        raise click.ClickException(f"A user with {model.USERNAME_FIELD} {login!r} already exists.")
    _database_errors(
        lambda: auth.create_user_sync(password, is_staff=True, is_superuser=True, **fields)
    )
    click.echo("Superuser created successfully.")


@click.command("changepassword")
@click.argument("login")
def changepassword(login: str) -> None:
    """Set a new password for the user LOGIN (their username, or email)."""
    from sqlalchemy import update

    from nightowl.auth._store import find_user

    auth = _auth()
    model = auth.user_model

    def load() -> Any:
        with auth.database.session() as db:
            return find_user(db, model, login)

    user = _database_errors(load)
    if user is None:
        raise click.ClickException(f"There is no user {login!r}.")
    click.echo(f"Changing password for user {user}")
    password = _ask_password(auth, user, interactive=False)

    def save() -> None:
        with auth.database.session() as db:
            encoded = auth.hasher.hash(password)
            db.execute(update(model).where(model.id == user.id).values(password=encoded))
            db.commit()

    _database_errors(save)
    click.echo(f"Password changed successfully for user {user}.")


@click.command("createapikey")
@click.argument("login")
@click.option("--name", default="", help="What the key is for (shown in lists).")
@click.option("--expires-days", type=click.IntRange(min=1), help="Days until the key expires.")
def createapikey(login: str, name: str, expires_days: int | None) -> None:
    """Create an API key for the user LOGIN and print it (once: only its digest is kept)."""
    from datetime import timedelta

    from nightowl.auth._store import find_user
    from nightowl.auth.apikeys import make_key

    auth = _auth()
    expires = timedelta(days=expires_days) if expires_days else None

    def create() -> tuple[Any, str] | None:
        with auth.database.session() as db:
            user = find_user(db, auth.user_model, login)
            if user is None:
                return None
            key, raw = make_key(user, name, expires)
            db.add(key)
            db.commit()
            return key, raw

    created = _database_errors(create)
    if created is None:
        raise click.ClickException(f"There is no user {login!r}.")
    key, raw = created
    click.echo(raw)
    until = f", expires {key.expires_at:%Y-%m-%d}" if key.expires_at else ""
    click.echo(
        f"Key {key.prefix} for {login}{until}. Keep it now: it is not shown again.", err=True
    )
