"""Engine, sessions and the declarative base.

One transaction per request: `SessionDep` opens it, the route's service only flushes, and the
dependency commits after the endpoint returns and before the response is sent (scope="function"),
so a 201 means the row is on disk.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar

from fastapi import Depends, Request
from sqlalchemy import JSON, BigInteger, DateTime, Enum, MetaData, Uuid, event, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.core.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Execution option asking SQLite for `BEGIN IMMEDIATE`: a writer takes the write lock up front,
# waits for it under busy_timeout, and never fails later on a read-to-write lock upgrade.
WRITE_TRANSACTION = "ocop_write_transaction"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps, stored in UTC on every backend.

    SQLite has no time zone type: values go in as naive UTC (so they sort and compare as text)
    and come back tagged UTC. Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Quantity(TypeDecorator[Decimal]):
    """An exact quantity with up to 3 decimals, stored as an integer count of thousandths.

    Integers are exact on every backend (SQLite has no true decimal type) and sum exactly in SQL.
    """

    impl = BigInteger
    cache_ok = True
    SCALE = 1000

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * self.SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than 3 decimals")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / self.SCALE).quantize(Decimal("0.001")).normalize()


def str_enum(enum_class: type[StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a named CHECK constraint (no PostgreSQL ENUM type,
    so adding a value is a plain constraint change)."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


def json_document() -> JSON:
    """JSON, stored as JSONB on PostgreSQL."""
    return JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        Decimal: Quantity(),
    }


class TimestampedMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# Functions the great-circle distance needs (app.events.repository); PostgreSQL has them all.
_MATH_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "asin": math.asin,
    "sqrt": math.sqrt,
    "radians": math.radians,
}


def _sqlite_has_math() -> bool:
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("SELECT sin(0), cos(0), asin(0), sqrt(0), radians(0)")
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
    return True


SQLITE_HAS_MATH = _sqlite_has_math()


def _null_safe(function: Callable[[float], float]) -> Callable[[float | None], float | None]:
    def wrapped(value: float | None) -> float | None:
        return None if value is None else function(value)

    return wrapped


def register_math_functions(dbapi_connection: Any) -> None:
    """Give a SQLite connection sin, cos, asin, sqrt and radians (NULL in, NULL out), for
    builds of SQLite compiled without SQLITE_ENABLE_MATH_FUNCTIONS."""
    for name, function in _MATH_FUNCTIONS.items():
        dbapi_connection.create_function(name, 1, _null_safe(function), deterministic=True)


def _configure_sqlite(engine: AsyncEngine, settings: Settings) -> None:
    """Foreign keys on, WAL, a busy timeout, and explicit BEGIN [IMMEDIATE].

    The driver's own transaction handling is switched off (isolation_level=None) so that
    SQLAlchemy's BEGIN is the one sent; see "Serializable isolation / Savepoints / Transactional
    DDL" in SQLAlchemy's SQLite dialect documentation.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.close()
        if not SQLITE_HAS_MATH:
            register_math_functions(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_TRANSACTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(settings: Settings) -> AsyncEngine:
    """The process's engine: aiosqlite for the embedded default, asyncpg for PostgreSQL."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=settings.database_echo)
        _configure_sqlite(engine, settings)
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


async def begin_write(session: AsyncSession) -> None:
    """Open the session's transaction as a writer (BEGIN IMMEDIATE on SQLite)."""
    await session.connection(execution_options={WRITE_TRANSACTION: True})


async def take_turns(session: AsyncSession, name: str) -> None:
    """Hold `name` until the session's writer transaction ends, so that the transactions that
    call this with the same name run one after another.

    For work that matches records by something the database does not enforce (a name, say),
    where two at once would each find nothing and each create. PostgreSQL: a
    transaction-scoped advisory lock. SQLite: nothing to add, a writer transaction
    (`begin_write`, BEGIN IMMEDIATE) already excludes every other writer.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(key)))


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
