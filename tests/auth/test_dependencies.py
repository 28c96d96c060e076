"""current_user, login_required and the require_* checks, as dependencies and decorators."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from nightowl import App, Depends, Request
from nightowl.auth import (
    Auth,
    PermissionBackend,
    User,
    current_user,
    login_required,
    require_permission,
    require_staff,
    require_superuser,
)
from nightowl.testing import TestClient
from tests.auth.conftest import BROWSER, PASSWORD, log_in
from tests.statements import recorded_statements


@pytest.fixture
def routes(app: App) -> App:
    @app.get("/staff", dependencies=[Depends(require_staff)])
    def staff() -> dict[str, bool]:
        return {"staff": True}

    @app.get("/root")
    @require_superuser
    async def root() -> dict[str, bool]:
        return {"root": True}

    @app.get("/posts/new")
    @require_permission("blog.add_post")
    def new_post(request: Request) -> dict[str, str]:
        return {"path": request.url.path}

    @app.get("/decorated")
    @login_required
    async def decorated(user: Annotated[Any, Depends(current_user)]) -> dict[str, str]:
        return {"user": user.username}

    @app.get("/twice")
    async def twice(
        a: Annotated[Any, Depends(current_user)],
        b: Annotated[Any, Depends(login_required)],
        c: Annotated[Any, Depends(require_permission("blog.view_post"))],
    ) -> dict[str, bool]:
        return {"same": a is b is c}

    return app


def test_api_clients_get_a_401_problem(client: TestClient, routes: App) -> None:
    for path in ["/private", "/staff", "/root", "/posts/new", "/decorated"]:
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Session, Bearer"
        assert response.json()["detail"] == "Authentication required."


def test_browsers_are_sent_to_the_login_page(client: TestClient, routes: App, ada: User) -> None:
    response = client.get("/posts/new?draft=1", headers=BROWSER)
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/login?next=%2Fposts%2Fnew%3Fdraft%3D1"
    page = client.get(response.headers["location"], headers=BROWSER)
    assert 'name="next" value="/posts/new?draft=1"' in page.text
    done = log_in(client, next="/decorated")
    assert done.headers["location"] == "/decorated"
    assert client.get("/decorated").json() == {"user": "ada"}


def test_a_user_without_the_permission_gets_403(
    client: TestClient, routes: App, auth: Auth, ada: User
) -> None:
    log_in(client)
    for path in ["/staff", "/root", "/posts/new"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.headers["content-type"] == "application/problem+json"


def test_permissions_from_the_user_and_their_groups(
    client: TestClient, routes: App, auth: Auth, ada: User
) -> None:
    import asyncio

    async def setup() -> None:
        await auth.grant(ada, "blog.add_post")
        group = await auth.add_to_group(ada, "readers")
        await auth.grant(group, "blog.view_post")

    asyncio.run(setup())
    log_in(client)
    assert client.get("/posts/new").json() == {"path": "/posts/new"}
    assert client.get("/twice").json() == {"same": True}

    asyncio.run(_then_dispose(auth, auth.revoke(ada, "blog.add_post")))
    assert client.get("/posts/new").status_code == 403


def test_staff_and_superusers(client: TestClient, routes: App, auth: Auth) -> None:
    auth.create_user_sync(PASSWORD, username="root", is_staff=True, is_superuser=True)
    log_in(client, username="root")
    assert client.get("/staff").json() == {"staff": True}
    assert client.get("/root").json() == {"root": True}
    assert client.get("/posts/new").status_code == 200  # superusers have every permission


def test_the_user_is_loaded_once_per_request(
    client: TestClient, routes: App, auth: Auth, ada: User
) -> None:
    import asyncio

    asyncio.run(_then_dispose(auth, auth.grant(ada, "blog.view_post")))
    log_in(client)
    with recorded_statements(auth.database) as statements:
        assert client.get("/twice").json() == {"same": True}
    users = [s for s in statements if "FROM auth_user" in s and "auth_user_permissions" not in s]
    assert len(users) == 1, statements
    assert len(statements) == 2, statements  # the user, then the permissions


def test_object_permissions_come_from_backends(app: App, auth: Auth, ada: User) -> None:
    class OwnPosts(PermissionBackend):
        async def has_permission(self, user: Any, permission: str, obj: Any = None) -> bool:
            return permission == "blog.change_post" and obj == {"author": user.username}

    backend = OwnPosts()
    backend.bind(auth)
    auth.permission_backends.append(backend)

    def the_post(author: str) -> dict[str, str]:
        return {"author": author}

    @app.put("/posts")
    @require_permission("blog.change_post", obj=the_post)
    def edit() -> dict[str, bool]:
        return {"edited": True}

    with TestClient(app, follow_redirects=False) as client:
        log_in(client)
        headers = {"X-CSRF-Token": _token(client)}
        assert client.put("/posts?author=ada", headers=headers).json() == {"edited": True}
        assert client.put("/posts?author=bob", headers=headers).status_code == 403


def _token(client: TestClient) -> str:
    from tests.auth.conftest import csrf_token

    return csrf_token(client.get("/auth/logout", headers=BROWSER).text)


def test_require_permission_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match=r"app_label\.codename"):
        require_permission("add_post")
    with pytest.raises(TypeError):
        require_permission()


async def _then_dispose(auth: Auth, work: Any) -> None:
    """Await ``work`` in a loop of its own, then close that loop's connections."""
    await work
    await auth.database.dispose_async()


def test_protected_operations_list_their_schemes_in_openapi(
    client: TestClient, routes: App
) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"] == {
        "type": "apiKey",
        "name": "session",
        "in": "cookie",
        "description": "The login session of /auth/login (a browser's session cookie).",
    }
    assert schemes["OAuth2"]["type"] == "oauth2"
    assert schemes["OAuth2"]["flows"] == {"password": {"tokenUrl": "/auth/token", "scopes": {}}}
    for path in ["/private", "/posts/new", "/whoami"]:
        assert document["paths"][path]["get"]["security"] == [
            {"session": []},
            {"OAuth2": []},
        ]  # either one
    assert "security" not in document["paths"]["/"]["get"]
    api = [path for path in document["paths"] if path.startswith("/auth/")]
    assert api == ["/auth/token", "/auth/token/revoke"]  # the pages are not API
