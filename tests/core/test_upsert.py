"""One `INSERT ... ON CONFLICT` construct for both databases (`app.core.upsert`): each form the
API uses compiles on each dialect to the clause that database runs."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_mock_engine
from sqlalchemy.engine import Dialect

from app.core.upsert import insert

_DIALECTS: list[Dialect] = [
    create_mock_engine(url, executor=None).dialect
    for url in ("postgresql+asyncpg://", "sqlite+aiosqlite://")
]
_sums = Table(
    "sums",
    MetaData(),
    Column("day", Integer, primary_key=True),
    Column("total", Integer, nullable=False),
)


@pytest.mark.parametrize("dialect", _DIALECTS, ids=["pg", "sqlite"])
def test_do_nothing_compiles_on_both(dialect: Dialect) -> None:
    stmt = insert(_sums).values(day=1, total=2).on_conflict_do_nothing(index_elements=["day"])

    assert str(stmt.compile(dialect=dialect)).endswith("ON CONFLICT (day) DO NOTHING")


@pytest.mark.parametrize("dialect", _DIALECTS, ids=["pg", "sqlite"])
def test_do_update_adding_the_excluded_compiles_on_both(dialect: Dialect) -> None:
    stmt = insert(_sums).values(day=1, total=2)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day"], set_={"total": _sums.c.total + stmt.excluded.total}
    )

    assert str(stmt.compile(dialect=dialect)).endswith(
        "ON CONFLICT (day) DO UPDATE SET total = (sums.total + excluded.total)"
    )
