"""Alembic environment: async engine, URL from the OCOP_* settings, SQLite in batch mode."""

from __future__ import annotations

import asyncio
import re
import warnings
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import SchemaItem

from app.core.config import get_settings
from app.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url")
    return str(url) if url else get_settings().database_url


def _include_object(
    obj: SchemaItem, _name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """Leave PostgreSQL-only indexes (`info={"postgresql_only": True}`) out of other databases."""
    if type_ == "index" and obj.info.get("postgresql_only"):
        return context.get_context().dialect.name == "postgresql"
    return True


def _configure(**kwargs: object) -> None:
    url = _url()
    if not url.startswith("postgresql"):
        # Other databases cannot reflect expression indexes: alembic warns that it skips the
        # PostgreSQL-only ones of the models (which `_include_object` leaves out there anyway).
        for table in target_metadata.tables.values():
            for index in table.indexes:
                if index.info.get("postgresql_only"):
                    warnings.filterwarnings(
                        "ignore",
                        message=f".*expression-based index '{re.escape(str(index.name))}'",
                        category=UserWarning,
                    )
    context.configure(
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=url.startswith("sqlite"),  # SQLite alters tables by copying them
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = make_url(_url())
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async())
