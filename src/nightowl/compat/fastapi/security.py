"""``fastapi.security``: nightowl's security schemes with FastAPI's spellings
(``OAuth2PasswordBearer(tokenUrl=...)``, ``HTTPBearer(bearerFormat=...)``) and its
401 wording (``{"detail": "Not authenticated"}``)."""

from __future__ import annotations

from nightowl import security as _security
from nightowl.exceptions import HTTPException
from nightowl.security import (
    HTTPAuthorizationCredentials,
    HTTPBasicCredentials,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    SecurityScopes,
)

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
    "SecurityScopes",
]


class _FastAPIWording:
    """FastAPI's answer to a missing or malformed credential, and its hook to change it."""

    _challenge = "Bearer"

    def _unauthorized(self, detail: str, challenge: str) -> HTTPException:
        self._challenge = challenge  # the same for every request of one scheme
        return self.make_not_authenticated_error()

    def make_not_authenticated_error(self) -> HTTPException:
        """The error for a missing or malformed credential: override to answer otherwise
        (a 403, as FastAPI once did)."""
        return HTTPException(
            401, "Not authenticated", headers={"WWW-Authenticate": self._challenge}
        )


class APIKeyHeader(_FastAPIWording, _security.APIKeyHeader):
    """An API key in a header: ``APIKeyHeader(name="X-API-Key")``."""

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            name, scheme_name=scheme_name, description=description, auto_error=auto_error
        )


class APIKeyQuery(_FastAPIWording, _security.APIKeyQuery):
    """An API key in the query string: ``APIKeyQuery(name="api_key")``."""

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            name, scheme_name=scheme_name, description=description, auto_error=auto_error
        )


class APIKeyCookie(_FastAPIWording, _security.APIKeyCookie):
    """An API key in a cookie: ``APIKeyCookie(name="session")``."""

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            name, scheme_name=scheme_name, description=description, auto_error=auto_error
        )


class HTTPBearer(_FastAPIWording, _security.HTTPBearer):
    """A bearer token: ``HTTPBearer(bearerFormat="JWT")``."""

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            bearer_format=bearerFormat,
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )


class HTTPBasic(_FastAPIWording, _security.HTTPBasic):
    """HTTP Basic authentication: ``HTTPBasic(realm="shop")``."""


class OAuth2PasswordBearer(_FastAPIWording, _security.OAuth2PasswordBearer):
    """OAuth2's password flow: ``OAuth2PasswordBearer(tokenUrl="token")``."""

    def __init__(
        self,
        tokenUrl: str,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
    ) -> None:
        super().__init__(
            tokenUrl,
            scopes=scopes,
            refresh_url=refreshUrl,
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
