"""On PostgreSQL, diacritic-insensitive search uses the trigram indexes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.geography.schemas import PlaceFilter
from app.products.repository import ProductRepository, ordering
from app.products.schemas import ProductQuery, ProductSort

pytestmark = [pytest.mark.anyio, pytest.mark.postgres_only]


async def plan_of(db: AsyncSession, q: str) -> str:
    today = date(2026, 6, 15)
    query = ProductQuery(q=q, sort=ProductSort.name)
    stmt = ordering(query.sort, today).apply(
        ProductRepository(db).filtered(query, PlaceFilter(), today), query.cursor, query.limit
    )
    dialect = (await db.connection()).dialect
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    # A near-empty table is cheapest to scan; forbid that to see what the planner *can* use.
    await db.execute(text("SET LOCAL enable_seqscan = off"))
    rows = (await db.execute(text("EXPLAIN " + sql.replace("%%", "%")))).all()
    await db.rollback()
    return "\n".join(row[0] for row in rows)


async def test_search_uses_the_products_trigram_index(db: AsyncSession) -> None:
    plan = await plan_of(db, "quyt vang")

    assert "ix_products_search_text_trgm" in plan, plan


async def test_search_uses_the_owners_trigram_index(db: AsyncSession) -> None:
    plan = await plan_of(db, "ngoc que")

    assert "ix_owners_search_text_trgm" in plan, plan


async def test_a_page_past_a_cursor_seeks_the_index(db: AsyncSession) -> None:
    """The keyset condition is an index condition, not a filter over every earlier row."""
    today = date(2026, 6, 15)
    first = ProductQuery(sort=ProductSort.newest)
    cursor = ordering(first.sort, today).encode(
        [datetime(2026, 6, 1, tzinfo=UTC), uuid.UUID(int=7)]
    )
    query = ProductQuery(sort=ProductSort.newest, cursor=cursor)
    stmt = ordering(query.sort, today).apply(
        ProductRepository(db).filtered(query, PlaceFilter(), today), query.cursor, query.limit
    )
    dialect = (await db.connection()).dialect
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    await db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in (await db.execute(text("EXPLAIN " + sql))).all())
    await db.rollback()

    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "ix_products_status_created_at_id" in plan, plan
    assert "created_at" in index_cond, plan
    assert "id" in index_cond, plan
