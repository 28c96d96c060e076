"""HTML error pages for browsers, problem+json for API clients; content negotiation."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jinja2
import pytest

from nightowl import App, HTTPException, JSONResponse, Request, Response, render
from nightowl.negotiation import best_match, negotiate, parse_accept, prefers_html
from nightowl.testing import TestClient

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
HTML = {"accept": BROWSER}


def _routes(app: App) -> App:
    @app.get("/")
    def home() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/secret")
    def secret() -> None:
        raise HTTPException(403, "Members only <b>.")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("database password in here")

    @app.get("/number/{n}")
    def number(n: int) -> int:
        return n

    return app


def test_browsers_get_builtin_html_pages_without_templates() -> None:
    client = TestClient(_routes(App()))
    page = client.get("/missing", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>404 Not Found</title>" in page.text
    assert "Nothing matches the given URL." in page.text
    forbidden = client.get("/secret", headers=HTML)
    assert forbidden.status_code == 403 and "Members only &lt;b&gt;." in forbidden.text
    invalid = client.get("/number/abc", headers=HTML)
    assert invalid.status_code == 422 and "<li>path → n: " in invalid.text
    not_allowed = client.post("/secret", headers=HTML)
    assert not_allowed.status_code == 405 and not_allowed.headers["allow"] == "GET, HEAD"
    assert "<h1>Method Not Allowed</h1>" in not_allowed.text


def test_unhandled_errors_are_a_500_page_without_internals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = TestClient(_routes(App()), raise_server_exceptions=False)
    with caplog.at_level(logging.CRITICAL):
        page = client.get("/boom", headers=HTML)
    assert page.status_code == 500
    assert "<h1>Internal Server Error</h1>" in page.text
    assert "password" not in page.text


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/problem+json", "text/html;q=0.5, */*"]
)
def test_api_clients_keep_problem_json(accept: str | None) -> None:
    client = TestClient(_routes(App()))
    headers = {"accept": accept} if accept else {}
    for path, status in (("/missing", 404), ("/secret", 403)):
        response = client.get(path, headers=headers)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status


def test_templates_override_the_builtin_pages(caplog: pytest.LogCaptureFixture) -> None:
    app = _routes(
        App(
            templates=jinja2.DictLoader(
                {
                    "404.html": "<h1>Lost: {{ request.path }}</h1><p>{{ detail }}</p>",
                    "500.html": "<h1>Sorry ({{ status_code }})</h1>",
                    "403.html": "{{ undefined_function() }}",  # broken: the built-in page
                }
            ),
            secret_key="a-test-key-that-is-long-enough",
        )
    )
    client = TestClient(app, raise_server_exceptions=False)
    missing = client.get("/missing", headers=HTML)
    assert missing.status_code == 404
    assert missing.text == "<h1>Lost: /missing</h1><p>Nothing matches the given URL.</p>"
    with caplog.at_level(logging.CRITICAL):
        assert client.get("/boom", headers=HTML).text == "<h1>Sorry (500)</h1>"
        broken = client.get("/secret", headers=HTML)
    assert broken.status_code == 403 and "<h1>Forbidden</h1>" in broken.text
    assert "<title>422 Unprocessable Content</title>" in client.get("/number/x", headers=HTML).text
    assert client.get("/missing").json()["status"] == 404  # API clients: still a problem


def test_template_files_in_the_app_folder(tmp_path: Path) -> None:
    (tmp_path / "404.html").write_text("<p>{{ title }} here</p>")
    client = TestClient(_routes(App(templates=tmp_path, secret_key="a-test-key-long-enough")))
    assert client.get("/x", headers=HTML).text == "<p>Not Found here</p>"


def test_debug_mode_keeps_the_debug_page(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(_routes(App(debug=True)), raise_server_exceptions=False)
    with caplog.at_level(logging.CRITICAL):
        page = client.get("/boom", headers=HTML)
    assert "RuntimeError: database password in here" in page.text
    assert "<title>404 Not Found</title>" in client.get("/nope", headers=HTML).text


def test_handlers_come_first_and_pages_can_be_turned_off() -> None:
    app = _routes(App())

    @app.exception_handler(404)
    def not_found(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"missing": request.path}, status_code=404)

    client = TestClient(app)
    assert client.get("/x", headers=HTML).json() == {"missing": "/x"}
    plain = _routes(App())
    plain.error_page_renderer = None
    response = TestClient(plain).get("/secret", headers=HTML)
    assert response.headers["content-type"] == "application/problem+json"


def test_a_custom_renderer() -> None:
    app = _routes(App())
    seen: list[int] = []

    def renderer(request: Request, exc: HTTPException) -> JSONResponse | None:
        seen.append(exc.status_code)
        return None if exc.status_code == 404 else JSONResponse({"custom": True}, exc.status_code)

    app.error_page_renderer = renderer
    client = TestClient(app)
    assert "<title>404 Not Found</title>" in client.get("/x", headers=HTML).text
    assert client.get("/secret", headers=HTML).json() == {"custom": True}
    assert seen == [404, 403]


def test_static_files_404_is_html_for_browsers(tmp_path: Path) -> None:
    (tmp_path / "site.css").write_text("body{}")
    app = App()
    app.static("/static", tmp_path)
    client = TestClient(app)
    assert client.get("/static/site.css").status_code == 200
    page = client.get("/static/nope.css", headers=HTML)
    assert page.status_code == 404 and "File not found." in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="/"' in page.text
    api = client.get("/static/nope.css")
    assert api.json()["detail"] == "File not found."


# -- content negotiation ------------------------------------------------------------------------


def test_parse_accept() -> None:
    assert parse_accept("text/html, */*;q=0.8, bad, a/b;q=x, c/d;level=1;q=0") == [
        ("text/html", 1.0),
        ("*/*", 0.8),
        ("c/d", 0.0),
    ]
    assert parse_accept(None) == []


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        (BROWSER, "text/html"),
        ("application/json, text/html", "application/json"),
        ("text/html, */*", "text/html"),
        ("text/*;q=0.9, application/json;q=0.5", "text/html"),
        ("application/json;q=0, */*", "text/html"),
        ("image/png", None),
    ],
)
def test_best_match(accept: str | None, expected: str | None) -> None:
    assert best_match(accept, ["application/json", "text/html"]) == expected


def test_negotiate_answers_each_client_its_kind() -> None:
    app = App(
        templates=jinja2.DictLoader({"item.html": "<h1>{{ item.name }}</h1>"}),
        secret_key="a-test-key-that-is-long-enough",
    )
    rendered: list[str] = []

    @app.get("/")
    def item(request: Request) -> Any:
        found = {"name": "pen"}

        def page() -> Response:
            rendered.append("html")
            return render("item.html", request, item=found)

        return negotiate(request, html=page, json=found)

    @app.get("/check")
    def check(request: Request) -> dict[str, bool]:
        return {"html": request.accepts("text/html"), "prefers": prefers_html(request)}

    client = TestClient(app)
    api = client.get("/")
    assert api.json() == {"name": "pen"} and api.headers["vary"] == "Accept"
    assert rendered == []  # the template is only rendered for browsers
    page = client.get("/", headers=HTML)
    assert page.text == "<h1>pen</h1>" and page.headers["vary"] == "Accept"
    assert client.get("/", headers={"accept": "image/png"}).json() == {"name": "pen"}
    assert client.get("/check").json() == {"html": True, "prefers": False}
    assert client.get("/check", headers=HTML).json() == {"html": True, "prefers": True}
    refused = client.get("/check", headers={"accept": "application/json, text/html;q=0"})
    assert refused.json() == {"html": False, "prefers": False}
    with pytest.raises(TypeError):
        negotiate(Request({"type": "http", "headers": []}))


def test_a_csrf_refusal_renders_the_projects_own_403_page(caplog: pytest.LogCaptureFixture) -> None:
    app = App(
        templates=jinja2.DictLoader({"403.html": "<h1>No entry</h1><p>{{ detail }}</p>"}),
        sessions=True,
        secret_key="a-test-key-that-is-long-enough",
    )

    @app.get("/form")
    def form(request: Request) -> dict[str, bool]:
        request.session["seen"] = True  # the browser now has a session cookie
        return {"ok": True}

    @app.post("/form")
    def submit() -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)
    client.get("/form")
    with caplog.at_level(logging.WARNING):
        refused = client.post("/form", data={"x": "1"}, headers=HTML)
    assert refused.status_code == 403
    assert refused.text.startswith("<h1>No entry</h1><p>CSRF token missing or incorrect")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
