"""Engine, sessions and the request's transaction.

One transaction per request: `SessionDep` opens it, the route's service only flushes, and the
dependency commits after the endpoint returns and before the response is sent (scope="function"),
so a 201 means the row is on disk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core import sqlite
from app.core.config import Settings
from app.core.sqlite import WRITE_TRANSACTION

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_engine(settings: Settings) -> AsyncEngine:
    """The process's engine: aiosqlite for the embedded default, asyncpg for PostgreSQL."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=settings.database_echo)
        sqlite.configure(engine, settings)
        return engine
    return create_async_engine(
        url,
        echo=settings.database_echo,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_pre_ping=True,
    )


def create_sessionmaker(
    engine: AsyncEngine, *, writer: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`; a writer's transactions begin as writers (BEGIN IMMEDIATE on
    SQLite) whenever they start, including after a commit."""
    bind = engine.execution_options(**{WRITE_TRANSACTION: True}) if writer else engine
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers (a trivial query on a connection of the pool)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def begin_write(session: AsyncSession) -> None:
    """Open the session's transaction as a writer (BEGIN IMMEDIATE on SQLite)."""
    await session.connection(execution_options={WRITE_TRANSACTION: True})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session and transaction, committed when the endpoint returns."""
    state = request.app.state
    writer = request.method not in SAFE_METHODS
    sessionmaker: async_sessionmaker[AsyncSession] = (
        state.writer_sessionmaker if writer else state.sessionmaker
    )
    async with sessionmaker() as session:
        yield session
        await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
