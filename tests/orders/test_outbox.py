"""Changes announce themselves to webhooks through the outbox, in their own transaction."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiKey, OutboxMessage
from tests.helpers import InsertEvent, InsertProduct, idem, order_body

pytestmark = pytest.mark.anyio


async def outbox(db: AsyncSession) -> list[OutboxMessage]:
    await db.rollback()
    return list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


async def key_id(db: AsyncSession, headers: dict[str, str]) -> uuid.UUID:
    prefix = headers["Authorization"].split("_")[1]
    found = await db.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix))
    assert found is not None
    return found


async def test_placing_an_order_announces_it_to_its_partner_and_sellers(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(100))

    order = (
        await client.post("/v1/orders", json=order_body((mandarin, 2)), headers=idem(partner))
    ).json()

    events = await outbox(db)
    assert [e.type for e in events] == ["order.created"]
    assert events[0].payload == order
    assert events[0].owner_ids == [str(mandarin.owner_id)]
    assert events[0].partner_key_id == await key_id(db, partner)


async def test_a_refused_order_announces_nothing(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(1))

    response = await client.post(
        "/v1/orders", json=order_body((mandarin, 2)), headers=idem(partner)
    )

    assert response.status_code == 409
    assert await outbox(db) == []


async def test_status_changes_are_announced(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product()
    order = (
        await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=idem(partner))
    ).json()

    await client.post(f"/v1/orders/{order['id']}/confirm", headers=admin)
    cancelled = (await client.post(f"/v1/orders/{order['id']}/cancel", headers=admin)).json()

    events = await outbox(db)
    assert [e.type for e in events] == ["order.created", "order.confirmed", "order.cancelled"]
    assert events[2].payload == cancelled
    assert events[2].partner_key_id == await key_id(db, partner)


async def test_stock_low_is_announced_once_as_the_stock_crosses_the_threshold(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(15), unit_step=Decimal(1))  # threshold: 10

    for quantity in (4, 2, 1):  # 11 left, then 9 (crossing), then 8
        response = await client.post(
            "/v1/orders", json=order_body((mandarin, quantity)), headers=idem(partner)
        )
        assert response.status_code == 201

    low = [e for e in await outbox(db) if e.type == "stock.low"]
    assert len(low) == 1
    assert low[0].payload == {
        "product_id": str(mandarin.id),
        "name": "Quýt vàng Bắc Sơn",
        "unit": "kg",
        "stock": 9,
        "threshold": 10,
    }
    assert low[0].owner_ids == [str(mandarin.owner_id)]


async def test_event_changes_are_announced_to_its_sellers(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product()
    festival = await insert_event(products={mandarin.id: None})

    patched = await client.patch(
        f"/v1/events/{festival.id}", json={"venue": "Sân vận động Bắc Sơn"}, headers=admin
    )
    cancelled = await client.post(f"/v1/events/{festival.id}/cancel", headers=admin)

    assert patched.status_code == cancelled.status_code == 200
    events = await outbox(db)
    assert [e.type for e in events] == ["event.updated", "event.updated"]
    assert events[0].payload["venue"] == "Sân vận động Bắc Sơn"
    assert events[1].payload["status"] == "cancelled"
    assert all(e.owner_ids == [str(mandarin.owner_id)] for e in events)


async def test_product_changes_are_announced_to_its_owner(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product()

    response = await client.patch(
        f"/v1/products/{mandarin.id}", json={"price_vnd": 40_000}, headers=admin
    )

    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    events = await outbox(db)
    assert [e.type for e in events] == ["product.updated"]
    assert events[0].payload["price_vnd"] == body["price_vnd"] == 40_000
    assert events[0].owner_ids == [str(mandarin.owner_id)]


async def test_metrics_count_orders_and_refusals(
    client: httpx.AsyncClient, partner: dict[str, str], insert_product: InsertProduct
) -> None:
    mandarin = await insert_product(stock=Decimal(1), unit_step=Decimal(1))

    def value(text: str, name: str) -> float:
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))

    before = (await client.get("/metrics")).text
    await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=idem(partner))
    await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=idem(partner))
    after = (await client.get("/metrics")).text

    placed = 'ocop_orders_placed_total{channel="online"}'
    refused = "ocop_insufficient_stock_refusals_total"
    assert value(after, placed) - value(before, placed) == 1
    assert value(after, refused) - value(before, refused) == 1
