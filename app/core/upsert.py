"""`INSERT ... ON CONFLICT`, built one way for both databases.

PostgreSQL and SQLite (3.24 and later) write the clause alike, `excluded` included. SQLAlchemy
has a construct per dialect, and SQLite's compiler writes PostgreSQL's as its own, so every
upsert of the API is built with `insert` here, whichever database runs it: no repository
picks a construct by the dialect's name (tests/core/test_upsert.py compiles each form on both).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as _insert


def insert(table: Any) -> Insert:
    """An INSERT into `table` (a model or a table) that takes `on_conflict_do_nothing` and
    `on_conflict_do_update` on PostgreSQL and on SQLite."""
    return _insert(table)
