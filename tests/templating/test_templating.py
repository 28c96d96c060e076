"""Templates: render(), autoescaping, the page helpers, blocks, flash messages, debug errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import jinja2
import pytest

from nightowl import App, Form, Request, flash, redirect, render
from nightowl.exceptions import ImproperlyConfigured
from nightowl.templating import Templates, render_block
from nightowl.testing import TestClient
from tests.live import live_server

KEY = "a-test-secret-key-that-is-long-enough"

PAGES = {
    "base.html": (
        "<title>{% block title %}Site{% endblock %}</title>"
        "{% for category, message in get_flashed_messages(with_categories=true) %}"
        '<p class="flash {{ category }}">{{ message }}</p>{% endfor %}'
        "{% block body %}{% endblock %}"
    ),
    "hello.html": (
        '{% extends "base.html" %}{% block title %}Hi {{ name }}{% endblock %}'
        "{% block body %}<h1>Hello {{ name }}</h1><p>{{ request.url.path }}</p>"
        '<a href="{{ url_for("user", user_id=7) }}">u</a>'
        '<link href="{{ static_url("css/site.css") }}">{% endblock %}'
    ),
    "form.html": (
        '{% extends "base.html" %}{% block body %}<form method="post">{{ csrf_input() }}'
        '<input name="text"></form>{% endblock %}'
    ),
    "list.html": (
        "<ul>{% block rows %}{% for item in items %}<li>{{ item }}</li>{% endfor %}"
        "{% endblock %}</ul><footer>{{ footer }}</footer>"
    ),
}
# Errors are reported with the template's file name, so these two live on disk.
ON_DISK = {"broken.html": "line one\nline two\n{{ 1 / 0 }}\n", "syntax.html": "ok\n{% if %}\n"}


def build(tmp_path: Path, **options: Any) -> App:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True, exist_ok=True)
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, source in ON_DISK.items():
        (folder / name).write_text(source)
    templates = Templates(folder, loader=jinja2.DictLoader(PAGES))
    app = App(templates=templates, secret_key=KEY, **options)
    app.static("/static", static)

    @app.get("/hello/{name}")
    def hello(request: Request, name: str) -> object:
        return render("hello.html", request, name=name)

    @app.get("/users/{user_id}")
    def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/form")
    def form_page(request: Request) -> object:
        return render("form.html", request)

    @app.post("/form")
    def save(request: Request, text: Annotated[str, Form()]) -> object:
        flash(request, f"Saved {text}", category="success")
        return redirect(request.url_for("form_page"), status_code=303)

    @app.get("/list")
    def items(request: Request, partial: bool = False) -> object:
        values = {"items": ["a", "<b>"], "footer": "end"}
        if partial:
            return render_block("list.html", "rows", request, values)
        return render("list.html", request, values, status_code=200)

    @app.get("/broken")
    def broken(request: Request) -> object:
        return render("broken.html", request)

    @app.get("/syntax")
    def syntax(request: Request) -> object:
        return render("syntax.html", request)

    return app


def test_render_escapes_and_sees_the_helpers(tmp_path: Path) -> None:
    with TestClient(build(tmp_path)) as client:
        response = client.get("/hello/<script>")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Hello &lt;script&gt;</h1>" in response.text
    assert "<title>Hi &lt;script&gt;</title>" in response.text
    assert "<p>/hello/&lt;script&gt;</p>" in response.text
    assert '<a href="/users/7">' in response.text
    assert '<link href="/static/css/site.css">' in response.text


def test_csrf_input_and_flash_once(tmp_path: Path) -> None:
    with TestClient(build(tmp_path)) as client:
        page = client.get("/form").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        assert client.post("/form", data={"text": "x"}).status_code == 403
        saved = client.post(
            "/form", data={"text": "it", "csrf_token": token.group(1)}, follow_redirects=False
        )
        assert saved.status_code == 303
        assert saved.headers["location"] == "/form"
        shown = client.get("/form").text
        assert '<p class="flash success">Saved it</p>' in shown
        assert "Saved it" not in client.get("/form").text  # shown once


def test_render_a_single_block(tmp_path: Path) -> None:
    with TestClient(build(tmp_path)) as client:
        full = client.get("/list").text
        partial = client.get("/list?partial=true").text
    assert full == "<ul><li>a</li><li>&lt;b&gt;</li></ul><footer>end</footer>"
    assert partial == "<li>a</li><li>&lt;b&gt;</li>"


def test_template_errors_in_debug_show_the_template_and_line(tmp_path: Path) -> None:
    with TestClient(build(tmp_path, debug=True), raise_server_exceptions=False) as client:
        runtime = client.get("/broken", headers={"Accept": "text/html"})
        syntax = client.get("/syntax")
    assert runtime.status_code == 500
    assert "ZeroDivisionError" in runtime.text
    assert "broken.html:3 in top-level template code" in runtime.text
    assert syntax.status_code == 500
    problem = syntax.json()
    assert "TemplateSyntaxError" in problem["detail"]
    assert any('syntax.html", line 2' in line for line in problem["traceback"])


def test_template_errors_in_production_are_a_plain_500(tmp_path: Path) -> None:
    with TestClient(build(tmp_path), raise_server_exceptions=False) as client:
        response = client.get("/broken")
    assert response.status_code == 500
    assert "broken.html" not in response.text


def test_templates_folder_found_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "index.html").write_text("<p>{{ word }}</p>")
    monkeypatch.chdir(tmp_path)
    # Rendering templates turns sessions on, and their cookies are signed with the key.
    app = App(secret_key=KEY)

    @app.get("/")
    def index(request: Request) -> object:
        return render("index.html", request, word="found")

    with TestClient(app) as client:
        assert client.get("/").text == "<p>found</p>"


def test_templates_option_takes_a_folder(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "a.html").write_text("{{ x }}")
    app = App(templates=str(tmp_path / "pages"), secret_key=KEY)

    @app.get("/")
    def index(request: Request) -> object:
        return render("a.html", request, x="<i>")

    with TestClient(app) as client:
        assert client.get("/").text == "&lt;i&gt;"
    with pytest.raises(ImproperlyConfigured, match=r"takes a folder"):
        App(templates=42, secret_key=KEY)


def test_templates_object_with_filters(tmp_path: Path) -> None:
    templates = Templates(loader=jinja2.DictLoader({"t.html": "{{ name | shout }}"}))
    templates.env.filters["shout"] = lambda value: value.upper() + "!"
    app = App(templates=templates, secret_key=KEY)

    @app.get("/")
    def index(request: Request) -> object:
        return render("t.html", request, name="hey")

    with TestClient(app) as client:
        assert client.get("/").text == "HEY!"


def test_import_nightowl_does_not_import_jinja2() -> None:
    code = (
        "import sys, nightowl\n"
        "assert 'jinja2' not in sys.modules, 'import nightowl pulled in jinja2'\n"
        "from nightowl import render\n"
        "assert 'jinja2' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_page_flow_through_a_real_server(tmp_path: Path) -> None:
    with live_server(build(tmp_path)) as url, httpx.Client(base_url=url) as browser:
        page = browser.get("/form").text
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match is not None
        done = browser.post(
            "/form", data={"text": "live", "csrf_token": match.group(1)}, follow_redirects=True
        )
        assert done.status_code == 200
        assert "Saved live" in done.text


def test_a_missing_template_lists_the_folders_searched(tmp_path: Path) -> None:
    from nightowl.templating import Templates

    pages, more = tmp_path / "pages", tmp_path / "more"
    pages.mkdir()
    more.mkdir()
    templates = Templates([pages, more], packages=["nightowl.auth"])
    with pytest.raises(jinja2.TemplateNotFound) as caught:
        templates.get_template("missing.html")
    assert str(caught.value) == (
        f"Template 'missing.html' not found; searched: {pages}, {more}, "
        "nightowl.auth/templates (package)."
    )


def _page_app(folder: Path, **options: Any) -> App:
    """An app rendering ``page.html`` from ``folder``."""
    (folder / "page.html").write_text("<p>first</p>")
    app = App(secret_key=KEY, **options)

    @app.get("/")
    def page(request: Request) -> object:
        return render("page.html", request)

    return app


def _edit(template: Path, source: str) -> None:
    """Change a template's file, with a later modification time than it had."""
    before = template.stat().st_mtime
    template.write_text(source)
    os.utime(template, (before + 10, before + 10))


def test_templates_reload_from_disk_in_debug(tmp_path: Path) -> None:
    app = _page_app(tmp_path, templates=str(tmp_path), debug=True)
    with TestClient(app) as client:
        assert client.get("/").text == "<p>first</p>"
        _edit(tmp_path / "page.html", "<p>edited</p>")
        assert client.get("/").text == "<p>edited</p>"


def test_templates_are_read_once_in_production(tmp_path: Path) -> None:
    app = _page_app(tmp_path, templates=str(tmp_path))
    with TestClient(app) as client:
        assert client.get("/").text == "<p>first</p>"
        _edit(tmp_path / "page.html", "<p>edited</p>")
        assert client.get("/").text == "<p>first</p>"
        app.debug = True  # turned on after startup (app.run(debug=True) does this)
        assert client.get("/").text == "<p>edited</p>"


@pytest.mark.parametrize(
    ("auto_reload", "debug", "shown"), [(True, False, "edited"), (False, True, "first")]
)
def test_templates_auto_reload_overrides_debug(
    tmp_path: Path, auto_reload: bool, debug: bool, shown: str
) -> None:
    templates = Templates(tmp_path, auto_reload=auto_reload)
    app = _page_app(tmp_path, templates=templates, debug=debug)
    with TestClient(app) as client:
        assert client.get("/").text == "<p>first</p>"
        _edit(tmp_path / "page.html", "<p>edited</p>")
        assert client.get("/").text == f"<p>{shown}</p>"
