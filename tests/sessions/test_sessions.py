"""Sessions: the signed-cookie backend, Redis, cookie attributes, tampering, the secret key."""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner

from nightowl import App, Request
from nightowl.exceptions import ImproperlyConfigured
from nightowl.sessions import HTTPSession, RedisBackend, SessionMiddleware
from nightowl.testing import TestClient
from tests.live import live_server
from tests.redis_server import NEEDS_REDIS

KEY = "a-test-secret-key-that-is-long-enough"


def build(sessions: Any = True, **options: Any) -> App:
    app = App(sessions=sessions, secret_key=KEY, **options)

    @app.get("/")
    def show(request: Request) -> dict[str, Any]:
        return dict(request.session)

    @app.get("/set")
    def set_value(request: Request, key: str, value: str) -> dict[str, Any]:
        request.session[key] = value
        return dict(request.session)

    @app.get("/count")
    def count(session: HTTPSession) -> dict[str, int]:  # injected by annotation
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    @app.get("/logout")
    def logout(request: Request) -> dict[str, str]:
        request.session.clear()
        return {"bye": "now"}

    @app.get("/big")
    def big(request: Request) -> dict[str, str]:
        request.session["blob"] = secrets.token_urlsafe(4000)  # random: does not compress
        return {}

    @app.get("/login")
    def login(session: HTTPSession) -> dict[str, str]:
        session.cycle_id()
        session["user"] = "ada"
        return {}

    return app


def show_session(request: Request) -> dict[str, Any]:
    return dict(request.session)


def setdefault_n(request: Request) -> Any:
    return request.session.setdefault("n", 1)


def _set_cookie(response: httpx.Response) -> str:
    values = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert len(values) == 1, values
    return values[0]


# -- the cookie backend --------------------------------------------------------------------------


def test_values_survive_between_requests() -> None:
    with TestClient(build()) as client:
        assert client.get("/").json() == {}
        assert client.get("/").headers.get("set-cookie") is None  # nothing to save
        assert client.get("/set?key=colour&value=blue").json() == {"colour": "blue"}
        assert client.get("/").json() == {"colour": "blue"}
        assert [client.get("/count").json()["n"] for _ in range(3)] == [1, 2, 3]


def test_cookie_attributes() -> None:
    with TestClient(build()) as client:
        cookie = _set_cookie(client.get("/set?key=a&value=b"))
    assert cookie.startswith("session=")
    attributes = [part.strip() for part in cookie.split(";")[1:]]
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Path=/" in attributes
    assert f"Max-Age={14 * 24 * 3600}" in attributes
    assert "Secure" not in attributes
    with TestClient(build(), base_url="https://testserver") as client:
        assert "; Secure" in _set_cookie(client.get("/set?key=a&value=b"))


def test_responses_that_read_a_session_vary_on_cookie() -> None:
    with TestClient(build()) as client:
        client.get("/set?key=a&value=b")
        assert client.get("/").headers["vary"] == "Cookie"


def test_session_options() -> None:
    app = build({"cookie_name": "sid", "max_age": 60, "same_site": "strict", "secure": True})
    with TestClient(app) as client:
        cookie = _set_cookie(client.get("/set?key=a&value=b"))
    assert cookie.startswith("sid=")
    assert "Max-Age=60" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" in cookie


def test_tampered_cookie_is_an_empty_session() -> None:
    with TestClient(build()) as client:
        client.get("/set?key=role&value=user")
        value = client.cookies["session"]
        flipped = ("A" if value[1] != "A" else "B").join((value[:1], value[2:]))
        client.cookies.set("session", flipped)
        assert client.get("/").json() == {}
        client.cookies.set("session", "garbage")
        assert client.get("/").json() == {}
        client.cookies.set("session", "")
        assert client.get("/").json() == {}


def test_cookie_signed_with_another_key_is_an_empty_session() -> None:
    with TestClient(build()) as client:
        client.get("/set?key=role&value=user")
        cookie = client.cookies["session"]
    other = App(sessions=True, secret_key="another-secret-key-entirely")
    other.get("/")(show_session)
    with TestClient(other) as client:
        client.cookies.set("session", cookie)
        assert client.get("/").json() == {}


def test_expired_cookie_is_an_empty_session(monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(build({"max_age": 60})) as client:
        real = TimestampSigner.get_timestamp
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 3600)
        client.get("/set?key=a&value=b")  # signed an hour ago
        monkeypatch.undo()
        assert client.get("/").json() == {}


def test_a_cookie_accepted_before_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    # Verified cookies are remembered, but their age is checked at every request.
    with TestClient(build({"max_age": 60})) as client:
        client.get("/set?key=a&value=b")
        assert client.get("/").json() == {"a": "b"}
        later = time.time() + 3600
        monkeypatch.setattr(time, "time", lambda: later)
        assert client.get("/").json() == {}


def test_each_request_gets_its_own_copy_of_the_data() -> None:
    # A change made in place is not saved (see HTTPSession), nor seen by the next request.
    app = build()

    @app.get("/append")
    def append(request: Request) -> dict[str, Any]:
        request.session["items"].append("unsaved")
        return dict(request.session)

    @app.get("/items")
    def items(request: Request) -> dict[str, Any]:
        request.session["items"] = ["saved"]
        return {}

    with TestClient(app) as client:
        client.get("/items")
        assert client.get("/append").json() == {"items": ["saved", "unsaved"]}
        assert client.get("/").json() == {"items": ["saved"]}


def test_clear_deletes_the_cookie() -> None:
    with TestClient(build()) as client:
        client.get("/set?key=a&value=b")
        cookie = _set_cookie(client.get("/logout"))
        assert "Max-Age=0" in cookie
        assert client.get("/").json() == {}


def test_too_large_session_is_a_clear_error() -> None:
    app = build(debug=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/big")
    assert response.status_code == 500
    assert "set-cookie" not in response.headers
    detail = response.json()["detail"]
    assert "SessionTooLarge" in detail
    assert "4096-byte limit" in detail
    assert "server-side" in detail


def test_values_must_be_json() -> None:
    app = build(debug=True)

    @app.get("/object")
    def put_object(request: Request) -> dict[str, str]:
        request.session["thing"] = object()
        return {}

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/object")
    assert response.status_code == 500
    assert "JSON-serialisable" in response.json()["detail"]


def test_session_without_sessions_turned_on_says_how() -> None:
    app = App(debug=True)
    app.get("/")(show_session)
    with TestClient(app, raise_server_exceptions=False) as client:
        detail = client.get("/").json()["detail"]
    assert "App(sessions=True)" in detail


def test_middleware_by_hand() -> None:
    app = App()
    app.get("/")(setdefault_n)
    app.add_middleware(SessionMiddleware, secret_key=KEY)
    with TestClient(app) as client:
        assert client.get("/").json() == 1
        assert "session" in client.cookies


def test_real_server_keeps_the_session() -> None:
    with live_server(build()) as url, httpx.Client(base_url=url) as client:
        client.get("/set", params={"key": "lang", "value": "fr"})
        assert client.get("/").json() == {"lang": "fr"}


# -- the secret key ------------------------------------------------------------------------------


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NIGHTOWL_SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)


@pytest.mark.usefixtures("no_env_key")
def test_production_without_secret_key_refuses_to_start() -> None:
    app = App(sessions=True)
    with pytest.raises(ImproperlyConfigured, match="No SECRET_KEY is set"), TestClient(app):
        pass


@pytest.mark.usefixtures("no_env_key")
def test_debug_without_secret_key_uses_a_temporary_one(caplog: pytest.LogCaptureFixture) -> None:
    app = App(sessions=True, debug=True)
    app.get("/")(setdefault_n)
    with caplog.at_level(logging.WARNING, "nightowl"), TestClient(app) as client:
        assert client.get("/").json() == 1
        assert client.get("/").headers.get("set-cookie") is None  # same key: cookie still valid
    assert "temporary" in caplog.text


@pytest.mark.usefixtures("no_env_key")
def test_secret_key_from_settings_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    class Settings:
        SECRET_KEY = "from-the-settings-object-123"

    with TestClient(App(sessions=True, settings=Settings())):
        pass
    monkeypatch.setenv("NIGHTOWL_SECRET_KEY", "from-the-environment-12345")
    with TestClient(App(sessions=True)):
        pass


def test_short_secret_key_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="at least 16 characters"):
        App(secret_key="short")


def test_bad_sessions_option() -> None:
    with pytest.raises(ImproperlyConfigured, match="redis:// URL"):
        App(sessions=42, secret_key=KEY)
    with pytest.raises(ImproperlyConfigured, match="Unknown session options: colour"):
        App(sessions={"colour": "red"}, secret_key=KEY)


# -- Redis ---------------------------------------------------------------------------------------


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"nightowl-test:{uuid.uuid4().hex}:"
    yield prefix
    import redis

    client = redis.Redis()
    try:
        keys = list(client.scan_iter(prefix + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _redis_keys(prefix: str) -> dict[str, Any]:
    import redis

    client = redis.Redis()
    try:
        return {
            key.decode(): (client.get(key), client.ttl(key))
            for key in client.scan_iter(prefix + "*")
        }
    finally:
        client.close()


@NEEDS_REDIS
def test_redis_keeps_only_an_id_in_the_cookie(redis_prefix: str) -> None:
    app = build(RedisBackend(prefix=redis_prefix))
    with TestClient(app) as client:
        client.get("/set?key=secret&value=kept-on-the-server")
        assert client.get("/").json() == {"secret": "kept-on-the-server"}
        cookie = client.cookies["session"]
    assert "kept" not in cookie
    keys = _redis_keys(redis_prefix)
    assert len(keys) == 1
    ((data, ttl),) = keys.values()
    assert b"kept-on-the-server" in data
    assert 0 < ttl <= 14 * 24 * 3600


@NEEDS_REDIS
def test_redis_sessions_are_shared_between_workers(redis_prefix: str) -> None:
    first, second = (
        build(RedisBackend(prefix=redis_prefix)),
        build(RedisBackend(prefix=redis_prefix)),
    )
    with live_server(first) as url_one, live_server(second) as url_two:
        with httpx.Client(base_url=url_one) as one:
            one.get("/set", params={"key": "cart", "value": "3 books"})
            cookie = one.cookies["session"]
        with httpx.Client(base_url=url_two, cookies={"session": cookie}) as two:
            assert two.get("/").json() == {"cart": "3 books"}


@NEEDS_REDIS
def test_redis_tampered_or_unknown_id_is_an_empty_session(redis_prefix: str) -> None:
    with TestClient(build(RedisBackend(prefix=redis_prefix))) as client:
        client.get("/set?key=a&value=b")
        session_id, _, signature = client.cookies["session"].rpartition(".")
        client.cookies.set("session", session_id + "x." + signature)
        assert client.get("/").json() == {}
        client.cookies.set("session", "not-signed")
        assert client.get("/").json() == {}


@NEEDS_REDIS
def test_redis_clear_and_cycle_id(redis_prefix: str) -> None:
    with TestClient(build(RedisBackend(prefix=redis_prefix))) as client:
        client.get("/set?key=a&value=b")
        before = set(_redis_keys(redis_prefix))
        client.get("/login")
        after = set(_redis_keys(redis_prefix))
        assert len(after) == 1
        assert after != before  # a new id on login, the old one gone
        assert client.get("/").json() == {"a": "b", "user": "ada"}
        assert "Max-Age=0" in _set_cookie(client.get("/logout"))
        assert _redis_keys(redis_prefix) == {}
        assert client.get("/").json() == {}


@NEEDS_REDIS
def test_redis_url_option(redis_prefix: str) -> None:
    app = build("redis://127.0.0.1:6379/0")
    with TestClient(app) as client:
        client.get("/set?key=a&value=b")
        assert client.get("/").json() == {"a": "b"}
        client.get("/logout")


def test_redis_unreachable_is_reported() -> None:
    app = build(RedisBackend("redis://127.0.0.1:1/0"), debug=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/set?key=a&value=b")
    assert response.status_code == 500
    assert "ConnectionError" in response.json()["detail"] or "Connect" in response.json()["detail"]


def test_responses_that_ignore_the_session_do_not_vary(tmp_path: Path) -> None:
    (tmp_path / "site.css").write_text("b {}")
    app = build()
    app.static("/static", tmp_path)
    with TestClient(app) as client:
        client.get("/set?key=a&value=b")
        css = client.get("/static/site.css")
        assert css.status_code == 200
        assert css.headers["vary"] == "Accept-Encoding"  # not Cookie
        assert "set-cookie" not in css.headers


def test_batteries_offer_backends_by_name() -> None:
    from nightowl.sessions import CookieBackend, register_backend

    made: list[CookieBackend] = []

    def factory() -> CookieBackend:
        made.append(CookieBackend(salt="mine"))
        return made[-1]

    app = App(sessions="mine", secret_key=KEY)  # asked for before a battery offers it
    register_backend(app, "mine", factory)

    @app.get("/count")
    def count(session: HTTPSession) -> dict[str, int]:
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    with TestClient(app) as client:
        assert [client.get("/count").json()["n"] for _ in range(2)] == [1, 2]
    assert len(made) == 1
    assert made[0].serializer.salt == b"mine"

    with (
        pytest.raises(ImproperlyConfigured, match="no installed battery offers"),
        TestClient(App(sessions="nosuch", secret_key=KEY)),
    ):
        pass


def test_a_secret_key_turns_sessions_and_csrf_on() -> None:
    app = App(secret_key=KEY)

    @app.post("/visit")
    def visit(request: Request) -> dict[str, int]:
        request.session["n"] = request.session.get("n", 0) + 1
        return {"n": request.session["n"]}

    with TestClient(app) as client:
        assert client.post("/visit").json() == {"n": 1}  # no cookie yet: nothing to forge
        refused = client.post("/visit")  # the session cookie, without the CSRF token
        assert refused.status_code == 403


def test_sessions_false_keeps_them_off_and_hello_world_has_none() -> None:
    off = App(secret_key=KEY, sessions=False)
    hello = App()
    assert off._middleware == [] and hello._middleware == []


def test_the_default_templates_folder_gets_sessions_and_csrf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "form.html").write_text(
        "<form method=post>{{ csrf_input() }}</form>{{ request.session.get('seen', 'new') }}"
    )
    (tmp_path / "pages.py").write_text(
        "from nightowl import App, Request, render\n"
        "app = App()\n"
        "@app.get('/')\n"
        "def form(request: Request):\n"
        "    page = render('form.html', request)\n"
        "    request.session['seen'] = 'again'\n"
        "    return page\n"
    )
    monkeypatch.setenv("SECRET_KEY", KEY)
    monkeypatch.chdir(tmp_path)  # as `nightowl run` runs it: templates/ in the current folder
    spec = importlib.util.spec_from_file_location("default_templates_app", tmp_path / "pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with TestClient(module.app) as client:
        first = client.get("/")
        assert first.status_code == 200, first.text
        assert 'name="csrf_token"' in first.text and first.text.endswith("new")
        assert client.get("/").text.endswith("again")
