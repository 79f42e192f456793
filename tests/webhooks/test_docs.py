"""The OpenAPI document's `webhooks`: one operation per event type, with the signature headers,
and a body schema that what the worker sends fits."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.expiry import HoldSweeper
from app.models import OutboxMessage
from app.webhooks.outbox import EVENT_TYPES, PING
from app.webhooks.worker import message_body
from tests.helpers import (
    CONTACT,
    CreateExperienceViaApi,
    FakeClock,
    HoldViaApi,
    InsertEvent,
    InsertProduct,
    idem,
    order_body,
)

pytestmark = pytest.mark.anyio

DOCUMENT_URI = "urn:ocop-api:openapi"


async def webhooks(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document and its `webhooks`."""
    doc: dict[str, Any] = (await client.get("/openapi.json")).json()
    return doc, doc["webhooks"]


async def test_every_event_type_is_a_webhook_with_the_signature_headers(
    client: httpx.AsyncClient,
) -> None:
    _doc, documented = await webhooks(client)

    headers = {
        event_type: [(p["name"], p["in"], p["required"]) for p in item["post"]["parameters"]]
        for event_type, item in documented.items()
    }

    signed = [
        ("webhook-id", "header", True),
        ("webhook-timestamp", "header", True),
        ("webhook-signature", "header", True),
    ]
    assert headers == dict.fromkeys((*EVENT_TYPES, PING), signed)


async def test_each_webhook_body_is_its_own_schema(client: httpx.AsyncClient) -> None:
    doc, documented = await webhooks(client)

    bodies = {
        event_type: item["post"]["requestBody"]["content"]["application/json"]["schema"]
        for event_type, item in documented.items()
    }

    assert bodies["order.created"] == {"$ref": "#/components/schemas/OrderCreatedWebhook"}
    created = doc["components"]["schemas"]["OrderCreatedWebhook"]
    assert created["properties"]["type"]["const"] == "order.created"
    assert created["properties"]["data"] == {"$ref": "#/components/schemas/OrderRead"}
    assert len(set(map(json.dumps, bodies.values()))) == len(EVENT_TYPES) + 1


async def test_what_the_worker_sends_fits_the_documented_body(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    sweeper: HoldSweeper,
    clock: FakeClock,
    db: AsyncSession,
) -> None:
    """Every event type, caused through the API; each message as the worker sends it, checked
    against the schema the document gives its type."""
    mandarin = await insert_product(stock=Decimal(12), unit_step=Decimal(1))  # threshold: 10
    festival = await insert_event(products={mandarin.id: None})
    orders = [
        (await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=idem(partner)))
        for _ in range(2)
    ]
    first, second = (order.json()["id"] for order in orders)
    for move in ("confirm", "fulfil"):
        assert (await client.post(f"/v1/orders/{first}/{move}", headers=admin)).status_code == 200
    assert (await client.post(f"/v1/orders/{second}/cancel", headers=admin)).status_code == 200
    patched = await client.patch(
        f"/v1/products/{mandarin.id}", json={"price_vnd": 40_000}, headers=admin
    )
    assert patched.status_code == 200
    moved = await client.patch(
        f"/v1/events/{festival.id}", json={"venue": "Sân vận động Bắc Sơn"}, headers=admin
    )
    assert moved.status_code == 200
    temple = (await create_experience_via_api())["product_id"]
    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    holds = [await hold_via_api(temple, date=tomorrow) for _ in range(3)]
    assert [hold.status_code for hold in holds] == [201] * 3, holds[0].text
    kept, dropped, _expiring = (hold.json()["id"] for hold in holds)
    confirm = {"contact": CONTACT}
    for booking, move, body in ((kept, "confirm", confirm), (dropped, "cancel", {})):
        moved = await client.post(f"/v1/bookings/{booking}/{move}", json=body, headers=admin)
        assert moved.status_code == 200, moved.text
    clock.advance(timedelta(hours=1))
    assert await sweeper.run_once() == 1  # the third hold expired
    doc, documented = await webhooks(client)
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    await db.rollback()
    sent = list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))

    errors = []
    for event in sent:
        schema = documented[event.type]["post"]["requestBody"]["content"]["application/json"]
        ref = DOCUMENT_URI + schema["schema"]["$ref"]
        validator = Draft202012Validator(
            {"$ref": ref}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        body = json.loads(message_body(event))
        errors += [f"{event.type}: {error.message}" for error in validator.iter_errors(body)]

    assert sorted({event.type for event in sent}) == sorted(EVENT_TYPES)
    assert errors == []
