"""No overselling and no double orders, whatever the concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Product, ProductStatus, Role
from app.orders.repository import OrderRepository
from app.products import stock
from tests.helpers import (
    InsertProduct,
    KeyFactory,
    idem,
    order_body,
    order_count,
    problem,
    stock_of,
    until_a_session_waits_for_a_lock,
)
from tests.servers import api_server

pytestmark = pytest.mark.anyio


async def test_32_concurrent_orders_never_oversell(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    """Through one process: on SQLite, writers queue for the lock instead of failing."""
    mandarin = await insert_product(stock=Decimal(20), unit_step=Decimal(1))

    responses = await asyncio.gather(
        *(
            client.post("/v1/orders", json=order_body((mandarin, 1)), headers=idem(partner))
            for _ in range(32)
        )
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 20, 409: 12}
    assert {problem(r)["code"] for r in responses if r.status_code == 409} == {"insufficient_stock"}
    assert await stock_of(db, mandarin) == Decimal(0)
    assert await order_count(db) == 20


async def _post_all(
    servers: list[str], requests: list[tuple[dict[str, str], dict[str, object]]]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        return await asyncio.gather(
            *(
                http.post(f"{servers[i % len(servers)]}/v1/orders", json=body, headers=headers)
                for i, (headers, body) in enumerate(requests)
            )
        )


@pytest.mark.postgres_only
async def test_200_orders_for_50_in_stock_on_two_processes(
    database_url: str, insert_product: InsertProduct, make_key: KeyFactory, db: AsyncSession
) -> None:
    mandarin = await insert_product(stock=Decimal(50), unit_step=Decimal(1))
    auth = await make_key(Role.partner, name="load")

    with api_server(database_url) as one, api_server(database_url) as two:
        responses = await _post_all(
            [one.url, two.url], [(idem(auth), order_body((mandarin, 1))) for _ in range(200)]
        )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 50, 409: 150}
    assert {problem(r)["code"] for r in responses if r.status_code == 409} == {"insufficient_stock"}
    assert await stock_of(db, mandarin) == Decimal(0)
    assert await order_count(db) == 50


@pytest.mark.postgres_only
async def test_100_orders_sent_3_times_at_once_create_100(
    database_url: str, insert_product: InsertProduct, make_key: KeyFactory, db: AsyncSession
) -> None:
    mandarin = await insert_product(stock=Decimal(1000), unit_step=Decimal(1))
    auth = await make_key(Role.partner, name="retrying app")
    keys = [uuid.uuid4().hex for _ in range(100)]
    sends = [(idem(auth, key), order_body((mandarin, 1))) for key in keys for _ in range(3)]

    with api_server(database_url) as one, api_server(database_url) as two:
        servers = [one.url, two.url]
        responses = await _post_all(servers, sends)
        # A client told "still in progress" (409 + Retry-After) asks again, as clients do.
        for _ in range(10):
            pending = [i for i, r in enumerate(responses) if r.status_code == 409]
            if not pending:
                break
            await asyncio.sleep(float(responses[pending[0]].headers["retry-after"]))
            retried = await _post_all(servers, [sends[i] for i in pending])
            for i, response in zip(pending, retried, strict=True):
                responses[i] = response

    assert Counter(r.status_code for r in responses) == {201: 300}
    for k in range(100):
        answers = responses[3 * k : 3 * k + 3]
        assert len({r.json()["id"] for r in answers}) == 1
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 2
    assert await order_count(db) == 100
    assert await stock_of(db, mandarin) == Decimal(900)


@pytest.mark.postgres_only
async def test_a_product_archived_while_being_ordered_is_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stock is taken only from a product still active when the order takes it."""
    mandarin = await insert_product(stock=Decimal(10))
    read_products = OrderRepository.products

    async def read_then_archive(self: OrderRepository, ids: Sequence[uuid.UUID]) -> Any:
        found = await read_products(self, ids)
        async with app.state.writer_sessionmaker() as admin_session:  # another request, say
            await admin_session.execute(
                update(Product)
                .where(Product.id == mandarin.id)
                .values(status=ProductStatus.archived)
            )
            await admin_session.commit()
        return found

    monkeypatch.setattr(OrderRepository, "products", read_then_archive)

    response = await client.post(
        "/v1/orders", json=order_body((mandarin, 1)), headers=idem(partner)
    )

    assert response.status_code == 409
    assert problem(response)["code"] == "product_unavailable"
    assert await stock_of(db, mandarin) == Decimal(10)
    assert await order_count(db) == 0


@pytest.mark.postgres_only
async def test_a_cancel_and_an_order_locking_the_same_products_do_not_deadlock(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    """Stock is taken and returned in one order of products (by id), whatever the lines'."""
    first, second = sorted(
        [await insert_product(stock=Decimal(10)) for _ in range(2)], key=lambda p: p.id
    )
    placed = await client.post(
        "/v1/orders", json=order_body((second, 1), (first, 1)), headers=idem(partner)
    )
    assert placed.status_code == 201, placed.text

    # Another order is between taking the first product's stock and the second's when the
    # cancel comes; the cancel must queue for the first rather than lock the second meanwhile.
    async with app.state.writer_sessionmaker() as placing:
        assert await stock.take(placing, first.id, Decimal(1)) is not None
        cancel = asyncio.create_task(
            client.post(f"/v1/orders/{placed.json()['id']}/cancel", headers=admin)
        )
        await until_a_session_waits_for_a_lock(app)
        assert await stock.take(placing, second.id, Decimal(1)) is not None
        await placing.commit()
    cancelled = await cancel

    assert cancelled.status_code == 200, cancelled.text
    assert [await stock_of(db, p) for p in (first, second)] == [Decimal(9), Decimal(9)]
