"""paginate(): pages of results; sort and filter names only from an allowlist."""

import pytest
from sqlalchemy import select

from nightowl import App
from nightowl.db import AsyncSession, Database, OffsetPage, Page, Session, paginate
from nightowl.testing import TestClient
from tests.db.models import Member, Status

MemberRead = Member.schema("read")


@pytest.fixture
def members(database: Database) -> None:
    with database.session() as session:
        for index in range(5):
            status = Status.banned if index % 2 else Status.active
            session.add(Member(email=f"m{index}@example.com", name=f"n{4 - index}", status=status))
        session.commit()


@pytest.mark.usefixtures("members")
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_paginate(app: App, mode: str) -> None:
    if mode == "sync":

        @app.get("/members")
        def listing(
            db: Session, page: int = 1, size: int = 2, sort: str = "", status: str | None = None
        ) -> Page[MemberRead]:  # type: ignore[valid-type]
            filters = {"status": Status(status)} if status else None
            return paginate(
                db,
                select(Member),
                page=page,
                size=size,
                sort=sort,
                filters=filters,
                sortable=["id", "name"],
                filterable=["status"],
            )
    else:

        @app.get("/members")
        async def listing_async(
            db: AsyncSession,
            page: int = 1,
            size: int = 2,
            sort: str = "",
            status: str | None = None,
        ) -> Page[MemberRead]:  # type: ignore[valid-type]
            filters = {"status": Status(status)} if status else None
            return await paginate(
                db,
                select(Member),
                page=page,
                size=size,
                sort=sort,
                filters=filters,
                sortable=["id", "name"],
                filterable=["status"],
            )

    with TestClient(app) as client:
        first = client.get("/members").json()
        assert [m["email"] for m in first["items"]] == ["m0@example.com", "m1@example.com"]
        assert (first["total"], first["page"], first["size"], first["pages"]) == (5, 1, 2, 3)
        last = client.get("/members?page=3").json()
        assert [m["email"] for m in last["items"]] == ["m4@example.com"]
        by_name = client.get("/members?sort=name&size=5").json()
        assert [m["name"] for m in by_name["items"]] == ["n0", "n1", "n2", "n3", "n4"]
        desc = client.get("/members?sort=-id&size=1").json()
        assert desc["items"][0]["email"] == "m4@example.com"
        banned = client.get("/members?status=banned&size=5").json()
        assert banned["total"] == 2
        assert "password_hash" not in banned["items"][0]
        for query, word in [
            ("sort=email", "sort by 'email'"),
            ("sort=-password_hash", "sort by 'password_hash'"),
            ("sort=id;drop table member", "sort by"),
            ("page=0", "page"),
            ("size=1000", "size"),
        ]:
            response = client.get(f"/members?{query}")
            assert response.status_code == 400, query
            assert word in response.json()["detail"]
        assert client.get("/members?size=5").json()["total"] == 5  # nothing was dropped


def test_filter_names_are_checked(database: Database, members: None) -> None:
    from nightowl import HTTPException

    with database.session() as session:
        with pytest.raises(HTTPException) as caught:
            paginate(session, select(Member), filters={"password_hash": ""})
        assert caught.value.status_code == 400
        page = paginate(session, select(Member), filters={"name": "n0"})
        assert [m.email for m in page.items] == ["m4@example.com"]
        assert page.pages == 1
        empty = paginate(session, select(Member), filters={"name": "nobody"})
        assert (empty.total, empty.pages, empty.items) == (0, 0, [])


MembersSlice = OffsetPage.keyed(MemberRead, items="members", total="membersCount")


@pytest.mark.usefixtures("members")
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_limit_and_offset_with_keys_of_your_choosing(app: App, mode: str) -> None:
    if mode == "sync":

        @app.get("/members")
        def listing(db: Session, limit: int = 2, offset: int = 0) -> MembersSlice:  # type: ignore[valid-type]
            return paginate(db, select(Member), limit=limit, offset=offset)
    else:

        @app.get("/members")
        async def listing_async(db: AsyncSession, limit: int = 2, offset: int = 0) -> MembersSlice:  # type: ignore[valid-type]
            return await paginate(db, select(Member), limit=limit, offset=offset)

    @app.get("/plain")
    def plain(db: Session, limit: int = 2, offset: int = 0) -> OffsetPage[MemberRead]:  # type: ignore[valid-type]
        return paginate(db, select(Member), limit=limit, offset=offset)

    with TestClient(app) as client:
        body = client.get("/members?limit=2&offset=3").json()
        assert set(body) == {"members", "membersCount", "limit", "offset"}
        assert [m["email"] for m in body["members"]] == ["m3@example.com", "m4@example.com"]
        assert (body["membersCount"], body["limit"], body["offset"]) == (5, 2, 3)
        plain_body = client.get("/plain?offset=4").json()
        assert [m["email"] for m in plain_body["items"]] == ["m4@example.com"]
        assert plain_body["total"] == 5
        for query, word in [("offset=-1", "offset"), ("limit=0", "limit"), ("limit=101", "limit")]:
            response = client.get(f"/members?{query}")
            assert response.status_code == 400, query
            assert word in response.json()["detail"]
        schema = client.get("/openapi.json").json()["components"]["schemas"]
        assert {"members", "membersCount"} <= set(schema[MembersSlice.__name__]["properties"])


def test_page_and_offset_do_not_mix(database: Database) -> None:
    with database.session() as session, pytest.raises(TypeError, match="not both"):
        paginate(session, select(Member), page=2, limit=3)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="unknown fields nope"):
        Page.keyed(MemberRead, nope="x")
