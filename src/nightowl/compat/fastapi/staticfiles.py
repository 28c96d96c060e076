"""``fastapi.staticfiles``: nightowl's ``StaticFiles``."""

from nightowl.staticfiles import StaticFiles

__all__ = ["StaticFiles"]
