"""The battery's packaging: lazy imports, a clear error without its extra, clear config errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nightowl import App
from nightowl.auth import Auth
from nightowl.exceptions import ImproperlyConfigured


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_import_nightowl_does_not_import_the_battery() -> None:
    result = _run(
        "import sys\nfrom nightowl import App\napp = App()\n"
        "print(sorted(m for m in ('argon2', 'bcrypt', 'nightowl.auth', 'sqlalchemy') if m in sys.modules))"
    )
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize("missing", ["sqlalchemy", "argon2"])
def test_without_the_extra_the_error_says_what_to_install(missing: str) -> None:
    result = _run(f"import sys\nsys.modules[{missing!r}] = None\nfrom nightowl.auth import Auth\n")
    assert result.returncode == 1
    assert f"nightowl.auth needs {missing}: pip install " in result.stderr
    assert '[auth]"' in result.stderr


def test_auth_needs_a_database() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"App\(database="):
        Auth(App(secret_key="x" * 32))


def test_configuration_errors_are_clear() -> None:
    app = App(database="sqlite://", secret_key="x" * 32)
    with pytest.raises(ImproperlyConfigured, match="user_model"):
        Auth(app, user_model=dict)  # type: ignore[arg-type]
    with pytest.raises(ImproperlyConfigured, match="prefix"):
        Auth(app, prefix="auth/")
    with pytest.raises(ImproperlyConfigured, match="throttle"):
        Auth(app, throttle="memcached://x")
    Auth(app)
    with pytest.raises(ImproperlyConfigured, match="twice"):
        Auth(app)
    app.state.database.close()


def test_without_the_pages_browsers_get_the_401_too() -> None:
    from nightowl.auth import login_required
    from nightowl.params import Depends
    from nightowl.testing import TestClient

    app = App(database="sqlite://", secret_key="x" * 32)
    Auth(app, views=False)

    @app.get("/private", dependencies=[Depends(login_required)])
    def private() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app, follow_redirects=False) as client:
        response = client.get("/private", headers={"Accept": "text/html"})
        assert response.status_code == 401  # no login page to send them to
        assert client.get("/auth/login").status_code == 404
    app.state.database.close()
