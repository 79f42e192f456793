"""Change feeds stay exact while others write: the settle window and the commit deadline
(app.core.changes)."""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api_keys import service as keys
from app.core.changes import restamp
from app.core.config import Environment, Settings
from app.core.db import begin_write
from app.core.errors import DatabaseTimeout
from app.demo.seed import seed_demo
from app.geography.service import Placed
from app.imports import products as importer
from app.models import Owner, OwnerKind, Product, ProductGroup, Role, Unit
from tests.helpers import InsertProduct, KeyFactory, problem, read_feed

pytestmark = pytest.mark.anyio

SETTLE_S = 1.0
DEADLINE_S = 0.5


@pytest.fixture
def feed_window() -> tuple[float, float | None]:
    """`feed_settle_s` and `feed_commit_deadline_s` (parametrize to change them)."""
    return SETTLE_S, DEADLINE_S


@pytest.fixture
def settings(settings: Settings, feed_window: tuple[float, float | None]) -> Settings:
    settle_s, deadline_s = feed_window
    return settings.model_copy(
        update={"feed_settle_s": settle_s, "feed_commit_deadline_s": deadline_s}
    )


async def change_price(session: AsyncSession, product_id: uuid.UUID, price_vnd: int) -> None:
    """Change a product's price in `session`'s transaction, left open."""
    await begin_write(session)
    product = await session.get(Product, product_id)
    assert product is not None
    product.price_vnd = price_vnd
    await session.flush()


async def price_of(app: FastAPI, product_id: uuid.UUID) -> int | None:
    async with app.state.sessionmaker() as session:
        price: int | None = await session.scalar(
            select(Product.price_vnd).where(Product.id == product_id)
        )
    return price


@pytest.mark.postgres_only
async def test_a_change_committed_after_a_later_one_is_still_served(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], insert_product: InsertProduct
) -> None:
    early, late = await insert_product(name="Sớm"), await insert_product(name="Muộn")
    await asyncio.sleep(SETTLE_S)
    _served, cursor = await read_feed(client, "/v1/products")

    async with app.state.sessionmaker() as held:
        # Stamped first, committed last: a plain `updated_at > cursor` feed would pass it by.
        await change_price(held, early.id, 1)
        response = await client.patch(
            f"/v1/products/{late.id}", json={"price_vnd": 2}, headers=admin
        )
        meanwhile, cursor_meanwhile = await read_feed(client, "/v1/products", cursor)
        await held.commit()
    await asyncio.sleep(SETTLE_S)
    after, _cursor = await read_feed(client, "/v1/products", cursor_meanwhile)

    assert response.status_code == 200
    assert (meanwhile, cursor_meanwhile) == ([], cursor)
    assert [(item["id"], item["price_vnd"]) for item in after] == [
        (str(early.id), 1),
        (str(late.id), 2),
    ]


@pytest.mark.postgres_only
async def test_a_change_that_would_commit_after_the_feed_passed_it_is_refused(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], insert_product: InsertProduct
) -> None:
    early, late = await insert_product(name="Sớm"), await insert_product(name="Muộn")
    await asyncio.sleep(SETTLE_S)
    _served, cursor = await read_feed(client, "/v1/products")

    async with app.state.sessionmaker() as held:
        await change_price(held, early.id, 1)
        await client.patch(f"/v1/products/{late.id}", json={"price_vnd": 2}, headers=admin)
        await asyncio.sleep(SETTLE_S)
        served, cursor = await read_feed(client, "/v1/products", cursor)
        with pytest.raises(DatabaseTimeout):
            await held.commit()
    await asyncio.sleep(SETTLE_S)
    after, _cursor = await read_feed(client, "/v1/products", cursor)

    assert [(item["id"], item["price_vnd"]) for item in served] == [(str(late.id), 2)]
    assert after == []
    assert await price_of(app, early.id) == early.price_vnd


async def test_a_commit_past_the_deadline_is_refused_and_rolled_back(
    app: FastAPI, insert_product: InsertProduct
) -> None:
    product = await insert_product()

    async with app.state.sessionmaker() as session:
        await change_price(session, product.id, 1)
        await asyncio.sleep(DEADLINE_S * 1.2)
        with pytest.raises(DatabaseTimeout) as refused:
            await session.commit()

    assert refused.value.instance_code == "commit_deadline"
    assert await price_of(app, product.id) == product.price_vnd


async def test_a_commit_within_the_deadline_goes_through(
    app: FastAPI, insert_product: InsertProduct
) -> None:
    product = await insert_product()

    async with app.state.sessionmaker() as session:
        await asyncio.sleep(DEADLINE_S * 1.2)  # the clock starts at the first write
        await change_price(session, product.id, 1)
        await session.commit()

    assert await price_of(app, product.id) == 1


async def test_a_transaction_that_writes_no_timestamped_row_has_no_deadline(
    app: FastAPI,
) -> None:
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        key, _token = await keys.create_key(session, name="slow", role=Role.admin, owner_id=None)
        await session.flush()
        await asyncio.sleep(DEADLINE_S * 1.2)
        await session.commit()

    async with app.state.sessionmaker() as session:
        assert (await keys.get_key(session, key.id)).name == "slow"


async def test_a_batch_that_restamps_its_rows_meets_the_deadline(
    app: FastAPI, insert_product: InsertProduct
) -> None:
    product = await insert_product()

    async with app.state.sessionmaker() as session:
        await change_price(session, product.id, 1)
        await asyncio.sleep(DEADLINE_S * 1.2)
        await restamp(session)
        restamped = await session.scalar(select(Product.updated_at).where(Product.id == product.id))
        await session.commit()

    assert await price_of(app, product.id) == 1
    assert restamped is not None
    assert (restamped - product.updated_at).total_seconds() >= DEADLINE_S * 1.2


async def test_an_import_that_runs_past_the_deadline_commits(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_row = importer._Writer._product

    async def slow_row(writer: Any, row: Any, owner: Owner, where: Placed | None) -> Product:
        product = await write_row(writer, row, owner, where)
        await asyncio.sleep(DEADLINE_S / 2)
        return product

    monkeypatch.setattr(importer._Writer, "_product", slow_row)
    rows = "".join(
        f"Hợp tác xã Một,Sản phẩm {i},food,kg,1000,Bắc Sơn,cooperative\n" for i in range(3)
    )
    csv = "owner_name,product_name,group,unit,price_vnd,commune,owner_kind\n" + rows

    response = await client.post(
        "/v1/products/import",
        content=csv.encode(),
        headers={**admin, "content-type": "text/csv; charset=utf-8"},
    )
    await asyncio.sleep(SETTLE_S)
    items, _cursor = await read_feed(client, "/v1/products")

    assert response.status_code == 200, response.text
    assert sorted(item["name"] for item in items) == [f"Sản phẩm {i}" for i in range(3)]


async def test_the_demo_seed_runs_past_the_deadline_and_commits(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        started = time.monotonic()
        report = await seed_demo(session)
        took_s = time.monotonic() - started
        await session.commit()
    await asyncio.sleep(SETTLE_S)
    orders, _cursor = await read_feed(client, "/v1/orders", headers=admin)

    assert took_s > DEADLINE_S  # (1338 orders, in one transaction)
    assert len(orders) == report.created["orders"]


@pytest.mark.parametrize("feed_window", [(SETTLE_S, 1e-6)])
async def test_a_request_that_commits_past_the_deadline_answers_503(
    app: FastAPI, client: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    # Rows written without the service's sessions, which every write would now fail.
    async with async_sessionmaker(app.state.engine, expire_on_commit=False)() as session:
        owner = Owner(
            name="Hợp tác xã", kind=OwnerKind.cooperative, commune="Bắc Sơn", province="Lạng Sơn"
        )
        session.add(owner)
        await session.flush()
        product = Product(
            owner_id=owner.id,
            name="Quýt vàng",
            group=ProductGroup.food,
            unit=Unit.kg,
            unit_step=Decimal(1),
            price_vnd=35_000,
            commune="Bắc Sơn",
            province="Lạng Sơn",
        )
        session.add(product)
        await session.commit()
    admin = await make_key(Role.admin)

    response = await client.patch(
        f"/v1/products/{product.id}", json={"price_vnd": 1}, headers=admin
    )

    assert response.status_code == 503
    assert problem(response)["code"] == "commit_deadline"
    assert response.headers["retry-after"] == "2"
    assert await price_of(app, product.id) == 35_000


def test_the_settle_window_must_outlast_the_commit_deadline() -> None:
    with pytest.raises(ValidationError, match="FEED_COMMIT_DEADLINE_S must be below"):
        Settings(feed_settle_s=10, feed_commit_deadline_s=10)


def test_production_needs_a_commit_deadline() -> None:
    with pytest.raises(ValidationError, match="FEED_COMMIT_DEADLINE_S must be set"):
        Settings(environment=Environment.production, feed_commit_deadline_s=None)
