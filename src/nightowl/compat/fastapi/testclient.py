"""``fastapi.testclient``: nightowl's ``TestClient``."""

from nightowl.testing import TestClient

__all__ = ["TestClient"]
