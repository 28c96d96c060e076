"""What the pages need of an admin site, as a protocol, so that the page modules do not
import :class:`~nightowl.admin.Admin` (which imports them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from nightowl.admin._options import ModelAdmin
    from nightowl.requests import Request
    from nightowl.responses import HTMLResponse

__all__ = ["SiteAPI"]


class SiteAPI(Protocol):
    """The part of :class:`~nightowl.admin.Admin` the pages use."""

    app: Any
    path: str
    name: str
    title: str
    pages: list[Any]

    @property
    def registry(self) -> Mapping[tuple[str, str], ModelAdmin]:
        """The registered models' admins."""

    def model_admin(self, app_label: str, model_name: str) -> ModelAdmin:
        """The admin of one model, or a 404."""

    def admin_for(self, model: type[Any]) -> ModelAdmin | None:
        """The admin of ``model`` on this site, if registered."""

    def url(self, *parts: Any) -> str:
        """A URL of the site."""

    def render(
        self,
        request: Request,
        template: str | Sequence[str],
        context: Mapping[str, Any],
        status_code: int = 200,
        model_admin: ModelAdmin | None = None,
    ) -> HTMLResponse:
        """Render an admin template."""
