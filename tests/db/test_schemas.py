"""One model, many schemas: Model.schema() keeps the columns' constraints."""

import uuid
from decimal import Decimal
from typing import Any, cast

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import JSON, Enum, Float, Numeric, String, Table, Text, TypeDecorator, select
from sqlalchemy.orm import column_property
from sqlalchemy.types import UserDefinedType

from nightowl import App
from nightowl.db import AsyncSession, Database, Mapped, Model, Page, Session, mapped_column
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient
from tests.db.models import Entry, Member, Status


def test_table_names_naming_convention_and_repr() -> None:
    assert Member.__tablename__ == "member"

    class BlogPostTag(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        slug: Mapped[str] = mapped_column(String(20), unique=True)

    assert BlogPostTag.__tablename__ == "blog_post_tag"
    table = cast(Table, BlogPostTag.__table__)
    names = {c.name for c in table.constraints}
    assert names == {"pk_blog_post_tag", "uq_blog_post_tag_slug"}
    fk = next(iter(Entry.__table__.foreign_keys)).constraint
    assert fk is not None
    assert fk.name == "fk_entry_author_id_member"
    member = Member(id=3, email="a@example.com", name="Ann", password_hash="secret")
    assert repr(member) == "<Member id=3 email='a@example.com' name='Ann'>"
    Model.metadata.remove(table)


class Trimmed(TypeDecorator[str]):
    impl = String(10)
    cache_ok = True


class Point(UserDefinedType[Any]):
    """A type that does not say which Python type it holds."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "POINT"

    @property
    def python_type(self) -> type[Any]:
        raise NotImplementedError


def test_each_column_type_gives_its_field_type() -> None:
    class Gadget(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(Enum("tool", "toy", name="gadget_kind"))
        active: Mapped[bool]
        weight: Mapped[float] = mapped_column(Float)
        ratio: Mapped[float] = mapped_column(Numeric(asdecimal=False))
        price: Mapped[Decimal] = mapped_column(Numeric)
        notes: Mapped[str] = mapped_column(Text)
        extra: Mapped[Any] = mapped_column(JSON)
        code: Mapped[str] = mapped_column(Trimmed)
        serial: Mapped[uuid.UUID]
        where: Mapped[Any] = mapped_column(Point)
        shout: Mapped[str] = column_property(kind + "!")

    try:
        read = Gadget.schema("read")
        properties = read.model_json_schema()["properties"]
        assert "shout" not in properties  # an SQL expression, not a column
        assert properties["kind"]["enum"] == ["tool", "toy"]
        assert properties["active"]["type"] == "boolean"
        assert properties["weight"]["type"] == properties["ratio"]["type"] == "number"
        assert properties["code"]["maxLength"] == 10  # the decorated type's length
        assert "maxLength" not in properties["notes"]
        assert properties["serial"]["format"] == "uuid"
        assert "type" not in properties["extra"] and "type" not in properties["where"]
        price = read.model_fields["price"]  # a Numeric without precision: any Decimal
        assert (price.annotation, price.metadata) == (Decimal, [])
    finally:
        Model.metadata.remove(Model.metadata.tables["gadget"])


def test_read_schema() -> None:
    read = Member.schema("read")
    assert read.__name__ == "MemberRead"
    assert list(read.model_fields) == [
        "id",
        "email",
        "name",
        "nickname",
        "status",
        "balance",
        "created_at",
    ]
    assert all(field.is_required() for field in read.model_fields.values())
    schema = read.model_json_schema()
    assert schema["properties"]["email"]["maxLength"] == 100
    assert "password_hash" not in schema["properties"]
    assert Member.schema("read") is read  # cached


def test_create_schema_keeps_constraints() -> None:
    create = Member.schema("create")
    assert create.__name__ == "MemberCreate"
    fields = create.model_fields
    assert "id" not in fields  # generated primary key
    assert "created_at" not in fields  # read_only
    assert "password_hash" in fields  # private hides output only
    assert {name for name, f in fields.items() if f.is_required()} == {"email", "name"}
    assert fields["status"].default is Status.active
    assert fields["balance"].default == Decimal("0")
    ok = create.model_validate({"email": "a@example.com", "name": "Ann", "status": "banned"})
    assert ok.status is Status.banned  # type: ignore[attr-defined]
    bad = {
        "email": "x" * 101,
        "name": "n",
        "status": "deleted",
        "balance": "123456789.5",
        "nickname": None,
    }
    with pytest.raises(ValidationError) as caught:
        create.model_validate(bad)
    assert {e["loc"][0] for e in caught.value.errors()} == {"email", "status", "balance"}
    schema = create.model_json_schema()
    assert "default" not in schema["properties"]["nickname"]


def test_update_and_patch_schemas() -> None:
    update = Member.schema("update")
    patch = Member.schema("patch")
    assert "id" not in update.model_fields and "id" not in patch.model_fields
    assert {n for n, f in update.model_fields.items() if f.is_required()} == {"email", "name"}
    assert not any(f.is_required() for f in patch.model_fields.values())
    member = Member(email="a@example.com", name="Ann", nickname="annie")
    member.apply(patch.model_validate({"nickname": None}))
    assert (member.email, member.name, member.nickname) == ("a@example.com", "Ann", None)
    with pytest.raises(ValidationError):
        patch.model_validate({"name": None})  # not nullable


def test_include_exclude_and_stable_names() -> None:
    public = Member.schema(exclude=["email", "balance"])
    assert "email" not in public.model_fields
    assert public.__name__.startswith("MemberRead_")
    assert Member.schema(exclude=["balance", "email"]).__name__ == public.__name__
    named = Member.schema(include=["id", "name"], name="MemberName")
    assert list(named.model_fields) == ["id", "name"]
    with pytest.raises(ImproperlyConfigured, match="no field 'nope'"):
        Member.schema(exclude=["nope"])
    with pytest.raises(ImproperlyConfigured, match="unknown kind"):
        Member.schema("delete")
    nested = Entry.schema(include=["title", "author"], name="EntryNested")
    defs = TypeAdapter(nested).json_schema()["$defs"]
    assert "MemberRead" in defs
    assert "password_hash" not in defs["MemberRead"]["properties"]


def test_model_annotation_documents_the_read_schema() -> None:
    schema = TypeAdapter(list[Member]).json_schema()
    assert schema["items"] == {"$ref": "#/$defs/MemberRead"}
    # A schema built at run time as a type argument: the type checker cannot follow it.
    page = TypeAdapter(cast(Any, Page)[Member.schema("read")]).json_schema()
    assert set(page["properties"]) == {"items", "total", "page", "size", "pages"}


def test_create_update_patch_through_the_app(app: App, database: Database) -> None:
    create, update, patch = (Member.schema(kind) for kind in ("create", "update", "patch"))

    @app.post("/members", status_code=201)
    def create_member(data: create, db: Session) -> Member:  # type: ignore[valid-type]
        member = Member.from_schema(data)
        db.add(member)
        db.flush()
        return member

    @app.put("/members/{member_id}")
    async def replace(member_id: int, data: update, db: AsyncSession) -> Member:  # type: ignore[valid-type]
        member = await db.get_or_404(Member, member_id)
        return member.apply(data)

    @app.patch("/members/{member_id}")
    def change(member_id: int, data: patch, db: Session) -> Member:  # type: ignore[valid-type]
        return db.get_or_404(Member, member_id).apply(data)

    with TestClient(app) as client:
        created = client.post(
            "/members",
            json={"email": "a@example.com", "name": "Ann", "nickname": "annie", "balance": "2.50"},
        )
        assert created.status_code == 201, created.text
        member_id = created.json()["id"]
        assert created.json()["created_at"]  # server default, loaded after the insert
        too_long = client.post("/members", json={"email": "b@example.com", "name": "x" * 51})
        assert too_long.status_code == 422
        assert too_long.json()["errors"][0]["loc"] == ["body", "name"]
        patched = client.patch(f"/members/{member_id}", json={"name": "Anna"})
        assert patched.json()["nickname"] == "annie"  # not sent, not changed
        replaced = client.put(
            f"/members/{member_id}", json={"email": "z@example.com", "name": "Zed"}
        )
        assert replaced.status_code == 200, replaced.text
    with database.session() as session:
        member = session.scalars(select(Member)).one()
        assert (member.email, member.name, member.nickname) == ("z@example.com", "Zed", "annie")
        assert member.balance == Decimal("2.50")


def test_created_object_returned_as_its_model_has_every_field_in_get_order(app: App) -> None:
    @app.post("/members", status_code=201)
    def create_member(data: Member.schema("create"), db: Session) -> Member:  # type: ignore[valid-type]
        member = Member.from_schema(data)
        db.add(member)  # no flush: the request's session flushes after the handler
        return member

    @app.get("/members/{member_id}")
    def read_member(member_id: int, db: Session) -> Member:
        return db.get_or_404(Member, member_id)

    with TestClient(app) as client:
        created = client.post("/members", json={"email": "n@example.com", "name": "Nan"})
        assert created.status_code == 201, created.text
        fetched = client.get(f"/members/{created.json()['id']}")
        assert created.json()["nickname"] is None  # a nullable column never set
        assert list(created.json()) == list(fetched.json())
        assert list(created.json()) == list(Member.schema("read").model_fields)
