"""FastAPI + fastapi-users: ``GET /me`` behind ``fastapi_users.current_user(active=True)``.

Two authentication backends, as fastapi-users documents them: a cookie whose token is a
row of the access-token table (``CookieTransport`` + ``DatabaseStrategy``: the session
store in PostgreSQL) and a bearer JWT (``BearerTransport`` + ``JWTStrategy``). SQLAlchemy
async sessions on asyncpg. fastapi-users has no API keys. Credentials come from its own
login routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, IntegerIDMixin
from fastapi_users.authentication import (
    AuthenticationBackend,
    BearerTransport,
    CookieTransport,
    JWTStrategy,
)
from fastapi_users.authentication.strategy.db import DatabaseStrategy
from fastapi_users.password import PasswordHelper
from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTable, SQLAlchemyUserDatabase
from fastapi_users_db_sqlalchemy.access_token import (
    SQLAlchemyAccessTokenDatabase,
    SQLAlchemyBaseAccessTokenTable,
)
from sqlalchemy import ForeignKey, Integer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NOTES = (
    "fastapi-users: CookieTransport+DatabaseStrategy and BearerTransport+JWTStrategy, "
    "SQLAlchemy AsyncSession (asyncpg), async def + Depends(current_user(active=True))"
)
SECRET = "benchmark-secret-key-not-for-production-use"
PASSWORD = "correct horse battery staple"


class Base(DeclarativeBase):
    pass


class FUser(SQLAlchemyBaseUserTable[int], Base):
    __tablename__ = "fau_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class FAccessToken(SQLAlchemyBaseAccessTokenTable[int], Base):
    __tablename__ = "fau_access_token"

    @declared_attr
    def user_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("fau_user.id", ondelete="cascade"), nullable=False)


class UserManager(IntegerIDMixin, BaseUserManager[FUser, int]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


def build(url: str, pool_size: int) -> Any:
    """The app; the tables and the user are made by :func:`credentials`."""
    scheme, _, rest = url.partition("://")
    engine = create_async_engine(
        f"{scheme.split('+')[0]}+asyncpg://{rest}", pool_size=pool_size, max_overflow=0
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    async def get_user_db(session: AsyncSession = Depends(get_session)) -> AsyncIterator[Any]:
        yield SQLAlchemyUserDatabase(session, FUser)

    async def get_token_db(session: AsyncSession = Depends(get_session)) -> AsyncIterator[Any]:
        yield SQLAlchemyAccessTokenDatabase(session, FAccessToken)

    async def get_user_manager(user_db: Any = Depends(get_user_db)) -> AsyncIterator[Any]:
        yield UserManager(user_db)

    def get_db_strategy(token_db: Any = Depends(get_token_db)) -> DatabaseStrategy[Any, Any, Any]:
        return DatabaseStrategy(token_db, lifetime_seconds=3600)

    def get_jwt_strategy() -> JWTStrategy[Any, Any]:
        return JWTStrategy(secret=SECRET, lifetime_seconds=900)

    cookie = AuthenticationBackend(
        name="cookie",
        transport=CookieTransport(cookie_max_age=3600, cookie_secure=False),
        get_strategy=get_db_strategy,
    )
    bearer = AuthenticationBackend(
        name="jwt",
        transport=BearerTransport(tokenUrl="auth/jwt/login"),
        get_strategy=get_jwt_strategy,
    )
    users = FastAPIUsers[FUser, int](get_user_manager, [cookie, bearer])
    current_active_user = users.current_user(active=True)

    app = FastAPI()
    app.include_router(users.get_auth_router(cookie), prefix="/auth/cookie")
    app.include_router(users.get_auth_router(bearer), prefix="/auth/jwt")

    @app.get("/me")
    async def me(user: FUser = Depends(current_active_user)) -> dict[str, Any]:
        return {"username": user.email.split("@")[0]}

    app.state.engine = engine
    app.state.sessions = sessions
    return app


async def credentials(app: Any) -> dict[str, list[tuple[bytes, bytes]]]:
    """Create the tables and ``ada``, then log in through fastapi-users' routes."""
    async with app.state.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with app.state.sessions() as session:
        session.add(
            FUser(
                email="ada@example.com",
                hashed_password=PasswordHelper().hash(PASSWORD),
                is_active=True,
                is_superuser=False,
                is_verified=True,
            )
        )
        await session.commit()
    transport = httpx.ASGITransport(app=app)
    form = {"username": "ada@example.com", "password": PASSWORD}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        login = await client.post("/auth/cookie/login", data=form)
        assert login.status_code == 204, login.text
        cookie = f"fastapiusersauth={client.cookies['fastapiusersauth']}"
        jwt = (await client.post("/auth/jwt/login", data=form)).json()["access_token"]
    return {
        "session": [(b"cookie", cookie.encode())],
        "jwt": [(b"authorization", f"Bearer {jwt}".encode())],
    }


async def close(app: Any) -> None:
    """Close the connection pool."""
    await app.state.engine.dispose()
