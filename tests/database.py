"""Which database the suite runs on, and how to reset it.

`make test` runs the suite twice: OCOP_TEST_DATABASE=sqlite, then =postgres (against
OCOP_TEST_POSTGRES_URL). The schema is always built by the Alembic migrations.
"""

from __future__ import annotations

import asyncio
import os
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
POSTGRES_URL = os.environ.get(
    "OCOP_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IS_POSTGRES = BACKEND == "postgres"


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def postgres_unreachable_reason(url: str = POSTGRES_URL) -> str | None:
    """None when PostgreSQL answers at `url`, else why not."""

    async def probe() -> None:
        engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 5})
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any failure to connect is the answer we want
        return f"{type(exc).__name__}: {exc}"
    return None


def reset_postgres_schema(url: str) -> None:
    async def reset() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def delete_all_rows(url: str) -> None:
    """Empty every table (tests commit for real, as the service does)."""

    async def wipe() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        tables = list(reversed(Base.metadata.sorted_tables))
        async with engine.begin() as conn:
            if make_url(url).get_backend_name() == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                await conn.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    await conn.execute(table.delete())
        await engine.dispose()

    asyncio.run(wipe())
