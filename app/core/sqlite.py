"""SQLite as the embedded database: connection settings and the functions it may lack."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings

# Execution option asking SQLite for `BEGIN IMMEDIATE`: a writer takes the write lock up front,
# waits for it under busy_timeout, and never fails later on a read-to-write lock upgrade.
WRITE_TRANSACTION = "ocop_write_transaction"

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


def configure(engine: AsyncEngine, settings: Settings) -> None:
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
        # FULL: a commit is on disk when it returns (a 201 promises that). NORMAL in WAL mode
        # may lose the last commits on power loss.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.close()
        if not SQLITE_HAS_MATH:
            register_math_functions(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_TRANSACTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
