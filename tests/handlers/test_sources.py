"""Parameter sources: the ``Source`` every marker carries, and markers of one's own."""

import re
from typing import Annotated, Any, ClassVar

import pytest

from nightowl import App, Body, Cookie, File, Form, Header, Path, Query
from nightowl.exceptions import ImproperlyConfigured
from nightowl.params import Param, Source
from nightowl.testing import TestClient


@pytest.mark.parametrize(
    ("marker", "source"),
    [
        (Path(), Source.PATH),
        (Query(), Source.QUERY),
        (Header(), Source.HEADER),
        (Cookie(), Source.COOKIE),
        (Body(), Source.BODY),
        (Form(), Source.FORM),
        (File(), Source.FILE),
    ],
)
def test_every_marker_carries_its_source(marker: Param, source: Source) -> None:
    assert marker.source is source
    assert marker.source == source.value  # a str enum: "query" still compares equal


def test_a_marker_of_ones_own_may_name_its_source_as_a_string(app: App) -> None:
    class Tenant(Param):
        source: ClassVar[Any] = "header"
        __slots__ = ()

    @app.get("/tenant")
    def tenant(x_tenant: Annotated[str, Tenant()]) -> dict[str, str]:
        return {"tenant": x_tenant}

    client = TestClient(app)
    assert client.get("/tenant", headers={"X-Tenant": "owls"}).json() == {"tenant": "owls"}
    problem = client.get("/tenant").json()
    assert problem["errors"][0]["loc"] == ["header", "x-tenant"]
    parameter = app.openapi()["paths"]["/tenant"]["get"]["parameters"][0]
    assert (parameter["in"], parameter["name"]) == ("header", "X-Tenant")


def test_an_unknown_source_is_a_configuration_error(app: App) -> None:
    class Weird(Param):
        source: ClassVar[Any] = "moon"
        __slots__ = ()

    @app.get("/weird")
    def weird(x: Annotated[str, Weird()]) -> None: ...

    with pytest.raises(
        ImproperlyConfigured, match=re.escape("Weird.source is 'moon'; use one of path")
    ):
        TestClient(app).get("/weird")


def test_validation_errors_name_the_source_as_plain_text(app: App) -> None:
    @app.get("/items/{item_id}")
    def item(item_id: int, limit: Annotated[int, Query(ge=1)] = 10) -> dict[str, int]:
        return {"id": item_id, "limit": limit}

    problem = TestClient(app).get("/items/3?limit=0").json()
    assert problem["errors"][0]["loc"] == ["query", "limit"]
    assert type(problem["errors"][0]["loc"][0]) is str


class _Plain:
    """Neither a model nor a provided type."""


def test_an_unreadable_parameter_names_the_handler_the_parameter_and_the_fix() -> None:

    app = App()

    @app.get("/thing")
    def thing(item: _Plain) -> dict[str, str]:
        return {}

    with pytest.raises(ImproperlyConfigured) as caught:
        app.openapi()
    message = str(caught.value)
    line = thing.__code__.co_firstlineno
    assert message.startswith(f"thing (tests/handlers/test_sources.py, line {line}): ")
    assert "The parameter 'item: _Plain' is neither read from the request nor injected" in message
    assert "app.provide(_Plain, factory)" in message
    assert "arbitrary_types_allowed" not in message


def test_a_session_parameter_without_sessions_says_how_to_turn_them_on() -> None:
    from nightowl.sessions import HTTPSession

    app = App(env_file=None)

    @app.get("/cart")
    def cart(session: HTTPSession) -> dict[str, str]:
        return {}

    with pytest.raises(ImproperlyConfigured, match=r"'session: HTTPSession' needs sessions"):
        app.openapi()


def test_a_database_session_without_a_database_says_how_to_add_one() -> None:
    from nightowl.db import Session

    app = App(env_file=None)

    @app.get("/notes")
    def notes(db: Session) -> list[str]:
        return []

    with pytest.raises(ImproperlyConfigured, match=r"'db: Session' needs the database"):
        app.openapi()


def test_optional_file_with_an_empty_post_is_none_not_415() -> None:
    from nightowl import UploadFile

    app = App()

    @app.post("/avatar")
    async def avatar(file: UploadFile | None = File(None)) -> dict[str, Any]:  # type: ignore[assignment]
        return {"file": None if file is None else file.filename}

    client = TestClient(app)
    assert client.post("/avatar").json() == {"file": None}
    sent = client.post("/avatar", files={"file": ("me.png", b"png")})
    assert sent.json() == {"file": "me.png"}


# -- parameter models: a pydantic model read from the query, headers or cookies -------------
def test_query_header_and_cookie_parameter_models() -> None:
    from typing import Literal

    from pydantic import BaseModel, ConfigDict
    from pydantic import Field as PydanticField

    class Filters(BaseModel):
        model_config = ConfigDict(extra="forbid")

        limit: int = PydanticField(100, gt=0, le=100)
        order_by: Literal["created_at", "updated_at"] = "created_at"
        tags: list[str] = []

    class CommonHeaders(BaseModel):
        save_data: bool
        x_tag: list[str] = []

    class Cookies(BaseModel):
        session_id: str
        tracker: str | None = None

    app = App()

    @app.get("/items")
    def items(filters: Annotated[Filters, Query()]) -> Filters:
        return filters

    @app.get("/headers")
    def headers(h: Annotated[CommonHeaders, Header()]) -> CommonHeaders:
        return h

    @app.get("/cookies")
    def cookies(c: Annotated[Cookies, Cookie()]) -> Cookies:
        return c

    client = TestClient(app)
    assert client.get("/items?limit=5&tags=a&tags=b").json() == {
        "limit": 5,
        "order_by": "created_at",
        "tags": ["a", "b"],
    }
    extra = client.get("/items?limit=5&tool=plumbus")
    assert extra.status_code == 422
    assert extra.json()["errors"] == [
        {
            "loc": ["query", "tool"],
            "msg": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]
    assert client.get("/items?limit=0").json()["errors"][0]["loc"] == ["query", "limit"]
    sent = client.get("/headers", headers=[("save-data", "true"), ("x-tag", "1"), ("x-tag", "2")])
    assert sent.json() == {"save_data": True, "x_tag": ["1", "2"]}
    assert client.get("/headers").json()["errors"][0]["loc"] == ["header", "save_data"]
    client.cookies.set("session_id", "abc")
    assert client.get("/cookies").json() == {"session_id": "abc", "tracker": None}

    parameters = app.openapi()["paths"]["/items"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [
        ("limit", "query", False),
        ("order_by", "query", False),
        ("tags", "query", False),
    ]
    assert parameters[0]["schema"]["maximum"] == 100
    header_parameters = app.openapi()["paths"]["/headers"]["get"]["parameters"]
    assert [(p["name"], p["required"]) for p in header_parameters] == [
        ("Save-Data", True),
        ("X-Tag", False),
    ]


def test_form_fields_with_an_empty_post_are_422_not_415() -> None:
    from nightowl import UploadFile

    app = App()

    @app.post("/files")
    async def upload(file: Annotated[UploadFile, File()], note: Annotated[str, Form()]) -> str:
        return note

    response = TestClient(app).post("/files")
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [
        ["body", "file"],
        ["body", "note"],
    ]
    sent_as_text = TestClient(app).post(
        "/files", content=b"x", headers={"content-type": "text/plain"}
    )
    assert sent_as_text.status_code == 415  # a body of another type is still a 415


@pytest.mark.parametrize(
    ("strict", "status"),
    [(False, 200), (True, 415)],
)
def test_strict_content_type_and_a_json_body_sent_with_none(strict: bool, status: int) -> None:
    app = App(strict_content_type=strict)

    @app.post("/items")
    def create(item: dict[str, int]) -> dict[str, int]:
        return item

    client = TestClient(app)
    response = client.post("/items", content=b'{"a": 1}')
    assert response.status_code == status
    if strict:
        assert response.json()["detail"] == (
            "Expected a JSON body (application/json), got no Content-Type."
        )
    else:
        assert response.json() == {"a": 1}
    # said as JSON, or of another type: the same either way
    assert client.post("/items", json={"a": 1}).json() == {"a": 1}
    assert (
        client.post("/items", content=b"{}", headers={"content-type": "text/plain"}).status_code
        == 415
    )
