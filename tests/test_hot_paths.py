"""How many SQL statements one request of each hot path runs, pinned per database.

The public catalogue (list, detail, search, an event's products), placing an order, an
experience's availability calendar and reserving a booking (a hold): each test counts the
statements the app's engine runs for one request, after a first request has warmed the key
(its first use also stamps `last_used_at`), and asserts the exact number on each database (SQLite's
count includes the explicit BEGIN the app issues there). A change that adds a statement fails
here; one that removes some updates the pin.
"""

from __future__ import annotations

from collections.abc import Awaitable

import httpx
import pytest
from fastapi import FastAPI

from app.models import Product
from tests.database import BACKEND
from tests.helpers import (
    CreateExperienceViaApi,
    FakeClock,
    HoldViaApi,
    InsertEvent,
    InsertProduct,
    counting_statements,
    idem,
    order_body,
    vn,
)

pytestmark = pytest.mark.anyio


def pinned(sqlite: int, postgres: int) -> int:
    """The number of statements on this run's database."""
    return {"sqlite": sqlite, "postgres": postgres}[BACKEND]


@pytest.fixture
def clock() -> FakeClock:
    """1 November 2025, 08:00 in the province: before the dates the experience tests book."""
    return FakeClock(vn(1, 8))


@pytest.fixture
async def catalogue(insert_product: InsertProduct) -> list[Product]:
    return [await insert_product(name=f"Quýt vàng Bắc Sơn {i}", stock=100) for i in range(3)]


async def statements_of(app: FastAPI, request: Awaitable[httpx.Response]) -> list[str]:
    """The statements of one request (`request` not yet awaited)."""
    with counting_statements(app) as statements:
        response = await request
    assert response.status_code in (200, 201), response.text
    return statements


async def test_the_catalogue_list(
    app: FastAPI, client: httpx.AsyncClient, catalogue: list[Product]
) -> None:
    assert len(await statements_of(app, client.get("/v1/products?limit=20"))) == pinned(2, 1)


async def test_a_product(app: FastAPI, client: httpx.AsyncClient, catalogue: list[Product]) -> None:
    path = f"/v1/products/{catalogue[0].id}"
    assert len(await statements_of(app, client.get(path))) == pinned(2, 1)


async def test_a_search(app: FastAPI, client: httpx.AsyncClient, catalogue: list[Product]) -> None:
    path = "/v1/products?q=quyt%20bac%20son"
    assert len(await statements_of(app, client.get(path))) == pinned(2, 1)


async def test_an_events_products(
    app: FastAPI,
    client: httpx.AsyncClient,
    catalogue: list[Product],
    insert_event: InsertEvent,
) -> None:
    event = await insert_event(products={p.id: 30_000 for p in catalogue})
    path = f"/v1/events/{event.id}/products"
    assert len(await statements_of(app, client.get(path))) == pinned(2, 1)


async def test_placing_an_order(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    catalogue: list[Product],
) -> None:
    body = order_body((catalogue[0], 1), (catalogue[1], 2))
    warm = await client.post("/v1/orders", json=body, headers=idem(partner))
    assert warm.status_code == 201, warm.text
    placing = client.post("/v1/orders", json=body, headers=idem(partner))
    assert len(await statements_of(app, placing)) == pinned(12, 11)


async def test_placing_an_event_order(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    catalogue: list[Product],
    insert_event: InsertEvent,
) -> None:
    """An order at an event runs three more statements than one online: the event (open?), its
    entries of the products (their prices), and the upsert of its sales sums: all its lines in
    one multi-row INSERT ... ON CONFLICT DO UPDATE, deliberately, so that the event's sales
    report reads sums proportional to its products and days instead of every line."""
    event = await insert_event(products={p.id: 30_000 for p in catalogue})
    body = order_body((catalogue[0], 1), (catalogue[1], 2), event_id=str(event.id))
    warm = await client.post("/v1/orders", json=body, headers=idem(partner))
    assert warm.status_code == 201, warm.text
    placing = client.post("/v1/orders", json=body, headers=idem(partner))
    statements = await statements_of(app, placing)
    assert sum(s.startswith("INSERT INTO event_sales") for s in statements) == 1
    assert len(statements) == pinned(15, 14)


async def test_an_availability_calendar(
    app: FastAPI,
    client: httpx.AsyncClient,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    product_id = (await create_experience_via_api())["product_id"]
    assert (await hold_via_api(product_id)).status_code == 201
    path = f"/v1/experiences/{product_id}/availability/calendar?from=2025-11-01&to=2025-11-30"
    assert len(await statements_of(app, client.get(path))) == pinned(5, 4)


async def test_reserving_a_booking(
    app: FastAPI,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    product_id = (await create_experience_via_api())["product_id"]
    assert (await hold_via_api(product_id)).status_code == 201
    assert len(await statements_of(app, hold_via_api(product_id))) == pinned(15, 14)
