"""The OAuth2 token endpoint, ``POST /auth/token``, and its revocation, ``/auth/token/revoke``.

``/auth/token`` takes the standard form (RFC 6749): ``grant_type=password`` with
``username`` and ``password`` (what ``/docs`` Authorize sends), or
``grant_type=refresh_token`` with ``refresh_token``. It answers ``{"access_token",
"token_type", "expires_in", "refresh_token"}``, never cached. Errors are 400 problems
that also carry OAuth2's ``error`` and ``error_description``; failed passwords count
towards the same throttle as the login page (429 with ``Retry-After``).
``/auth/token/revoke`` (RFC 7009) takes ``token`` and always answers 200.

Both are exempt from CSRF checks: they read no cookie and grant nothing to one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from nightowl.exceptions import HTTPException
from nightowl.params import Form
from nightowl.requests import Request
from nightowl.responses import JSONResponse
from nightowl.routing import Router
from nightowl.sessions.csrf import csrf_exempt

if TYPE_CHECKING:
    from nightowl.app import App
    from nightowl.auth._protocol import AuthAPI
    from nightowl.auth.bearer import TokenBackend

__all__ = ["install_token_endpoint"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuth2Error(HTTPException):
    """A 400 problem with OAuth2's ``error`` code (RFC 6749, section 5.2)."""

    def __init__(self, error: str, description: str, status_code: int = 400) -> None:
        super().__init__(
            status_code,
            description,
            headers=_NO_STORE,
            extra={"error": error, "error_description": description},
        )


class _TokenViews:
    def __init__(self, auth: AuthAPI, tokens: TokenBackend) -> None:
        self.auth = auth
        self.tokens = tokens

    async def token(
        self,
        request: Request,
        grant_type: str,
        username: str,
        password: str,
        refresh_token: str,
        scope: str,
    ) -> JSONResponse:
        """The token response of the grant, or an :class:`OAuth2Error`."""
        if scope.strip():
            raise OAuth2Error("invalid_scope", "This server has no scopes: leave scope empty.")
        if grant_type == "password":
            pair = await self._password(request, username.strip(), password)
        elif grant_type == "refresh_token":
            if not refresh_token:
                raise OAuth2Error("invalid_request", "refresh_token is required.")
            found = await self.tokens.refresh(refresh_token)
            if found is None:
                raise OAuth2Error(
                    "invalid_grant", "The refresh token is invalid, expired or spent."
                )
            pair = found
        elif not grant_type:
            raise OAuth2Error("invalid_request", "grant_type is required (password).")
        else:
            raise OAuth2Error(
                "unsupported_grant_type",
                f"grant_type {grant_type[:40]!r} is not supported: password or refresh_token.",
            )
        return JSONResponse(pair.as_response(), headers=_NO_STORE)

    async def _password(self, request: Request, username: str, password: str) -> Any:
        if not username or not password:
            raise OAuth2Error("invalid_request", "username and password are required.")
        throttle = self.auth.throttle
        client = request.client.host if request.client else None
        if throttle is not None:
            await throttle.check(username, client)  # 429 or 503, with Retry-After
        user = await self.auth.authenticate(username, password)
        if user is None:
            if throttle is not None:
                await throttle.failed(username, client)
            raise OAuth2Error("invalid_grant", "Incorrect user name or password.")
        if throttle is not None:
            await throttle.succeeded(username, client)
        await self.auth.record_login(user)
        pair = await self.tokens.issue(user)
        request.scope["user"] = user
        return pair

    async def revoke(self, token: str) -> JSONResponse:
        """Revoke ``token`` if it is one; 200 either way."""
        if not token:
            raise OAuth2Error("invalid_request", "token is required.")
        await self.tokens.revoke(token)
        return JSONResponse({}, headers=_NO_STORE)


def install_token_endpoint(auth: AuthAPI, app: App, tokens: TokenBackend) -> None:
    """Serve ``{prefix}/token`` and ``{prefix}/token/revoke``."""
    views = _TokenViews(auth, tokens)
    router = Router(prefix=auth.prefix, tags=["auth"])

    @router.post("/token", name="auth_token")
    @csrf_exempt
    async def token(
        request: Request,
        grant_type: Annotated[str, Form()] = "",
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        refresh_token: Annotated[str, Form()] = "",
        scope: Annotated[str, Form()] = "",
    ) -> JSONResponse:
        """Trade a user name and password, or a refresh token, for a bearer token.

        OAuth2's password flow (``grant_type=password``) and refresh
        (``grant_type=refresh_token``). The access token is sent as
        ``Authorization: Bearer <access_token>``.
        """
        return await views.token(request, grant_type, username, password, refresh_token, scope)

    @router.post("/token/revoke", name="auth_token_revoke")
    @csrf_exempt
    async def revoke_token(
        token: Annotated[str, Form()] = "", token_type_hint: Annotated[str, Form()] = ""
    ) -> JSONResponse:
        """Revoke an access token, or a refresh token with every token of its login.

        Always 200, whether the token was valid or not (RFC 7009).
        """
        return await views.revoke(token)

    app.include(router)
