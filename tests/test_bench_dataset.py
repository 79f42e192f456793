"""The benchmark's dataset generator (bench/dataset.py) writes rows the API reads as its own:
derived keys by the models' rules, and event sales sums equal to the report over the lines."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.core.config import Environment, Settings
from app.core.db import create_engine, create_sessionmaker
from app.models import Certificate, Event, Order, Owner, Product
from app.products.stars import current_stars
from app.reports.repository import EventSalesRepository, Sales, SalesRepository
from bench import dataset
from tests import database

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


async def _check(url: str) -> None:
    engine = create_engine(Settings(environment=Environment.test, database_url=url))
    async with create_sessionmaker(engine)() as s:
        assert await s.scalar(select(func.count()).select_from(Product)) == 400
        assert await s.scalar(select(func.count()).select_from(Owner)) == 30
        assert await s.scalar(select(func.count()).select_from(Order)) == 600
        stars = await s.scalars(select(Certificate.stars).distinct())
        assert set(stars) <= {3, 4, 5}
        assert (await s.scalar(select(func.count(current_stars(dataset.TODAY)))) or 0) > 0
        stale = select(func.count()).where(
            Product.stars.is_distinct_from(current_stars(dataset.TODAY))
        )
        assert await s.scalar(stale) == 0
        owners = {owner.id: owner for owner in await s.scalars(select(Owner))}
        for owner in owners.values():
            keys = (owner.sort_name, owner.search_text, owner.commune_key)
            owner.derive_keys()
            assert (owner.sort_name, owner.search_text, owner.commune_key) == keys
        for product in await s.scalars(select(Product)):
            keys = (product.sort_name, product.search_text, product.commune_key)
            product.derive_keys(owners[product.owner_id].search_text)
            assert (product.sort_name, product.search_text, product.commune_key) == keys
        events = list(await s.scalars(select(Event.id)))
        assert len(events) == 4
        for event_id in events:
            sums, lines, of = EventSalesRepository(s), SalesRepository(s), Sales.of_event(event_id)
            assert (await sums.totals(event_id))[0] > 0
            assert await sums.totals(event_id) == await lines.totals(of)
            assert await sums.by_product(event_id) == await lines.by_product(of)
            assert await sums.by_day(event_id) == await lines.by_day(of, dataset.TIMEZONE)
            assert await sums.by_owner(event_id) == await lines.by_owner(of)
    await engine.dispose()


def test_a_small_dataset_is_what_the_api_would_have_written() -> None:
    name = f"{database.PREFIX}bench_{uuid.uuid4().hex[:10]}"
    params = dataset.Params(products=400, owners=30, orders=600, seed=7)
    server = make_url(database.POSTGRES_SERVER_URL).set(drivername="postgresql")
    try:
        url = asyncio.run(
            dataset.ensure(
                str(server.render_as_string(False)), params, name=name, log=lambda _line: None
            )
        )
        asyncio.run(_check(url))
        # Built once: a second call finds it complete and keeps it.
        again: list[str] = []
        asyncio.run(
            dataset.ensure(server.render_as_string(False), params, name=name, log=again.append)
        )
        assert again == [f"{name}: complete ({params.signature}), reused"]
    finally:

        async def drop() -> None:
            conn = await asyncpg.connect(server.render_as_string(False))
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()

        asyncio.run(drop())
