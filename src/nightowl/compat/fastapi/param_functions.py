"""``fastapi.param_functions``: nightowl's parameter markers (``Query``, ``Depends``...)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nightowl.params import Body, Cookie, Depends, File, Form, Header, Path, Query

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query", "Security"]


def Security(
    dependency: Callable[..., Any] | None = None,
    *,
    scopes: Sequence[str] | None = None,
    use_cache: bool = True,
) -> Depends:
    """A dependency on a security scheme, with the OAuth2 scopes it needs."""
    depends = Depends(dependency, use_cache=use_cache)
    depends.scopes = list(scopes or ())  # type: ignore[attr-defined]
    return depends
