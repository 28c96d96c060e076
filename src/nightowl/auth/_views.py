"""The server-rendered pages under ``/auth/``: login, logout, password change and reset.

Templates live in the battery's ``templates/auth/`` folder; a project's own
``templates/auth/login.html`` (and so on) is found first and wins. Every form carries
the CSRF token, and ``?next=`` is followed only to a path of this site.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from nightowl.auth._login import login, logout, update_session_auth_hash
from nightowl.auth.dependencies import login_required
from nightowl.auth.hashers import PasswordTooLong, UnknownHashFormat
from nightowl.auth.mail import Message
from nightowl.auth.tokens import PasswordResetTokens
from nightowl.auth.validators import PasswordValidationError
from nightowl.background import BackgroundTasks
from nightowl.exceptions import HTTPException
from nightowl.params import Depends
from nightowl.requests import Request
from nightowl.responses import RedirectResponse, Response
from nightowl.routing import Router
from nightowl.sessions import flash, secret_key_for
from nightowl.templating import render, templates_for

if TYPE_CHECKING:
    from nightowl.app import App
    from nightowl.auth._protocol import AuthAPI
    from nightowl.auth.models import AbstractUser

__all__ = ["install_views", "safe_next"]

_NO_REFERRER = {"Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
_BAD_LOGIN = "Please enter a correct {field} and password. Both may be case-sensitive."


def safe_next(value: Any) -> str | None:
    """``value`` when it is a path of this site (``/orders?page=2``), else ``None``.

    Refused: absolute and scheme-relative URLs (``https://evil``, ``//evil``), backslashes
    (``/\\evil``, which browsers read as ``//evil``), control characters, anything not
    starting with ``/``.
    """
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2000:
        return None
    if value.startswith("//") or "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


class _Views:
    """The view functions, bound to one :class:`Auth`."""

    def __init__(self, auth: AuthAPI) -> None:
        self.auth = auth
        self._tokens: PasswordResetTokens | None = None

    @property
    def tokens(self) -> PasswordResetTokens:
        if self._tokens is None:
            key = secret_key_for(self.auth.app)
            self._tokens = PasswordResetTokens(key, max_age=self.auth.reset_max_age)
        return self._tokens

    def _page(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> Response:
        context.setdefault("errors", {})
        context.setdefault("auth_prefix", self.auth.prefix)
        context.setdefault("login_field", self.auth.user_model.USERNAME_FIELD)
        return render(
            f"auth/{name}", request, context, status_code=status_code, headers=_NO_REFERRER
        )

    # -- login and logout -------------------------------------------------------------------
    async def login_page(self, request: Request) -> Response:
        next_url = safe_next(request.query_params.get("next")) or ""
        return self._page(request, "login.html", next=next_url, username="")

    async def login_submit(self, request: Request) -> Response:
        form = await request.form()
        identifier = _field(form, "username").strip()
        password = _field(form, "password")
        next_url = safe_next(_field(form, "next")) or ""
        page = {"next": next_url, "username": identifier}
        if not request.session.from_cookie:
            # No session cookie: the CSRF check had nothing to check (a forged login).
            message = "Your browser did not send the session cookie: enable cookies and try again."
            return self._page(request, "login.html", 403, form_errors=[message], **page)
        throttle = self.auth.throttle
        client = request.client.host if request.client else None
        if throttle is not None:
            try:
                await throttle.check(identifier, client)
            except HTTPException as exc:  # 429 (too many failures), 503 (store down)
                status, detail = exc.status_code, str(exc.detail)
                response = self._page(request, "login.html", status, form_errors=[detail], **page)
                response.headers["Retry-After"] = (exc.headers or {}).get("Retry-After", "30")
                return response
        user = await self.auth.authenticate(identifier, password) if identifier else None
        if user is None:
            if throttle is not None:
                await throttle.failed(identifier, client)
            field = self.auth.user_model.USERNAME_FIELD.replace("_", " ")
            errors = [_BAD_LOGIN.format(field=field)]
            return self._page(request, "login.html", 400, form_errors=errors, **page)
        if throttle is not None:
            await throttle.succeeded(identifier, client)
        await login(request, user)
        return RedirectResponse(next_url or self.auth.login_redirect, status_code=303)

    async def logout_page(self, request: Request) -> Response:
        next_url = safe_next(request.query_params.get("next")) or ""
        return self._page(request, "logout.html", next=next_url)

    async def logout_submit(self, request: Request) -> Response:
        form = await request.form()
        logout(request)
        flash(request, "You have been logged out.")
        return RedirectResponse(safe_next(_field(form, "next")) or "/", status_code=303)

    # -- password change --------------------------------------------------------------------
    async def password_change_page(
        self, request: Request, user: Annotated[Any, Depends(login_required)]
    ) -> Response:
        return self._page(request, "password_change.html", user=user)

    async def password_change_submit(
        self, request: Request, user: Annotated[Any, Depends(login_required)]
    ) -> Response:
        form = await request.form()
        errors: dict[str, list[str]] = {}
        try:
            if not self.auth.hasher.verify(user.password, _field(form, "old_password")):
                errors["old_password"] = ["Your old password was entered incorrectly."]
        except (PasswordTooLong, UnknownHashFormat):
            errors["old_password"] = ["Your old password was entered incorrectly."]
        new = self._new_password(form, user, errors)
        if errors or new is None:
            return self._page(request, "password_change.html", 400, user=user, errors=errors)
        await self.auth.set_password(user, new, validate=False)
        update_session_auth_hash(request, user)
        flash(request, "Your password was changed.", category="success")
        return RedirectResponse(f"{self.auth.prefix}/password/change/done", status_code=303)

    async def password_change_done(
        self, request: Request, user: Annotated[Any, Depends(login_required)]
    ) -> Response:
        return self._page(request, "password_change_done.html", user=user)

    def _new_password(self, form: Any, user: Any, errors: dict[str, list[str]]) -> str | None:
        first, second = _field(form, "new_password1"), _field(form, "new_password2")
        if not first:
            errors["new_password1"] = ["This field is required."]
            return None
        try:
            self.auth.validate_password(first, user)
        except PasswordValidationError as exc:
            errors["new_password1"] = exc.messages
            return None
        if first != second:
            errors["new_password2"] = ["The two password fields didn't match."]
            return None
        return first

    # -- password reset ---------------------------------------------------------------------
    async def password_reset_page(self, request: Request) -> Response:
        return self._page(request, "password_reset.html", email="")

    async def password_reset_submit(self, request: Request, tasks: BackgroundTasks) -> Response:
        form = await request.form()
        email = _field(form, "email").strip()
        if "@" not in email or len(email) > 254:
            errors = {"email": ["Enter a valid email address."]}
            return self._page(request, "password_reset.html", 400, email=email, errors=errors)
        user = await self.auth.find_by_email(email)
        if user is not None and user.is_active and user.has_usable_password():
            # Sent after the response: the answer takes as long whether the address exists.
            link = self._reset_link(request, user)
            tasks.add_task(self._send_reset, user, link)
        return RedirectResponse(f"{self.auth.prefix}/password/reset/done", status_code=303)

    def _reset_link(self, request: Request, user: AbstractUser) -> str:
        site = self.auth.site_url or str(request.base_url).rstrip("/")
        return f"{site}{self.auth.prefix}/password/reset/{user.id}/{self.tokens.make(user)}"

    async def _send_reset(self, user: AbstractUser, link: str) -> None:
        templates = templates_for(self.auth.app)
        template = templates.get_template("auth/password_reset_email.txt")
        # Plain text: the values are marked safe so the HTML autoescaping leaves them alone.
        body = template.render(user=Markup(str(user)), link=Markup(link))
        address = getattr(user, user.EMAIL_FIELD)
        subject = "Reset your password"
        await self.auth.mail.send(Message(address, subject, body, self.auth.from_email))

    async def password_reset_done(self, request: Request) -> Response:
        return self._page(request, "password_reset_done.html")

    async def _reset_user(self, user_id: str, token: str) -> AbstractUser | None:
        user = await self.auth.get_user(user_id)
        if user is None or not user.is_active or not self.tokens.check(user, token):
            return None
        return user

    async def password_reset_confirm_page(
        self, request: Request, user_id: str, token: str
    ) -> Response:
        user = await self._reset_user(user_id, token)
        status = 200 if user is not None else 400
        return self._page(request, "password_reset_confirm.html", status, valid=user is not None)

    async def password_reset_confirm_submit(
        self, request: Request, user_id: str, token: str
    ) -> Response:
        user = await self._reset_user(user_id, token)
        if user is None:
            return self._page(request, "password_reset_confirm.html", 400, valid=False)
        form = await request.form()
        errors: dict[str, list[str]] = {}
        new = self._new_password(form, user, errors)
        if new is None:
            return self._page(
                request, "password_reset_confirm.html", 400, valid=True, errors=errors
            )
        await self.auth.set_password(user, new, validate=False)  # the token is spent with it
        return RedirectResponse(f"{self.auth.prefix}/password/reset/complete", status_code=303)

    async def password_reset_complete(self, request: Request) -> Response:
        return self._page(request, "password_reset_complete.html")


def install_views(auth: AuthAPI, app: App) -> None:
    """Serve the pages under ``auth.prefix`` and add the battery's templates (after the
    project's, which win)."""
    templates_for(app).add_loader(jinja2.PackageLoader("nightowl.auth", "templates"))
    views = _Views(auth)
    router = Router(prefix=auth.prefix)
    hidden: dict[str, Any] = {"include_in_schema": False}
    pages: list[tuple[str, str, Callable[..., Any], Callable[..., Any]]] = [
        ("/login", "auth_login", views.login_page, views.login_submit),
        ("/logout", "auth_logout", views.logout_page, views.logout_submit),
        (
            "/password/change",
            "auth_password_change",
            views.password_change_page,
            views.password_change_submit,
        ),
        (
            "/password/reset",
            "auth_password_reset",
            views.password_reset_page,
            views.password_reset_submit,
        ),
        (
            "/password/reset/{user_id}/{token}",
            "auth_password_reset_confirm",
            views.password_reset_confirm_page,
            views.password_reset_confirm_submit,
        ),
    ]
    for path, name, page, submit in pages:
        router.get(path, name=name, **hidden)(page)
        router.post(path, name=f"{name}_submit", **hidden)(submit)
    router.get("/password/change/done", name="auth_password_change_done", **hidden)(
        views.password_change_done
    )
    router.get("/password/reset/done", name="auth_password_reset_done", **hidden)(
        views.password_reset_done
    )
    router.get("/password/reset/complete", name="auth_password_reset_complete", **hidden)(
        views.password_reset_complete
    )
    app.include(router)
