"""The security schemes of an app's authenticators, as the dependency OpenAPI reads.

``Auth(app)`` provides :class:`~nightowl.auth.dependencies.AuthSchemes` with a
:class:`SchemesProvider`: a dependency whose parameters depend on each authenticator's
scheme (``auth.authenticators`` read when the app compiles its routes, so authenticators
added after ``Auth(app)`` are listed too). Per request the schemes only read their
header or cookie; the authenticators do the checking.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from nightowl.params import Depends

if TYPE_CHECKING:
    from nightowl.auth._protocol import AuthAPI

__all__ = ["SchemesProvider"]


class SchemesProvider:
    """Depends on the security scheme of every authenticator of ``auth``."""

    def __init__(self, auth: AuthAPI) -> None:
        self.auth = auth
        self._key: tuple[int, ...] = ()
        self._function: Callable[..., Any] | None = None

    @property
    def __call__(self) -> Callable[..., Any]:
        # A property, so that the signature dependency injection reads is that of the
        # authenticators as they are when the app compiles its routes.
        authenticators = self.auth.authenticators
        key = tuple(id(a) for a in authenticators)
        if self._function is None or key != self._key:
            self._function = _reader([a.security_scheme(self.auth) for a in authenticators])
            self._key = key
        return self._function

    def __repr__(self) -> str:
        return f"<SchemesProvider of {self.auth!r}>"


def _reader(schemes: list[Any]) -> Callable[..., Any]:
    async def auth_schemes(**_credentials: Any) -> None:
        return None

    parameters = [
        inspect.Parameter(
            f"_scheme{index}",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[Any, Depends(scheme)],
        )
        for index, scheme in enumerate(schemes)
        if scheme is not None
    ]
    auth_schemes.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    auth_schemes.__annotations__ = {p.name: p.annotation for p in parameters}
    return auth_schemes
