"""nightowl's auth battery: ``GET /me`` behind ``login_required``.

Sessions in PostgreSQL (``App(sessions="database")``, the same store as Django's), JWTs
from ``/auth/token`` (the default) and API keys (``APIKeyAuthenticator``): every
credential resolves to the same ``current_user``. Credentials are made the way a client
makes them: the login form, the token endpoint, ``auth.create_api_key()``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import httpx

from nightowl import App, Depends
from nightowl.auth import APIKeyAuthenticator, Auth, PasswordHasher, User, login_required

NOTES = (
    'App(sessions="database"), Auth(app, authenticators=[APIKeyAuthenticator()]), '
    "async def + Depends(login_required)"
)
PASSWORD = "correct horse battery staple"


def build(url: str, pool_size: int) -> App:
    """The app, its tables created and one user, ``ada``."""
    app = App(
        database={"url": url, "pool_size": pool_size, "max_overflow": 0},
        secret_key="benchmark-secret-key-not-for-production-use",
        sessions="database",
    )
    auth = Auth(
        app,
        authenticators=[APIKeyAuthenticator()],
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )
    app.state.database.create_all()
    auth.create_user_sync(PASSWORD, username="ada", email="ada@example.com")

    @app.get("/me")
    async def me(user: Annotated[User, Depends(login_required)]) -> dict[str, Any]:
        return {"username": user.username}

    return app


async def credentials(app: App) -> dict[str, list[tuple[bytes, bytes]]]:
    """Request headers per kind of credential, each obtained as a client would."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        page = await client.get("/auth/login", headers={"Accept": "text/html"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None, page.text
        form = {"csrf_token": token.group(1), "username": "ada", "password": PASSWORD}
        login = await client.post("/auth/login", data=form)
        assert login.status_code == 303, login.text
        cookie = f"session={client.cookies['session']}"
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        form = {"grant_type": "password", "username": "ada", "password": PASSWORD}
        jwt = (await client.post("/auth/token", data=form)).json()["access_token"]
    auth = app.state.auth
    user = await auth.authenticate("ada", PASSWORD)
    _, key = await auth.create_api_key(user, name="bench")
    return {
        "session": [(b"cookie", cookie.encode())],
        "jwt": [(b"authorization", f"Bearer {jwt}".encode())],
        "apikey": [(b"x-api-key", key.encode())],
    }


async def close(app: App) -> None:
    """Close the connection pools."""
    await app.state.database.dispose_async()
