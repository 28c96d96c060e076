"""``ORJSONResponse``: JSON serialised by orjson, for apps that already depend on it."""

from __future__ import annotations

from typing import Any

from nightowl.exceptions import ImproperlyConfigured
from nightowl.responses._base import JSONResponse

__all__ = ["ORJSONResponse"]

_MISSING_ORJSON = 'ORJSONResponse needs the orjson package: pip install "nightowl[orjson]" (or pip install orjson).'


class ORJSONResponse(JSONResponse):
    """A JSON response serialised with `orjson <https://github.com/ijl/orjson>`_.

    ``@app.get("/items", response_class=ORJSONResponse)`` or ``return ORJSONResponse(data)``.
    nightowl's own :class:`JSONResponse` is already as fast (pydantic-core serialises it);
    this class is for code that relies on orjson's output (its ``OPT_NON_STR_KEYS``
    dict keys, numpy arrays). Without orjson installed, creating one raises
    :class:`~nightowl.exceptions.ImproperlyConfigured` naming the install command.
    """

    def render(self, content: Any) -> bytes:
        """Serialise ``content`` with orjson (non-string dict keys and numpy arrays allowed)."""
        try:
            import orjson
        except ImportError:
            raise ImproperlyConfigured(_MISSING_ORJSON) from None
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
