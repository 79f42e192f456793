"""The event sales report reads sums kept as orders are placed and cancelled: they always equal
the same report recomputed from the lines of the event's counted orders."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import EventSales, Product, Role
from app.reports.repository import EventSalesRepository, Sales, SalesRepository
from tests.helpers import (
    FakeClock,
    InsertEvent,
    InsertProduct,
    KeyFactory,
    OwnerFactory,
    idem,
    order_body,
)
from tests.servers import api_server

pytestmark = pytest.mark.anyio

ZONE = "Asia/Ho_Chi_Minh"


async def assert_sums_match_lines(db: AsyncSession, event_id: uuid.UUID) -> dict[str, Any]:
    """Each part of the report, from the sums and recomputed from the lines, is the same."""
    await db.rollback()  # a fresh snapshot
    sums, lines, of_event = EventSalesRepository(db), SalesRepository(db), Sales.of_event(event_id)
    report = {
        "totals": await sums.totals(event_id),
        "by_product": await sums.by_product(event_id),
        "by_day": await sums.by_day(event_id),
        "by_owner": await sums.by_owner(event_id),
    }
    assert report == {
        "totals": await lines.totals(of_event),
        "by_product": await lines.by_product(of_event),
        "by_day": await lines.by_day(of_event, ZONE),
        "by_owner": await lines.by_owner(of_event),
    }
    return report


async def test_random_orders_moves_and_racing_cancels_keep_the_sums_exact(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    clock: FakeClock,
    db: AsyncSession,
) -> None:
    rng = random.Random(13)
    owners = [uuid.UUID((await make_owner(name=f"HTX số {i}"))["id"]) for i in range(3)]
    products: list[Product] = [
        await insert_product(owner_id=owners[i % 3], name=f"Quýt vàng {i}", stock=None)
        for i in range(5)
    ]
    event = await insert_event(products={p.id: None for p in products}, days=4)
    other = await insert_event(products={p.id: 20_000 for p in products}, days=4)
    start = event.starts_at
    placed: list[str] = []
    for n in range(36):
        # Spread over the event's days, some just before or after local midnight.
        clock.set(start + timedelta(hours=rng.choice([1, 16, 17, 18, 40, 41, 64, 65])))
        chosen = rng.sample(products, rng.randint(1, 3))
        items = [(p, rng.choice([0.5, 1, 2.5, 10])) for p in chosen]
        if rng.random() < 0.3:
            items.append((chosen[0], 1))  # the same product twice: merged into one line
        at = other if n % 9 == 0 else event
        body = order_body(*items, event_id=str(at.id))
        response = await client.post("/v1/orders", json=body, headers=idem(partner))
        assert response.status_code == 201, response.text
        if at is event:
            placed.append(response.json()["id"])
        if n == 12:  # a line keeps the name and owner as ordered: both change here
            patched = await client.patch(
                f"/v1/products/{products[0].id}",
                json={"name": "Quýt vàng Bắc Sơn loại 1", "owner_id": str(owners[2])},
                headers=admin,
            )
            assert patched.status_code == 200, patched.text
    # Online orders never reach the sums.
    await client.post("/v1/orders", json=order_body((products[1], 3)), headers=idem(partner))

    moves: Counter[str] = Counter()
    for order_id in rng.sample(placed, 12):
        move = rng.choice(["confirm", "cancel", "race"])
        if move == "race":  # two cancels at once: one wins, the sums drop once
            responses = await asyncio.gather(
                *(client.post(f"/v1/orders/{order_id}/cancel", headers=admin) for _ in range(2))
            )
            assert sorted(r.status_code for r in responses) == [200, 409]
        else:
            response = await client.post(f"/v1/orders/{order_id}/{move}", headers=admin)
            assert response.status_code == 200, response.text
            if move == "confirm" and rng.random() < 0.5:  # confirmed, then cancelled
                cancel = await client.post(f"/v1/orders/{order_id}/cancel", headers=admin)
                assert cancel.status_code == 200, cancel.text
                move = "cancel"
        moves[move] += 1
    assert moves["race"] + moves["cancel"] > 0

    report = await assert_sums_match_lines(db, event.id)
    cancelled = moves["race"] + moves["cancel"]
    assert report["totals"][0] == len(placed) - cancelled
    assert len(report["by_day"]) >= 3
    # The renamed product is still one product, under the greatest name its lines hold.
    assert len(report["by_product"]) == len({row.product_id for row in report["by_product"]})
    await assert_sums_match_lines(db, other.id)

    # And the API answers these very sums.
    api = (await client.get(f"/v1/reports/events/{event.id}/sales", headers=admin)).json()
    assert (api["orders"], api["revenue_vnd"]) == report["totals"]
    assert [d["orders"] for d in api["by_day"]] == [d.orders for d in report["by_day"]]


async def test_a_cancel_leaves_zero_rows_that_the_report_does_not_show(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    db: AsyncSession,
) -> None:
    tea = await insert_product(name="Trà Bổ Khai", stock=None)
    event = await insert_event(products={tea.id: None})
    body = order_body((tea, 2), event_id=str(event.id))
    order = (await client.post("/v1/orders", json=body, headers=idem(partner))).json()
    assert (await client.post(f"/v1/orders/{order['id']}/cancel", headers=admin)).status_code == 200

    await db.rollback()
    row = (await db.execute(select(EventSales.lines, EventSales.quantity))).one()
    assert tuple(row) == (0, Decimal(0))
    api = (await client.get(f"/v1/reports/events/{event.id}/sales", headers=admin)).json()
    assert (api["orders"], api["by_product"], api["by_day"], api["by_owner"]) == (0, [], [], [])


@pytest.mark.slow
@pytest.mark.postgres_only
async def test_concurrent_orders_on_two_processes_lose_no_sum(
    database_url: str,
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    make_key: KeyFactory,
    db: AsyncSession,
) -> None:
    """60 orders at once for the same (event, product, local day), on two processes: every
    one adds to the same row, and none is lost."""
    mandarin = await insert_product(stock=None, unit_step=Decimal("0.5"))
    tea = await insert_product(name="Trà Bổ Khai", stock=None)
    now = datetime.now(UTC)
    event = await insert_event(
        products={mandarin.id: 30_000, tea.id: None}, starts_at=now - timedelta(days=1)
    )
    auth = await make_key(Role.partner, name="booth")
    bodies = [
        order_body((mandarin, 1.5), *([(tea, 1)] if i % 2 else []), event_id=str(event.id))
        for i in range(60)
    ]

    with api_server(database_url) as one, api_server(database_url) as two:
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            responses = await asyncio.gather(
                *(
                    http.post(f"{(one, two)[i % 2].url}/v1/orders", json=b, headers=idem(auth))
                    for i, b in enumerate(bodies)
                )
            )

    assert Counter(r.status_code for r in responses) == {201: 60}
    await db.rollback()
    lines, quantity = (
        await db.execute(
            select(func.sum(EventSales.lines), func.sum(EventSales.quantity)).where(
                EventSales.product_id == mandarin.id
            )
        )
    ).one()
    assert (lines, quantity) == (60, Decimal(90))
    report = await assert_sums_match_lines(db, event.id)
    assert report["totals"] == (60, 60 * 45_000 + 30 * 35_000)
