"""The login flow in a real headless Chromium: log in, see the page, log out; a wrong
password's message; ``next`` kept through the login."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest

from nightowl import App, Depends, HTMLResponse, Request
from nightowl.auth import Auth, User, login_required
from nightowl.templating import render
from tests.auth.conftest import FAST, PASSWORD
from tests.browser import NEEDS_CHROMIUM
from tests.live import live_server

pytestmark = [pytest.mark.slow, *NEEDS_CHROMIUM]


def site(tmp_path: Path) -> App:
    import jinja2

    templates = jinja2.DictLoader(
        {
            "dashboard.html": """{% extends "auth/base.html" %}
{% block title %}Dashboard{% endblock %}
{% block content %}<h1>Hello, {{ user.username }}</h1>
<form method="post" action="/auth/logout">{{ csrf_input() }}<button id="logout">Log out</button></form>
{% endblock %}""",
            "home.html": """{% extends "auth/base.html" %}{% block title %}Home{% endblock %}
{% block content %}<h1>Home</h1>{% endblock %}""",
        }
    )
    app = App(
        database=f"sqlite:///{tmp_path / 'site.db'}", secret_key="x" * 32, templates=templates
    )
    auth = Auth(app, hasher=FAST)
    app.state.database.create_all()
    auth.create_user_sync(PASSWORD, username="ada")

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request):  # type: ignore[no-untyped-def]
        return render("home.html", request)

    @app.get("/dashboard", response_class=HTMLResponse)
    async def dashboard(request: Request, user: Annotated[User, Depends(login_required)]):  # type: ignore[no-untyped-def]
        return render("dashboard.html", request, user=user)

    return app


def test_login_flow(page: Any, tmp_path: Path) -> None:
    app = site(tmp_path)
    with live_server(app) as base:
        page.goto(f"{base}/dashboard")
        assert page.url == f"{base}/auth/login?next=%2Fdashboard"
        assert page.title() == "Log in · nightowl"

        page.fill("#id_username", "ada")
        page.fill("#id_password", "not my password")
        page.click("button[type=submit]")
        assert "Please enter a correct username and password." in page.inner_text("#form-errors")
        assert page.input_value("#id_username") == "ada"
        assert page.input_value("#id_password") == ""

        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/dashboard")  # next was kept through the failed try
        assert page.inner_text("h1") == "Hello, ada"

        page.click("#logout")
        page.wait_for_url(f"{base}/")
        assert page.inner_text(".flash") == "You have been logged out."
        page.goto(f"{base}/dashboard")
        assert page.url.startswith(f"{base}/auth/login")
    app.state.database.close()


def test_swagger_ui_authorize_with_a_user_name_and_password(page: Any, tmp_path: Path) -> None:
    """/docs: Authorize takes a user name and password (OAuth2's password flow at
    /auth/token), and "Try it out" on a protected operation then answers 200."""
    app = App(database=f"sqlite:///{tmp_path / 'api.db'}", secret_key="x" * 32, title="API")
    auth = Auth(app, hasher=FAST)
    app.state.database.create_all()
    auth.create_user_sync(PASSWORD, username="ada")

    @app.get("/me")
    async def me(user: Annotated[User, Depends(login_required)]) -> dict[str, str]:
        """Who I am."""
        return {"username": str(user.username)}

    with live_server(app) as base:
        page.goto(f"{base}/docs")
        page.get_by_text("Who I am.").wait_for()
        page.locator(".auth-wrapper .authorize").click()
        dialog = page.locator(".dialog-ux")
        dialog.locator("#oauth_username").fill("ada")
        dialog.locator("#oauth_password").fill(PASSWORD)
        oauth = dialog.locator(".auth-container").filter(has=page.locator("#oauth_username"))
        with page.expect_response(lambda r: r.url.endswith("/auth/token")) as token:
            oauth.locator("button.authorize").click()
        assert token.value.status == 200
        dialog.get_by_text("Authorized", exact=True).wait_for()
        dialog.locator("button.btn-done").first.click()

        operation = page.locator("#operations-default-me")
        operation.locator(".opblock-summary").click()
        operation.locator("button.try-out__btn").click()
        with page.expect_response(lambda r: r.url.endswith("/me")) as answer:
            operation.locator("button.execute").click()
        response = answer.value
        assert response.status == 200
        assert response.request.headers["authorization"].startswith("Bearer ey")
        assert response.json() == {"username": "ada"}
    app.state.database.close()
