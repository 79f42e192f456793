"""A ticketing system's partner key, scoped by an admin to one festival: it links its own id,
reads that festival's sales and hears its changes, and may do none of it on another festival."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models import Event, OutboxMessage, Product, Role
from app.webhooks.worker import DeliveryWorker
from tests.helpers import (
    FakeClock,
    InsertEvent,
    InsertProduct,
    KeyFactory,
    csv_rows,
    idem,
    order_body,
    problem,
)

pytestmark = pytest.mark.anyio

TICKETBOX = {"system": "ticketbox", "id": "TB-2025-0042"}
# Nothing listens there: these tests look at the deliveries made, not at their sending.
HOOK_URL = "http://127.0.0.1:9/ticketbox"


@pytest.fixture
async def worker(
    app: FastAPI, settings: Settings, clock: FakeClock
) -> AsyncIterator[DeliveryWorker]:
    w = DeliveryWorker(app.state.sessionmaker, settings, clock=clock)
    yield w
    await w.aclose()


@pytest.fixture
async def mandarin(insert_product: InsertProduct) -> Product:
    return await insert_product(price_vnd=35_000, stock=Decimal(1000))


@pytest.fixture
async def festivals(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    insert_event: InsertEvent,
    mandarin: Product,
) -> tuple[Event, Event]:
    """Two open festivals selling mandarins, with orders placed by a shop: 3 kg and 2 kg at
    the first, 10 kg at the second."""
    golden = await insert_event(products={mandarin.id: 30_000})
    ky_lua = await insert_event(products={mandarin.id: 32_000}, venue="Chợ Kỳ Lừa")
    shop = await make_key(Role.partner, name="shop")
    for event, kg in ((golden, 3), (golden, 2), (ky_lua, 10)):
        placed = await client.post(
            "/v1/orders",
            json=order_body((mandarin, kg), event_id=str(event.id)),
            headers=idem(shop),
        )
        assert placed.status_code == 201, placed.text
    return golden, ky_lua


@pytest.fixture
async def ticketbox(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    festivals: tuple[Event, Event],
) -> dict[str, str]:
    """The ticketing system's key, granted the first festival by an admin through the API."""
    headers = await make_key(Role.partner, name="ticketbox")
    keys = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    key_id = next(k["id"] for k in keys if k["name"] == "ticketbox")
    granted = await client.put(f"/v1/api-keys/{key_id}/events/{festivals[0].id}", headers=admin)
    assert granted.status_code == 201, granted.text
    return headers


async def subscribe(client: httpx.AsyncClient, key: dict[str, str]) -> str:
    created = await client.post(
        "/v1/webhooks", json={"url": HOOK_URL, "event_types": ["event.updated"]}, headers=key
    )
    assert created.status_code == 201, created.text
    endpoint_id: str = created.json()["id"]
    return endpoint_id


async def heard(client: httpx.AsyncClient, key: dict[str, str], endpoint_id: str) -> list[str]:
    """The types of the endpoint's deliveries, oldest first."""
    response = await client.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=key)
    assert response.status_code == 200, response.text
    return [d["type"] for d in reversed(response.json()["items"])]


async def messages_about(db: AsyncSession, event: Event) -> int:
    """The webhook messages written about the event."""
    await db.rollback()
    stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.event_id == event.id)
    return int(await db.scalar(stmt) or 0)


async def snapshot(client: httpx.AsyncClient, event: Event) -> tuple[dict[str, Any], str]:
    response = await client.get(f"/v1/events/{event.id}")
    body: dict[str, Any] = response.json()
    return body, response.headers["etag"]


async def test_the_scoped_key_does_its_job_on_its_festival(
    client: httpx.AsyncClient,
    ticketbox: dict[str, str],
    festivals: tuple[Event, Event],
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    golden, _ = festivals
    endpoint_id = await subscribe(client, ticketbox)
    before, etag = await snapshot(client, golden)
    clock.advance(timedelta(minutes=5))

    linked = await client.patch(
        f"/v1/events/{golden.id}",
        json={"external_refs": [TICKETBOX]},
        headers={**ticketbox, "If-Match": etag},
    )
    sales = await client.get(f"/v1/reports/events/{golden.id}/sales", headers=ticketbox)
    sales_csv = await client.get(
        f"/v1/reports/events/{golden.id}/sales", headers={**ticketbox, "Accept": "text/csv"}
    )
    await worker.dispatch()

    assert linked.status_code == 200, linked.text
    after, new_etag = await snapshot(client, golden)
    assert after["external_refs"] == [TICKETBOX]
    assert after["updated_at"] != before["updated_at"]
    assert new_etag != etag
    assert {k: v for k, v in after.items() if k not in ("external_refs", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("external_refs", "updated_at")
    }
    assert sales.status_code == 200, sales.text
    assert (sales.json()["orders"], sales.json()["revenue_vnd"]) == (2, 150_000)
    assert sales_csv.status_code == 200
    total = [r for r in csv_rows(sales_csv) if r["section"] == "total"]
    assert [(r["orders"], r["revenue_vnd"]) for r in total] == [("2", "150000")]
    assert await heard(client, ticketbox, endpoint_id) == ["event.updated"]


async def test_the_scoped_key_is_refused_on_another_festival_and_changes_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ticketbox: dict[str, str],
    festivals: tuple[Event, Event],
    worker: DeliveryWorker,
    clock: FakeClock,
    db: AsyncSession,
) -> None:
    _, ky_lua = festivals
    endpoint_id = await subscribe(client, ticketbox)
    before = await snapshot(client, ky_lua)
    clock.advance(timedelta(minutes=5))

    linked = await client.patch(
        f"/v1/events/{ky_lua.id}", json={"external_refs": [TICKETBOX]}, headers=ticketbox
    )
    sales = await client.get(f"/v1/reports/events/{ky_lua.id}/sales", headers=ticketbox)
    sales_csv = await client.get(
        f"/v1/reports/events/{ky_lua.id}/sales", headers={**ticketbox, "Accept": "text/csv"}
    )
    await worker.dispatch()

    assert [linked.status_code, sales.status_code, sales_csv.status_code] == [403, 403, 403]
    assert {problem(r)["code"] for r in (linked, sales, sales_csv)} == {"event_not_granted"}
    assert await snapshot(client, ky_lua) == before
    assert await messages_about(db, ky_lua) == 0
    assert await heard(client, ticketbox, endpoint_id) == []
    # The festival's own changes (an admin's) do not reach the key either.
    changed = await client.patch(
        f"/v1/events/{ky_lua.id}", json={"venue": "Chợ Đông Kinh"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    await worker.dispatch()
    assert await heard(client, ticketbox, endpoint_id) == []


async def test_a_partner_without_grants_cannot_subscribe_to_what_it_would_never_hear(
    client: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    plain = await make_key(Role.partner, name="no grants")

    refused = await client.post(
        "/v1/webhooks",
        json={"url": HOOK_URL, "event_types": ["event.updated", "stock.low"]},
        headers=plain,
    )
    listed = await client.get("/v1/webhooks", headers=plain)

    assert refused.status_code == 422
    assert problem(refused)["event_types"] == ["event.updated", "stock.low"]
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_an_unknown_event_is_refused_to_the_scoped_key_as_any_other(
    client: httpx.AsyncClient, ticketbox: dict[str, str]
) -> None:
    response = await client.get(f"/v1/reports/events/{uuid.uuid4()}/sales", headers=ticketbox)

    assert response.status_code == 403
    assert problem(response)["code"] == "event_not_granted"
