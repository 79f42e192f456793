"""The PostgreSQL suite runs on databases it created itself and never touches any other."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests import database

pytestmark = pytest.mark.postgres_only


def run_sql(url: str, *statements: str) -> list[tuple[Any, ...]]:
    """Run `statements` at `url` (autocommit), returning the rows of the last one."""

    async def run() -> list[tuple[Any, ...]]:
        engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                rows: list[tuple[Any, ...]] = []
                for statement in statements:
                    result = await conn.execute(text(statement))
                    rows = [tuple(row) for row in result] if result.returns_rows else []
                return rows
        finally:
            await engine.dispose()

    return asyncio.run(run())


def server_databases() -> set[str]:
    return {
        name for (name,) in run_sql(database.POSTGRES_SERVER_URL, "SELECT datname FROM pg_database")
    }


@pytest.fixture
def bystander() -> Iterator[str]:
    """Someone else's database on the same server, with a table and a row in it."""
    name = f"ocop_test_bystander_{uuid.uuid4().hex[:12]}"
    run_sql(database.POSTGRES_SERVER_URL, f'CREATE DATABASE "{name}"')
    url = database.url_of(name)
    try:
        run_sql(url, "CREATE TABLE someone_elses (x int)", "INSERT INTO someone_elses VALUES (42)")
        yield url
    finally:
        run_sql(database.POSTGRES_SERVER_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_suite_runs_on_a_database_it_created(database_url: str) -> None:
    name = make_url(database_url).database

    assert name == database.session_database_name()
    assert name is not None
    assert name.startswith(f"{database.PREFIX}{database.RUN_ID}_")
    assert name.endswith(f"_{database.WORKER}")
    assert name in database.created_here()  # so the session's end drops it
    assert name in server_databases()
    assert make_url(database_url).database != make_url(database.POSTGRES_SERVER_URL).database


def test_a_database_the_suite_creates_is_dropped_when_done() -> None:
    with database.temporary_database() as url:
        name = make_url(url).database
        assert name is not None
        assert name.startswith(database.PREFIX)
        assert name in server_databases()

    assert name not in server_databases()
    assert name not in database.created_here()


def test_a_name_that_exists_is_never_reused(bystander: str) -> None:
    name = make_url(bystander).database
    assert name is not None

    with pytest.raises(Exception, match="already exists"):
        database.create_database(name)

    assert name not in database.created_here()
    assert run_sql(bystander, "SELECT x FROM someone_elses") == [(42,)]


def test_a_database_the_suite_did_not_create_is_never_emptied_or_dropped(
    database_url: str, bystander: str
) -> None:
    name = make_url(bystander).database
    assert name is not None

    # What the suite runs between tests and at the end of a session, on its own databases...
    database.delete_all_rows(database_url)
    with database.temporary_database():
        pass
    # ...and what it refuses to run on anyone else's.
    with pytest.raises(database.NotCreatedBySuite):
        database.delete_all_rows(bystander)
    with pytest.raises(database.NotCreatedBySuite):
        database.drop_database(name)

    assert name in server_databases()
    assert run_sql(bystander, "SELECT x FROM someone_elses") == [(42,)]
