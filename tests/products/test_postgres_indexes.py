"""On PostgreSQL, diacritic-insensitive search uses the trigram index, and sorting by stars its
index."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Select, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.geography.schemas import PlaceFilter
from app.models import Event, EventKind, Owner, OwnerKind, Product
from app.products.repository import catalogue, ordering
from app.products.schemas import ProductQuery, ProductSort

pytestmark = [pytest.mark.anyio, pytest.mark.postgres_only]


async def page_sql(db: AsyncSession, query: ProductQuery, today: date) -> str:
    """The catalogue's page statement for `query`, its values written in."""
    prepared, values = catalogue(query, PlaceFilter(), today)
    assert isinstance(prepared.statement, Select)
    stmt = prepared.statement.params(**values)
    dialect = (await db.connection()).dialect
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


async def plan_of(db: AsyncSession, query: ProductQuery, *, in_event: bool = False) -> str:
    """The plan of the catalogue's statement for `query` on 5,000 products of two owners (in a
    transaction rolled back after), analysed so that the planner weighs real row counts;
    `in_event`: of the products entered in a festival (every third), `query` filtering by it."""
    today = date(2026, 6, 15)
    owners = [
        Owner(name=name, kind=OwnerKind.cooperative, commune="Bắc Sơn", province="Lạng Sơn")
        for name in ("Hợp tác xã Ngọc Quế", "Hợp tác xã Tân Thành")
    ]
    db.add_all(owners)
    await db.flush()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    await db.execute(
        insert(Product),
        [
            {
                "owner_id": owners[i % 2].id,
                "name": f"Sản phẩm {i:05d}",
                "group": "food",
                "unit": "kg",
                "unit_step": 1,
                "price_vnd": 1000 + i,
                "commune": "Bắc Sơn",
                "province": "Lạng Sơn",
                "sort_name": f"san pham {i:05d}",
                "search_text": f"san pham {i:05d} {owners[i % 2].search_text}",
                "commune_key": "bac son",
                "stars": (3, 4, 5, None)[i % 4],
                "created_at": start + timedelta(minutes=i),
                "updated_at": start,
            }
            for i in range(5000)
        ],
    )
    if in_event:
        festival = Event(
            name="Mùa vàng Bắc Sơn",
            kind=EventKind.festival,
            starts_at=datetime(2026, 11, 1, tzinfo=UTC),
            ends_at=datetime(2026, 11, 8, tzinfo=UTC),
            commune="Bắc Sơn",
            province="Lạng Sơn",
        )
        db.add(festival)
        await db.flush()
        await db.execute(
            text(
                "INSERT INTO event_products (id, event_id, product_id, product_created_at, "
                "created_at, updated_at) SELECT gen_random_uuid(), :event, id, created_at, "
                "created_at, created_at FROM products WHERE price_vnd % 3 = 0"
            ),
            {"event": festival.id},
        )
        await db.execute(text("ANALYZE event_products"))
        query = query.model_copy(update={"event_id": festival.id})
    # What autovacuum would do: move the new rows' trigrams from the index's pending list
    # (scanned whole by every search, so costed high) into the index proper.
    await db.execute(text("SELECT gin_clean_pending_list('ix_products_search_text_trgm')"))
    await db.execute(text("ANALYZE products"))
    await db.execute(text("ANALYZE owners"))
    # A few thousand rows are still cheapest to scan; forbid that to see what the planner *can*
    # use (a walk of another index, checking every row, remains open to it).
    await db.execute(text("SET LOCAL enable_seqscan = off"))
    sql = await page_sql(db, query, today)
    rows = (await db.execute(text("EXPLAIN " + sql.replace("%%", "%")))).all()
    await db.rollback()
    return "\n".join(row[0] for row in rows)


def page_read_in_index_order(plan: str, index: str) -> bool:
    """Whether the page (the `Limit` that chooses it) is the first rows `index` gives, with no
    sort of every product between them (a sort of the page's rows afterwards is fine)."""
    before, found, _ = plan.partition(index)
    if not found:
        return False
    lines = before.splitlines()
    limit = max(i for i, line in enumerate(lines) if "Limit" in line)
    return not any("Sort" in line for line in lines[limit:])


async def test_search_uses_the_products_trigram_index(db: AsyncSession) -> None:
    plan = await plan_of(db, ProductQuery(q="pham 04321", sort=ProductSort.name))

    assert "ix_products_search_text_trgm" in plan, plan


async def test_search_by_owner_name_uses_the_same_index_and_no_owner_scan(
    db: AsyncSession,
) -> None:
    """The owner's name is in the products' search text: one predicate on one column."""
    plan = await plan_of(db, ProductQuery(q="ngoc que 04321", sort=ProductSort.name))

    assert "ix_products_search_text_trgm" in plan, plan
    assert "ix_owners_search_text_trgm" not in plan, plan
    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "'%ngoc%'" in index_cond, plan
    assert "'%04321%'" in index_cond, plan


async def test_sort_by_stars_reads_the_stars_index_in_order(db: AsyncSession) -> None:
    """No sort of every product by a computed value: the first page is the index's first rows."""
    plan = await plan_of(db, ProductQuery(sort=ProductSort.stars))

    assert page_read_in_index_order(plan, "ix_products_star_rank_sort_name_id"), plan
    assert "certificates" not in plan.split("SubPlan")[0], plan


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (ProductQuery(certified=True), "ix_products_certified_created_at_id"),
        (ProductQuery(min_stars=3), "ix_products_certified_created_at_id"),
        (ProductQuery(min_stars=4), "ix_products_four_stars_created_at_id"),
        (ProductQuery(min_stars=5), "ix_products_four_stars_created_at_id"),
    ],
)
async def test_certified_products_newest_first_walk_an_index_of_theirs(
    db: AsyncSession, query: ProductQuery, index: str
) -> None:
    """Not every product newest first, uncertified ones passed over (the newest are the least
    often certified, which the planner cannot know): the certified ones, or those of four
    stars or more."""
    plan = await plan_of(db, query)

    assert page_read_in_index_order(plan, index), plan


async def test_an_events_newest_page_walks_its_entries_in_order(db: AsyncSession) -> None:
    """Not every entered product looked up and sorted: the event's entries newest first, each
    to its product, until the page is full."""
    plan = await plan_of(db, ProductQuery(), in_event=True)

    assert page_read_in_index_order(
        plan, "ix_event_products_event_id_product_created_at_product_id"
    ), plan


async def test_a_page_past_a_cursor_seeks_the_index(db: AsyncSession) -> None:
    """The keyset condition is an index condition, not a filter over every earlier row."""
    today = date(2026, 6, 15)
    first = ProductQuery(sort=ProductSort.newest)
    cursor = ordering(first.sort).encode([datetime(2026, 6, 1, tzinfo=UTC), uuid.UUID(int=7)])
    query = ProductQuery(sort=ProductSort.newest, cursor=cursor)
    sql = await page_sql(db, query, today)
    await db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in (await db.execute(text("EXPLAIN " + sql))).all())
    await db.rollback()

    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "ix_products_status_created_at_id" in plan, plan
    assert "created_at" in index_cond, plan
    assert "id" in index_cond, plan


async def test_a_prepared_search_is_planned_for_its_values_every_time(db: AsyncSession) -> None:
    """Statements are prepared per connection; PostgreSQL would switch one to a generic plan
    (made without the values) after five runs, which for a search on a common word reads every
    match. The engine's connections plan each run for its values (`plan_cache_mode`)."""
    await db.execute(
        text(
            "PREPARE search(text) AS SELECT id FROM products "
            "WHERE search_text LIKE $1 ORDER BY created_at DESC LIMIT 21"
        )
    )
    plans = [
        "\n".join(row[0] for row in await db.execute(text("EXPLAIN EXECUTE search('%son%')")))
        for _ in range(8)
    ]
    await db.execute(text("DEALLOCATE search"))
    await db.rollback()
    assert all("'%son%'" in plan for plan in plans), plans[-1]
