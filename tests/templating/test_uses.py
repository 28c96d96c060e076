"""Templates turn sessions on only when one of them uses them."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from nightowl import App, Request, render
from nightowl.sessions import sessions_enabled
from nightowl.templating._uses import uses_sessions
from nightowl.testing import TestClient

KEY = "k" * 32


@pytest.fixture
def no_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "NIGHTOWL_SECRET_KEY", "NIGHTOWL_SESSIONS", "DEBUG"):
        monkeypatch.delenv(name, raising=False)


def test_an_api_next_to_a_templates_folder_gets_no_sessions_and_needs_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_secret_key: None
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "welcome.txt").write_text("Hello {{ name }}, {{ url_for('x') }}")
    monkeypatch.chdir(tmp_path)  # as `nightowl run` runs it: templates/ in the current folder
    app = App(env_file=None)

    @app.post("/items")
    def create(item: dict[str, int]) -> dict[str, int]:
        return item

    assert not sessions_enabled(app) and app._middleware == []
    with TestClient(app) as client:  # starts in production mode without a SECRET_KEY
        created = client.post("/items", json={"n": 1})
    assert created.status_code == 200 and created.json() == {"n": 1}
    assert "set-cookie" not in created.headers


@pytest.mark.parametrize(
    "page",
    [
        "<form method=post>{{ csrf_input() }}</form>",
        "<meta name=csrf content='{{ csrf_token() }}'>",
        "{% for message in get_flashed_messages() %}{{ message }}{% endfor %}",
        "{{ request.session.get('name') }}",
        "{{ request['session'] }}",
        "{% extends 'base.html' %}{% block body %}{{ session.user }}{% endblock %}",
        "<FORM class=signup Method='POST'>{{ form.render() }}<button>Go</button></FORM>",
    ],
)
def test_a_template_using_the_session_turns_sessions_and_csrf_on(
    page: str, no_secret_key: None
) -> None:
    loader = jinja2.DictLoader({"base.html": "{% block body %}{% endblock %}", "page.html": page})
    assert sessions_enabled(App(templates=loader, env_file=None))


def test_a_template_using_the_session_works_in_a_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_secret_key: None
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "form.html").write_text("<form>{{ csrf_input() }}</form>")
    monkeypatch.chdir(tmp_path)
    app = App(env_file=None, secret_key=KEY)

    @app.get("/")
    def form(request: Request) -> object:
        return render("form.html", request)

    assert 'name="csrf_token"' in TestClient(app).get("/").text


def test_templates_that_use_no_session_turn_nothing_on_and_sessions_true_still_does() -> None:
    loader = jinja2.DictLoader(
        {
            "page.html": "<h1>{{ title }}</h1>{{ static_url('a.css') }}",
            "search.html": "<form action=/search method=get><input name=q></form>",
        }
    )
    assert not sessions_enabled(App(templates=loader, env_file=None))
    assert sessions_enabled(App(templates=loader, sessions=True, secret_key=KEY, env_file=None))


def test_templates_it_cannot_read_count_as_using_the_session() -> None:
    unlisted = jinja2.Environment(loader=jinja2.FunctionLoader(lambda name: "plain"))
    broken = jinja2.Environment(loader=jinja2.DictLoader({"bad.html": "{% if %}"}))
    plain = jinja2.Environment(loader=jinja2.DictLoader({"ok.html": "{{ session_count }}"}))
    assert uses_sessions(unlisted) and uses_sessions(broken)
    assert not uses_sessions(plain) and not uses_sessions(jinja2.Environment())
