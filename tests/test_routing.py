"""Routing: paths, converters, methods, routers, class views, trailing slashes."""

import uuid
from typing import cast

import pytest

from nightowl import App, JSONResponse, Router, path
from nightowl.exceptions import ImproperlyConfigured
from nightowl.routing import Route
from nightowl.testing import TestClient


def test_verbs_and_route(app: App) -> None:
    for verb in ("get", "post", "put", "patch", "delete", "options"):
        getattr(app, verb)("/thing")(lambda verb=verb: {"verb": verb})
    client = TestClient(app)
    for verb in ("get", "post", "put", "patch", "delete", "options"):
        assert client.request(verb.upper(), "/thing").json() == {"verb": verb}


def test_route_with_methods_flask_style(app: App) -> None:
    @app.route("/posts/<slug>", methods=["GET", "POST"])
    def post_detail(slug: str) -> dict[str, str]:
        return {"slug": slug}

    client = TestClient(app)
    assert client.get("/posts/hello").json() == {"slug": "hello"}
    assert client.post("/posts/hello").json() == {"slug": "hello"}
    assert client.put("/posts/hello").status_code == 405


def test_path_parameter_typed_by_annotation(app: App) -> None:
    @app.get("/users/{user_id}")
    def get_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    client = TestClient(app)
    assert client.get("/users/42").json() == {"id": 42}
    response = client.get("/users/abc")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["path", "user_id"]


@pytest.mark.parametrize(
    ("template", "url", "expected"),
    [
        ("/i/{v:int}", "/i/12", 12),
        ("/i/<int:v>", "/i/12", 12),
        ("/f/{v:float}", "/f/1.5", 1.5),
        ("/s/{v:slug}", "/s/a-b_c", "a-b_c"),
        ("/p/{v:path}", "/p/a/b/c.txt", "a/b/c.txt"),
        (
            "/u/{v:uuid}",
            "/u/12345678-1234-5678-1234-567812345678",
            "12345678-1234-5678-1234-567812345678",
        ),
        ("/x/{v}", "/x/hello", "hello"),
    ],
)
def test_converters(app: App, template: str, url: str, expected: object) -> None:
    @app.get(template)
    def handler(v):  # type: ignore[no-untyped-def]  # the converter gives the type
        return {"v": v, "type": type(v).__name__}

    body = TestClient(app).get(url).json()
    assert body["v"] == expected
    if isinstance(expected, str) and "uuid" not in template:
        assert body["type"] == "str"


def test_uuid_converter_gives_uuid(app: App) -> None:
    @app.get("/u/{v:uuid}")
    def handler(v: uuid.UUID) -> dict[str, str]:
        return {"type": type(v).__name__}

    client = TestClient(app)
    assert client.get(f"/u/{uuid.uuid4()}").json() == {"type": "UUID"}
    assert client.get("/u/not-a-uuid").status_code == 404


def test_converter_mismatch_is_404(app: App) -> None:
    @app.get("/i/{v:int}")
    def handler(v: int) -> dict[str, int]:
        return {"v": v}

    assert TestClient(app).get("/i/abc").status_code == 404


def test_static_beats_dynamic_and_backtracks(app: App) -> None:
    @app.get("/users/me")
    def me() -> str:
        return "me"

    @app.get("/users/{name}")
    def user(name: str) -> str:
        return name

    @app.get("/users/{name}/posts")
    def posts(name: str) -> str:
        return f"posts of {name}"

    client = TestClient(app)
    assert client.get("/users/me").json() == "me"
    assert client.get("/users/bob").json() == "bob"
    assert client.get("/users/me/posts").json() == "posts of me"


def test_params_within_segment(app: App) -> None:
    @app.get("/files/{name}.{ext}")
    def file(name: str, ext: str) -> dict[str, str]:
        return {"name": name, "ext": ext}

    assert TestClient(app).get("/files/report.pdf").json() == {"name": "report", "ext": "pdf"}


def test_unknown_path_404_problem(app: App) -> None:
    response = TestClient(app).get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Nothing matches the given URL.",
        "request_id": response.headers["x-request-id"],
    }


def test_wrong_method_405_with_allow(app: App) -> None:
    @app.get("/items/{id}")
    def read(id: int) -> None: ...

    @app.delete("/items/{id}")
    def remove(id: int) -> None: ...

    response = TestClient(app).post("/items/3")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD"
    assert response.json()["title"] == "Method Not Allowed"


def test_head_answered_for_get_without_body(app: App) -> None:
    @app.get("/")
    def index() -> dict[str, str]:
        return {"message": "hello world"}

    response = TestClient(app).head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(b'{"message":"hello world"}'))


def test_explicit_head_wins(app: App) -> None:
    @app.get("/")
    def index() -> str:
        return "get"

    @app.head("/")
    def head() -> None:
        return None

    response = TestClient(app).head("/")
    assert response.headers["content-length"] == "4"  # "null"


def test_trailing_slash_redirects(app: App) -> None:
    @app.get("/a")
    def a() -> str:
        return "a"

    @app.get("/b/")
    def b() -> str:
        return "b"

    @app.post("/c")
    def c() -> str:
        return "c"

    client = TestClient(app, follow_redirects=False)
    response = client.get("/a/?x=1")
    assert response.status_code == 308
    assert response.headers["location"] == "/a?x=1"
    assert client.get("/b").headers["location"] == "/b/"
    # Every method: 308 keeps the method and the body.
    redirected = client.post("/c/", json={"x": 1})
    assert redirected.status_code == 308
    assert redirected.headers["location"] == "/c"
    assert TestClient(app).post("/c/", json={"x": 1}).json() == "c"
    assert TestClient(app).get("/a/").json() == "a"


def test_trailing_slash_redirect_can_be_turned_off() -> None:
    app = App(redirect_slashes=False)

    @app.get("/a")
    def a() -> str:
        return "a"

    assert TestClient(app).get("/a/").status_code == 404


def test_router_prefix_tags_dependencies_and_nesting(app: App) -> None:
    calls: list[str] = []

    def audit() -> None:
        calls.append("audit")

    from nightowl import Depends

    api = Router(prefix="/api", tags=["api"], dependencies=[Depends(audit)])
    v1 = Router(prefix="/v1")

    @v1.get("/ping")
    def ping() -> str:
        return "pong"

    api.include(v1)
    app.include(api)

    @v1.get("/late")  # added after include: still served
    def late() -> str:
        return "late"

    client = TestClient(app)
    assert client.get("/api/v1/ping").json() == "pong"
    assert client.get("/api/v1/late").json() == "late"
    assert calls == ["audit", "audit"]
    route = cast(Route, next(r for r in app.routes if r.path == "/api/v1/ping"))
    assert route.options["tags"] == ["api"]


def test_include_with_prefix(app: App) -> None:
    router = Router()

    @router.get("/")
    def root() -> str:
        return "root"

    app.include(router, prefix="/admin")
    assert TestClient(app).get("/admin/").json() == "root"


def test_django_style_paths_and_class_views(app: App) -> None:
    def health() -> dict[str, str]:
        return {"status": "ok"}

    class UserView:
        def get(self, id: int) -> dict[str, int]:
            return {"id": id}

        async def delete(self, id: int) -> tuple[str, int]:
            return "", 204

    app.add_routes([path("/health", health), path("/users/{id}", UserView)])
    client = TestClient(app)
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/users/7").json() == {"id": 7}
    assert client.delete("/users/7").status_code == 204
    assert client.post("/users/7").status_code == 405


def test_class_view_with_route_decorator(app: App) -> None:
    @app.route("/items")
    class Items:
        def get(self) -> list[int]:
            return [1, 2]

        def post(self) -> tuple[dict[str, bool], int]:
            return {"created": True}, 201

    client = TestClient(app)
    assert client.get("/items").json() == [1, 2]
    assert client.post("/items").status_code == 201


def test_duplicate_route_is_a_configuration_error(app: App) -> None:
    app.get("/x")(lambda: 1)
    app.get("/x")(lambda: 2)
    with pytest.raises(ImproperlyConfigured, match="Two routes"):
        TestClient(app).get("/x")


def test_bad_converter_and_path(app: App) -> None:
    with pytest.raises(ImproperlyConfigured, match="converter"):
        app.get("/x/{v:nope}")(lambda v: v)
    with pytest.raises(ImproperlyConfigured, match="start with"):
        app.get("x")(lambda: 1)


def test_url_path_for(app: App) -> None:
    @app.get("/users/{user_id:int}/posts/{slug}", name="user-post")
    def post(user_id: int, slug: str) -> None: ...

    assert app.url_path_for("user-post", user_id=3, slug="a b") == "/users/3/posts/a%20b"
    with pytest.raises(KeyError):
        app.url_path_for("nope")


def test_bad_percent_encoding_in_path(app: App) -> None:
    @app.get("/files/{name}")
    def file(name: str) -> str:
        return name

    client = TestClient(app)
    assert client.get("/files/a%20b").json() == "a b"
    for bad in ("/files/a%zzb", "/files/a%ff"):
        response = client.get(bad)
        assert response.status_code == 400, bad
        assert response.headers["content-type"] == "application/problem+json"


def test_mount_asgi_app(app: App) -> None:
    async def sub(scope, receive, send):  # type: ignore[no-untyped-def]
        body = f"{scope['root_path']}|{scope['path']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    app.mount("/sub", sub)
    assert TestClient(app).get("/sub/a/b").text == "/sub|/a/b"


def test_many_routes_lookup(app: App) -> None:
    for i in range(300):
        app.get(f"/r{i}/{{x:int}}")(lambda x, i=i: {"i": i, "x": x})
    client = TestClient(app)
    assert client.get("/r299/5").json() == {"i": 299, "x": 5}


# -- options are checked, FastAPI's route options work ----------------------------------------
def test_unknown_route_option_is_a_type_error_naming_it() -> None:
    app = App()
    with pytest.raises(TypeError, match=r"'status_cod'; did you mean 'status_code'\?"):
        app.post("/items", status_cod=201)
    with pytest.raises(TypeError, match="'summry'"):
        app.route("/items", summry="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'response_mdl'"):
        app.add_route("/items", lambda: None, response_mdl=None)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'tag'"):
        path("/items", lambda: None, tag=["x"])  # type: ignore[call-arg]


def test_router_prefix_with_empty_path_serves_the_prefix() -> None:
    app = App()
    articles = Router(prefix="/articles")

    @articles.get("")
    def list_articles() -> list[str]:
        return ["a"]

    @articles.get("/{slug}")
    def article(slug: str) -> str:
        return slug

    app.include(articles)
    client = TestClient(app, follow_redirects=False)
    assert client.get("/articles").json() == ["a"]
    assert client.get("/articles/x").json() == "x"

    bare = App()

    @bare.get("")
    def nowhere() -> None: ...

    with pytest.raises(ImproperlyConfigured, match="path ''"):
        TestClient(bare).get("/")


def test_default_response_class_of_app_and_router() -> None:
    from nightowl import HTMLResponse, PlainTextResponse

    app = App(default_response_class=HTMLResponse)
    text = Router(prefix="/text", default_response_class=PlainTextResponse)

    @app.get("/")
    def home() -> str:
        return "<h1>hi</h1>"

    @app.get("/data", response_class=JSONResponse)
    def data() -> dict[str, int]:
        return {"a": 1}

    @text.get("/hello")
    def hello() -> str:
        return "hello"

    app.include(text)
    client = TestClient(app)
    assert client.get("/").headers["content-type"].startswith("text/html")
    assert client.get("/").text == "<h1>hi</h1>"
    assert client.get("/data").json() == {"a": 1}
    assert client.get("/text/hello").headers["content-type"].startswith("text/plain")
