"""Which database the suite runs on, and the databases it creates for itself.

`make test` runs the suite twice: OCOP_TEST_DATABASE=sqlite, then =postgres. The schema is
always built by the Alembic migrations.

On SQLite each pytest process (each xdist worker) uses a file of its own in pytest's temporary
directory.

On PostgreSQL, OCOP_TEST_POSTGRES_URL names a *server*, through its maintenance database
(default: `postgres` on 127.0.0.1:5432). The suite only ever runs CREATE DATABASE and DROP
DATABASE there. Each pytest process creates its own database,
`ocop_test_<run id>_<xdist worker id, or "main">`, migrates it, and drops it when the session
ends. CREATE DATABASE fails rather than reuse a name that already exists, and this module
refuses to drop or empty a database this process did not create: nothing in the suite ever
touches anyone else's database (a developer's `test` database, another suite running on the
same server at the same time).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.models import Base

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("OCOP_TEST_DATABASE", "sqlite")
IS_POSTGRES = BACKEND == "postgres"
# The server's maintenance database: the suite connects to it for CREATE/DROP DATABASE only.
POSTGRES_SERVER_URL = os.environ.get(
    "OCOP_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)

# Every database the suite creates is named with this prefix, this run's id (shared by the
# xdist workers of one run) and the worker's id.
PREFIX = "ocop_test_"


def run_id(given: str | None) -> str:
    """A run id fit for a database name: 12 lowercase letters or digits (random if none given)."""
    return (re.sub(r"[^a-z0-9]", "", (given or "").lower()) or uuid.uuid4().hex)[:12]


RUN_ID = run_id(os.environ.get("PYTEST_XDIST_TESTRUNUID"))
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
IS_XDIST_WORKER = "PYTEST_XDIST_WORKER" in os.environ
_NAME = re.compile(rf"{PREFIX}[a-z0-9_]+")

# The databases this process created and has not dropped yet: the only ones it may drop or empty.
_created: set[str] = set()


class NotCreatedBySuite(RuntimeError):
    """Refused: the database was not created by this test process."""


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def server_description() -> str:
    return make_url(POSTGRES_SERVER_URL).render_as_string(hide_password=True)


_unreachable: dict[str, str | None] = {}


def postgres_unreachable_reason(url: str = POSTGRES_SERVER_URL) -> str | None:
    """None when PostgreSQL answers at `url` and may create databases there, else why not.

    Asked once per process."""
    if url in _unreachable:
        return _unreachable[url]

    async def probe() -> str | None:
        engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 5})
        try:
            async with engine.connect() as conn:
                may_create = await conn.scalar(
                    text(
                        "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
                    )
                )
        finally:
            await engine.dispose()
        return None if may_create else "the role may not create databases (CREATEDB)"

    try:
        reason = asyncio.run(probe())
    except Exception as exc:  # any failure to connect is the answer we want
        reason = f"{type(exc).__name__}: {exc}"
    _unreachable[url] = reason
    return reason


def _maintenance_execute(sql: str) -> None:
    async def run() -> None:
        engine = create_async_engine(
            POSTGRES_SERVER_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT"
        )
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(run())


def url_of(name: str) -> str:
    """The URL of database `name` on the suite's server."""
    return make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)


def session_database_name() -> str:
    """The name of this process's database for the whole session."""
    return f"{PREFIX}{RUN_ID}_{WORKER}"


def created_here() -> frozenset[str]:
    """The databases this process created and has not dropped yet."""
    return frozenset(_created)


def create_database(name: str) -> str:
    """CREATE DATABASE `name` (which must not exist yet) and return its URL."""
    if not _NAME.fullmatch(name) or len(name) > 63:
        raise ValueError(f"a test database is named {PREFIX}<lowercase, digits, _>: {name!r}")
    _maintenance_execute(f'CREATE DATABASE "{name}"')  # fails if the name is taken
    _created.add(name)
    return url_of(name)


def drop_database(name: str) -> None:
    """DROP DATABASE `name`, which this process must have created."""
    if name not in _created:
        raise NotCreatedBySuite(f"refusing to drop {name!r}: this test process did not create it")
    _maintenance_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _created.discard(name)


@contextmanager
def temporary_database(name: str | None = None) -> Iterator[str]:
    """A new, empty database on the suite's server (its URL), dropped when the block ends."""
    name = name or f"{PREFIX}{uuid.uuid4().hex[:12]}_{WORKER}"
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


@atexit.register
def _drop_leftovers() -> None:
    """Should a session end without its teardown (an internal error), still drop what it made."""
    for name in list(_created):
        with contextlib.suppress(Exception):  # the server may be gone too: nothing more to do
            drop_database(name)


def delete_all_rows(url: str) -> None:
    """Empty every table (tests commit for real, as the service does).

    On PostgreSQL only a database this process created: anything else is refused."""
    is_postgres = make_url(url).get_backend_name() == "postgresql"
    if is_postgres and make_url(url).database not in _created:
        raise NotCreatedBySuite(f"refusing to empty {make_url(url).database!r}: not created here")

    async def wipe() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        # Reference tables (provinces, communes) hold what their migration loaded: kept.
        tables = [t for t in reversed(Base.metadata.sorted_tables) if not t.info.get("reference")]
        async with engine.begin() as conn:
            if is_postgres:
                names = ", ".join(f'"{t.name}"' for t in tables)
                await conn.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    await conn.execute(table.delete())
        await engine.dispose()

    asyncio.run(wipe())


def reset_postgres_schema(url: str) -> None:
    """Drop and recreate the `public` schema at `url`.

    For `bench/orders.py` only, on the database its user names in OCOP_BENCH_DATABASE_URL (the
    README says the bench empties it). The test suite never calls this."""

    async def reset() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())
