"""Security schemes as injectable dependencies: API keys, HTTP bearer and basic, OAuth2.

Each scheme is a callable dependency that reads its credential from the request and
returns it, or answers 401 (with ``WWW-Authenticate``) when it is missing. The OpenAPI
generator finds every scheme an operation depends on, directly or through other
dependencies, and lists it under the operation's ``security``, so ``/docs`` shows the
lock and its Authorize button::

    api_key = APIKeyHeader("X-API-Key")

    def current_user(key: Annotated[str, Depends(api_key)]) -> User: ...

    @app.get("/me")
    def me(user: Annotated[User, Depends(current_user)]) -> UserOut: ...

Checking that the credential is *valid* is the application's job: do it in a
dependency that depends on the scheme, as ``current_user`` does above.
``Security(current_user, scopes=["items:read"])`` says which OAuth2 scopes a use
requires: they appear in the operation's ``security``, and a :class:`SecurityScopes`
parameter of ``current_user`` receives them.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Annotated, Any

from nightowl.exceptions import HTTPException
from nightowl.params import Form, Security, SecurityScopes
from nightowl.requests import Request

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "Security",
    "SecurityScheme",
    "SecurityScopes",
]


class SecurityScheme:
    """The base of every scheme: a name in ``components/securitySchemes`` and its object.

    Args:
        scheme_name: the key in ``components/securitySchemes``; the class name by default.
            Two schemes with the same name must describe the same thing.
        description: shown by Swagger UI and ReDoc next to the scheme.
        auto_error: answer 401 when the credential is missing (``True``), or give the
            handler ``None`` so it can allow anonymous access (``False``).
    """

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.scheme_name = scheme_name or type(self).__name__
        self.description = description
        self.auto_error = auto_error

    def openapi_scheme(self) -> dict[str, Any]:
        """The OpenAPI Security Scheme Object for this scheme."""
        scheme = self._scheme()
        if self.description:
            scheme["description"] = self.description
        return scheme

    def _scheme(self) -> dict[str, Any]:
        raise NotImplementedError

    def _unauthorized(self, detail: str, challenge: str) -> HTTPException:
        return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.scheme_name!r}>"


class _APIKey(SecurityScheme):
    location = "header"

    def __init__(
        self,
        name: str,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.name = name

    def _scheme(self) -> dict[str, Any]:
        return {"type": "apiKey", "name": self.name, "in": self.location}

    def _lookup(self, request: Request) -> str | None:
        raise NotImplementedError

    async def __call__(self, request: Request) -> str | None:
        """The API key from the request, or 401 (``None`` when ``auto_error=False``)."""
        key = self._lookup(request)
        if not key:
            if self.auto_error:
                raise self._unauthorized("Not authenticated: an API key is required.", "APIKey")
            return None
        return key


class APIKeyHeader(_APIKey):
    """An API key sent in a header: ``Depends(APIKeyHeader("X-API-Key"))`` gives the key.

    Args:
        name: the header's name.
    """

    location = "header"

    def _lookup(self, request: Request) -> str | None:
        key: str | None = request.headers.get(self.name)
        return key


class APIKeyCookie(_APIKey):
    """An API key sent in a cookie: ``Depends(APIKeyCookie("session"))`` gives the key.

    Args:
        name: the cookie's name.
    """

    location = "cookie"

    def _lookup(self, request: Request) -> str | None:
        return request.cookies.get(self.name)


class APIKeyQuery(_APIKey):
    """An API key sent in the query string: ``Depends(APIKeyQuery("api_key"))`` gives the key.

    Args:
        name: the query parameter's name.
    """

    location = "query"

    def _lookup(self, request: Request) -> str | None:
        key: str | None = request.query_params.get(self.name)
        return key


@dataclasses.dataclass(frozen=True, slots=True)
class HTTPAuthorizationCredentials:
    """An ``Authorization: <scheme> <credentials>`` header, split."""

    scheme: str
    credentials: str


@dataclasses.dataclass(frozen=True, slots=True)
class HTTPBasicCredentials:
    """The user name and password of HTTP Basic authentication."""

    username: str
    password: str


def _authorization(request: Request) -> tuple[str, str] | None:
    value = request.headers.get("authorization")
    if not value:
        return None
    scheme, _, credentials = value.partition(" ")
    return scheme, credentials.strip()


class HTTPBearer(SecurityScheme):
    """A bearer token in ``Authorization: Bearer <token>``.

    Gives :class:`HTTPAuthorizationCredentials`; ``.credentials`` is the token.

    Args:
        bearer_format: a hint such as ``"JWT"`` for the documentation.
    """

    def __init__(
        self,
        *,
        bearer_format: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.bearer_format = bearer_format

    def _scheme(self) -> dict[str, Any]:
        scheme: dict[str, Any] = {"type": "http", "scheme": "bearer"}
        if self.bearer_format:
            scheme["bearerFormat"] = self.bearer_format
        return scheme

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        """The bearer credentials, or 401 (``None`` when ``auto_error=False``)."""
        found = _authorization(request)
        if found is None or found[0].lower() != "bearer" or not found[1]:
            if self.auto_error:
                raise self._unauthorized("Not authenticated: a bearer token is required.", "Bearer")
            return None
        return HTTPAuthorizationCredentials(found[0], found[1])


class HTTPBasic(SecurityScheme):
    """HTTP Basic authentication: gives :class:`HTTPBasicCredentials`.

    Args:
        realm: the realm named in the ``WWW-Authenticate`` challenge.
    """

    def __init__(
        self,
        *,
        realm: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.realm = realm

    def _scheme(self) -> dict[str, Any]:
        return {"type": "http", "scheme": "basic"}

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:
        """The user name and password, or 401 (``None`` when ``auto_error=False``)."""
        challenge = f'Basic realm="{self.realm}"' if self.realm else "Basic"
        found = _authorization(request)
        if found is None or found[0].lower() != "basic":
            if self.auto_error:
                raise self._unauthorized(
                    "Not authenticated: a user name and password are required.", challenge
                )
            return None
        try:
            decoded = base64.b64decode(found[1], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise self._unauthorized(
                "Invalid basic authentication credentials.", challenge
            ) from None
        username, separator, password = decoded.partition(":")
        if not separator:
            raise self._unauthorized("Invalid basic authentication credentials.", challenge)
        return HTTPBasicCredentials(username, password)


class OAuth2PasswordBearer(SecurityScheme):
    """OAuth2's password flow: the client trades a user name and password at ``token_url``
    for a token, then sends ``Authorization: Bearer <token>``. Gives the token.

    Args:
        token_url: where Swagger UI's Authorize dialog posts the user name and password
            (an ``application/x-www-form-urlencoded`` form; the app must serve it).
        scopes: the scopes the API knows, name -> description.
    """

    def __init__(
        self,
        token_url: str,
        *,
        scopes: dict[str, str] | None = None,
        refresh_url: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.token_url = token_url
        self.scopes = dict(scopes or {})
        self.refresh_url = refresh_url

    def _scheme(self) -> dict[str, Any]:
        flow: dict[str, Any] = {"tokenUrl": self.token_url, "scopes": dict(self.scopes)}
        if self.refresh_url:
            flow["refreshUrl"] = self.refresh_url
        return {"type": "oauth2", "flows": {"password": flow}}

    async def __call__(self, request: Request) -> str | None:
        """The bearer token, or 401 (``None`` when ``auto_error=False``)."""
        found = _authorization(request)
        if found is None or found[0].lower() != "bearer" or not found[1]:
            if self.auto_error:
                raise self._unauthorized("Not authenticated: a bearer token is required.", "Bearer")
            return None
        return found[1]


class OAuth2PasswordRequestForm:
    """The form a client posts to an OAuth2 password flow's token URL, as a dependency.

    ::

        @app.post("/token")
        def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
            user = authenticate(form.username, form.password)
            ...

    Reads the ``application/x-www-form-urlencoded`` fields ``username`` and ``password``
    (required), ``grant_type`` (``"password"`` when given), ``scope`` (space-separated,
    split into :attr:`scopes`), ``client_id`` and ``client_secret``.
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        #: The requested scopes, one string each.
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """:class:`OAuth2PasswordRequestForm` where ``grant_type=password`` is required, as
    the OAuth2 specification says."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )
