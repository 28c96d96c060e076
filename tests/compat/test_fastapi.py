"""nightowl.compat.fastapi: a FastAPI program runs with its imports changed, errors and all."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from nightowl.compat.fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    HTTPException,
    Query,
    Request,
    Security,
    status,
)
from nightowl.compat.fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from nightowl.compat.fastapi.exceptions import RequestValidationError
from nightowl.compat.fastapi.middleware import Middleware
from nightowl.compat.fastapi.middleware.gzip import GZipMiddleware
from nightowl.compat.fastapi.responses import JSONResponse, PlainTextResponse
from nightowl.compat.fastapi.security import (
    APIKeyHeader,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    SecurityScopes,
)
from nightowl.compat.fastapi.testclient import TestClient
from nightowl.exceptions import ImproperlyConfigured

oauth2 = OAuth2PasswordBearer(tokenUrl="token")
basic = HTTPBasic()
bearer = HTTPBearer(bearerFormat="JWT")
api_key = APIKeyHeader(name="X-Key")


class Item(BaseModel):
    name: str
    price: float


def build() -> FastAPI:
    app = FastAPI(title="Shop")
    items = APIRouter(prefix="/items", tags=["items"])

    @items.get("/{item_id}")
    def read_item(item_id: int, q: Annotated[str | None, Query(max_length=3)] = None) -> Any:
        if item_id == 0:
            raise HTTPException(status_code=404, detail="Item not found")
        if item_id == 1:
            raise HTTPException(status_code=status.HTTP_418_IM_A_TEAPOT)
        return {"item_id": item_id, "q": q}

    @items.post("/", status_code=status.HTTP_201_CREATED)
    def create_item(item: Item) -> Item:
        return item

    app.include_router(items)

    @app.post("/token")
    def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
        return {"access_token": form.username, "token_type": "bearer"}

    @app.get("/me")
    def me(token: Annotated[str, Depends(oauth2)]) -> dict[str, str]:
        return {"token": token}

    @app.get("/basic")
    def who(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> dict[str, str]:
        return {"username": credentials.username}

    @app.get("/key")
    def key(value: Annotated[str, Depends(api_key)]) -> dict[str, str]:
        return {"key": value}

    def added(x: int, y: int) -> int:
        return x + y

    app.add_api_route("/add", added, methods=["GET"])
    return app


def test_a_program_and_its_answers() -> None:
    client = TestClient(build())
    assert client.get("/items/5?q=abc").json() == {"item_id": 5, "q": "abc"}
    created = client.post("/items/", json={"name": "pen", "price": 1.5})
    assert created.status_code == 201
    assert created.json() == {"name": "pen", "price": 1.5}
    assert client.get("/add?x=1&y=2").json() == 3


def test_http_errors_in_fastapi_s_shape() -> None:
    client = TestClient(build())
    missing = client.get("/items/0")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    assert missing.json() == {"detail": "Item not found"}
    assert client.get("/items/1").json() == {"detail": "I'm a Teapot"}
    assert client.get("/nowhere").json() == {"detail": "Not Found"}
    assert client.delete("/items/5").json() == {"detail": "Method Not Allowed"}


def test_validation_errors_in_fastapi_s_shape() -> None:
    client = TestClient(build())
    response = client.get("/items/abc?q=abcd")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "abc",
            },
            {
                "type": "string_too_long",
                "loc": ["query", "q"],
                "msg": "String should have at most 3 characters",
                "input": "abcd",
                "ctx": {"max_length": 3},
            },
        ]
    }
    body = client.post("/items/", json={"name": "pen"})
    assert body.json() == {
        "detail": [
            {
                "type": "missing",
                "loc": ["body", "price"],
                "msg": "Field required",
                "input": {"name": "pen"},
            }
        ]
    }


def test_security_schemes_with_fastapi_s_spellings_and_wording() -> None:
    client = TestClient(build())
    for url in ("/me", "/basic", "/key"):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json() == {"detail": "Not authenticated"}
    assert client.get("/me", headers={"Authorization": "Bearer t"}).json() == {"token": "t"}
    assert client.get("/basic", auth=("ann", "pw")).json() == {"username": "ann"}
    bad = client.get("/basic", headers={"Authorization": "Basic !!!"})
    assert bad.json() == {"detail": "Not authenticated"}
    assert client.post("/token", data={"username": "a", "password": "b"}).json() == {
        "access_token": "a",
        "token_type": "bearer",
    }
    document = build().openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "token"
    assert bearer.openapi_scheme() == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def test_the_openapi_document_describes_fastapi_s_error_shape() -> None:
    document = build().openapi()
    operation = document["paths"]["/items/{item_id}"]["get"]
    assert operation["responses"]["422"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    }
    assert {"HTTPValidationError", "ValidationError"} <= set(document["components"]["schemas"])
    assert document["info"]["title"] == "Shop"


def test_events_middleware_and_exception_handlers() -> None:
    events: list[str] = []
    seen: list[str] = []

    async def on_invalid(request: Request, exc: RequestValidationError) -> Any:
        seen.append(str(exc.errors()[0]["loc"]))
        return await request_validation_exception_handler(request, exc)

    async def on_http(request: Request, exc: HTTPException) -> Any:
        seen.append(f"http {exc.status_code}")
        return await http_exception_handler(request, exc)

    app = FastAPI(
        middleware=[Middleware(GZipMiddleware, minimum_size=10)],
        exception_handlers={RequestValidationError: on_invalid, 404: on_http},
        on_startup=[lambda: events.append("started")],
    )
    router = APIRouter()

    with pytest.warns(DeprecationWarning, match="lifespan"):

        @router.on_event("shutdown")
        def stop() -> None:
            events.append("stopped")

    @router.get("/n/{n}")
    def number(n: int) -> PlainTextResponse:
        return PlainTextResponse("x" * n)

    app.include_router(router, prefix="/r")
    with TestClient(app) as client:
        assert (
            client.get("/r/n/100", headers={"Accept-Encoding": "gzip"}).headers["content-encoding"]
            == "gzip"
        )
        assert client.get("/r/n/x").status_code == 422
        assert client.get("/missing").json() == {"detail": "Not Found"}
    assert events == ["started", "stopped"]
    assert seen == ["('path', 'n')", "http 404"]


def test_the_error_format_can_still_be_replaced() -> None:
    app = build()
    app.error_format = lambda exc: {"message": exc.detail}
    assert TestClient(app).get("/items/0").json() == {"message": "Item not found"}


def test_custom_handler_returning_json() -> None:
    app = FastAPI()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"errors": len(exc.errors())}, status_code=400)

    @app.get("/n/{n}")
    def number(n: int) -> int:
        return n

    assert TestClient(app).get("/n/x").json() == {"errors": 1}


def test_mistakes_are_errors_not_ignored() -> None:
    with pytest.raises(ImproperlyConfigured, match="startup"):
        APIRouter().on_event("begin")
    with pytest.raises(ImproperlyConfigured, match="unknown option 'no_such_option'"):
        FastAPI(no_such_option=True)


@pytest.mark.parametrize(
    "module",
    [
        "applications",
        "background",
        "concurrency",
        "datastructures",
        "encoders",
        "exception_handlers",
        "exceptions",
        "middleware",
        "middleware.cors",
        "middleware.gzip",
        "middleware.httpsredirect",
        "middleware.trustedhost",
        "openapi.docs",
        "param_functions",
        "params",
        "requests",
        "responses",
        "routing",
        "security",
        "sse",
        "staticfiles",
        "status",
        "templating",
        "testclient",
        "websockets",
    ],
)
def test_every_module_fastapi_programs_import(module: str) -> None:
    imported = importlib.import_module(f"nightowl.compat.fastapi.{module}")
    assert imported.__doc__
    for name in getattr(imported, "__all__", []):
        assert getattr(imported, name) is not None


class User(BaseModel):
    name: str


def test_an_empty_body_names_each_missing_part_and_the_error_keeps_the_body() -> None:
    app = FastAPI()
    bodies: list[Any] = []

    @app.put("/items/{item_id}")
    def update(item_id: int, item: Item, user: User) -> dict[str, int]:
        return {"item_id": item_id}

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    @app.exception_handler(RequestValidationError)
    async def keep_body(request: Request, exc: RequestValidationError) -> Any:
        bodies.append(exc.body)
        return await request_validation_exception_handler(request, exc)

    client = TestClient(app)
    assert client.put("/items/1").json() == {
        "detail": [
            {"type": "missing", "loc": ["body", "item"], "msg": "Field required", "input": None},
            {"type": "missing", "loc": ["body", "user"], "msg": "Field required", "input": None},
        ]
    }
    assert client.post("/items").json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    }
    client.post("/items", json={"name": "towel", "price": "x"})
    assert bodies == [None, None, {"name": "towel", "price": "x"}]


class Bearer403(HTTPBearer):
    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(status_code=403, detail="Not authenticated")


scheme403 = Bearer403()


def test_a_scheme_may_answer_its_own_error() -> None:
    app = FastAPI()

    @app.get("/me")
    def me(credentials: Annotated[Any, Depends(scheme403)]) -> dict[str, str]:
        return {"token": credentials.credentials}

    client = TestClient(app)
    assert client.get("/me").status_code == 403
    assert client.get("/me", headers={"Authorization": "Bearer t"}).json() == {"token": "t"}


def test_templates_and_static_urls(tmp_path: Any) -> None:
    from nightowl.compat.fastapi.staticfiles import StaticFiles
    from nightowl.compat.fastapi.templating import Jinja2Templates

    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("body{}")
    (tmp_path / "item.html").write_text(
        "<link href=\"{{ url_for('static', path='/site.css') }}\">"
        "<a href=\"{{ url_for('item', id=id) }}\">{{ id }}</a>"
    )
    app = FastAPI()
    app.mount("/static", StaticFiles(directory=tmp_path / "static"), name="static")
    templates = Jinja2Templates(directory=tmp_path)

    @app.get("/items/{id}", name="item")
    def item(request: Request, id: str) -> Any:
        return templates.TemplateResponse(request=request, name="item.html", context={"id": id})

    @app.get("/old/{id}")
    def old(request: Request, id: str) -> Any:
        return templates.TemplateResponse("item.html", {"request": request, "id": id})

    client = TestClient(app)
    expected = (
        '<link href="http://testserver/static/site.css"><a href="http://testserver/items/a">a</a>'
    )
    assert client.get("/items/a").text == expected
    assert client.get("/old/a").text == expected
    assert client.get("/static/site.css").text == "body{}"
    behind_proxy = TestClient(app, root_path="/shop")
    assert behind_proxy.get("/items/a").text == expected.replace("testserver/", "testserver/shop/")


def test_ujson_response_needs_ujson(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from nightowl.compat.fastapi.responses import UJSONResponse

    monkeypatch.setitem(sys.modules, "ujson", None)
    with pytest.raises(ImproperlyConfigured, match="pip install ujson"):
        UJSONResponse({"a": 1})


def test_a_body_of_several_parts_reports_each_missing_part_as_fastapi_does() -> None:
    app = FastAPI()

    @app.put("/items/{item_id}")
    def update(item_id: int, item: Item, user: User) -> dict[str, int]:
        return {"item_id": item_id}

    client = TestClient(app)
    missing_user = client.put("/items/1", json={"item": {"name": "a", "price": 1}})
    assert missing_user.json() == {
        "detail": [
            {"type": "missing", "loc": ["body", "user"], "msg": "Field required", "input": None}
        ]
    }
    not_an_object = client.put("/items/1", json=[])
    assert [e["loc"] for e in not_an_object.json()["detail"]] == [
        ["body", "item"],
        ["body", "user"],
    ]


def test_an_unhandled_error_is_starlette_s_plain_500() -> None:
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("internal detail")

    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_docs_pages_an_app_serves_itself() -> None:
    from nightowl.compat.fastapi.openapi.docs import (
        get_redoc_html,
        get_swagger_ui_html,
        get_swagger_ui_oauth2_redirect_html,
    )

    app = FastAPI(docs_url=None, redoc_url=None)

    @app.get("/docs", include_in_schema=False)
    def swagger() -> Any:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Shop",
            oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
            swagger_js_url="https://cdn.example/swagger-ui-bundle.js",
            swagger_ui_parameters={"syntaxHighlight": False},
        )

    @app.get(app.swagger_ui_oauth2_redirect_url, include_in_schema=False)
    def redirect() -> Any:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> Any:
        return get_redoc_html(openapi_url="/openapi.json", title="Shop", redoc_js_url="/r.js")

    client = TestClient(app)
    page = client.get("/docs").text
    assert '<script src="https://cdn.example/swagger-ui-bundle.js"></script>' in page
    assert '"syntaxHighlight": false' in page
    assert '"oauth2RedirectUrl": "/docs/oauth2-redirect"' in page
    assert "window.opener.swaggerUIRedirectOauth2" in client.get("/docs/oauth2-redirect").text
    assert '<redoc spec-url="/openapi.json"></redoc>' in client.get("/redoc").text


scoped = OAuth2PasswordBearer(tokenUrl="token", scopes={"items": "Read items."})


def scoped_user(security_scopes: SecurityScopes, token: Annotated[str, Depends(scoped)]) -> str:
    return f"{token}:{' '.join(security_scopes.scopes)}"


def test_security_and_security_scopes_are_nightowl_s() -> None:
    from nightowl import params

    assert Security is params.Security
    assert SecurityScopes is params.SecurityScopes
    app = FastAPI()

    @app.get("/items")
    def items(user: Annotated[str, Security(scoped_user, scopes=["items"])]) -> dict[str, str]:
        return {"user": user}

    client = TestClient(app)
    assert client.get("/items", headers={"Authorization": "Bearer t"}).json() == {"user": "t:items"}
    assert client.get("/items").json() == {"detail": "Not authenticated"}


def test_a_templates_folder_nearby_turns_no_sessions_on(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "templates").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = FastAPI()

    @app.post("/items")
    def create() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:  # starts without a SECRET_KEY
        assert client.post("/items").json() == {"ok": True}
