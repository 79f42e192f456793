"""Who hears which webhook type: `GET /v1/webhooks/event-types`, and subscriptions to a type
the key cannot hear refused."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.models import OutboxMessage, WebhookEndpoint
from app.models.api_key import Role
from app.webhooks import catalogue
from app.webhooks.outbox import EVENT_TYPES
from tests.helpers import (
    InsertEvent,
    KeyFactory,
    OwnerFactory,
    ScopedPartnerFactory,
    problem,
)

pytestmark = pytest.mark.anyio

URL = "https://hooks.example.com/ocop"
ORDERS = ["order.created", "order.confirmed", "order.fulfilled", "order.cancelled"]
BOOKINGS = ["booking.created", "booking.confirmed", "booking.cancelled", "booking.expired"]


async def count_endpoints(db: AsyncSession) -> int:
    await db.rollback()
    return int(await db.scalar(select(func.count()).select_from(WebhookEndpoint)) or 0)


async def subscribe(client: httpx.AsyncClient, key: dict[str, str], *types: str) -> httpx.Response:
    return await client.post(
        "/v1/webhooks", json={"url": URL, "event_types": list(types)}, headers=key
    )


def audience(item: dict[str, Any]) -> dict[str, str]:
    return {h["role"]: h["reach"] for h in item["audience"]}


async def test_the_catalogue_lists_every_type_with_its_audience_and_payload(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/v1/webhooks/event-types", headers=admin)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["type"] for i in items] == list(EVENT_TYPES)
    assert {i["type"]: (i["payload_schema"], audience(i)) for i in items} == {
        **{
            t: ("OrderRead", {"admin": "every", "owner": "named", "partner": "named"})
            for t in ORDERS
        },
        "product.updated": (
            "ProductRead",
            {"admin": "every", "owner": "named", "partner": "every"},
        ),
        "stock.low": ("StockLowData", {"admin": "every", "owner": "named"}),
        "event.updated": ("EventRead", {"admin": "every", "owner": "named", "partner": "granted"}),
        **{
            t: ("BookingRead", {"admin": "every", "owner": "named", "partner": "named"})
            for t in BOOKINGS
        },
    }
    assert all(i["description"] and i["subscribable"] for i in items)


async def test_every_payload_schema_the_catalogue_names_is_in_the_document(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    items = (await client.get("/v1/webhooks/event-types", headers=admin)).json()["items"]
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]

    assert [i["payload_schema"] for i in items if i["payload_schema"] not in schemas] == []


async def test_the_catalogue_says_what_a_partner_may_subscribe_to(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    make_scoped_partner: ScopedPartnerFactory,
    insert_event: InsertEvent,
) -> None:
    plain = await make_key(Role.partner, name="shop")
    scoped = await make_scoped_partner((await insert_event()).id)

    def subscribable(response: httpx.Response) -> list[str]:
        return [i["type"] for i in response.json()["items"] if i["subscribable"]]

    as_plain = await client.get("/v1/webhooks/event-types", headers=plain)
    as_scoped = await client.get("/v1/webhooks/event-types", headers=scoped)

    assert subscribable(as_plain) == [*ORDERS, "product.updated", *BOOKINGS]
    assert subscribable(as_scoped) == [*ORDERS, "product.updated", "event.updated", *BOOKINGS]


async def test_the_catalogue_needs_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/webhooks/event-types")

    assert response.status_code == 401


async def test_a_partner_without_grants_cannot_subscribe_to_what_it_cannot_hear(
    client: httpx.AsyncClient, partner: dict[str, str], db: AsyncSession
) -> None:
    response = await subscribe(client, partner, "order.created", "event.updated", "stock.low")

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "inaudible_event_types"
    assert body["event_types"] == ["event.updated", "stock.low"]
    assert [e["loc"] for e in body["errors"]] == [
        ["body", "event_types", 1],
        ["body", "event_types", 2],
    ]
    assert await count_endpoints(db) == 0


async def test_a_partner_subscribes_to_the_public_catalogues_changes(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    response = await subscribe(client, partner, "order.created", "product.updated")

    assert response.status_code == 201, response.text


async def test_a_partner_granted_an_event_subscribes_to_event_updates(
    client: httpx.AsyncClient,
    make_scoped_partner: ScopedPartnerFactory,
    insert_event: InsertEvent,
) -> None:
    scoped = await make_scoped_partner((await insert_event()).id)

    response = await subscribe(client, scoped, "event.updated")

    assert response.status_code == 201, response.text


async def test_an_owner_and_an_admin_subscribe_to_every_type(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    make_owner: OwnerFactory,
) -> None:
    owner = await make_key(Role.owner, owner_id=uuid.UUID((await make_owner())["id"]))

    for key in (admin, owner):
        assert (await subscribe(client, key, *EVENT_TYPES)).status_code == 201


async def test_an_update_to_a_type_the_key_cannot_hear_is_refused(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    created = (await subscribe(client, partner, "order.created")).json()

    response = await client.patch(
        f"/v1/webhooks/{created['id']}", json={"event_types": ["stock.low"]}, headers=partner
    )

    assert response.status_code == 422
    assert problem(response)["event_types"] == ["stock.low"]
    after = await client.get(f"/v1/webhooks/{created['id']}", headers=partner)
    assert after.json()["event_types"] == ["order.created"]


def message(type_: str, **audience: Any) -> OutboxMessage:
    return OutboxMessage(
        type=type_, payload={}, owner_ids=audience.pop("owner_ids", []), **audience
    )


def test_each_role_hears_as_the_catalogue_says() -> None:
    festival, other, owner_id, placer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    admin = Principal(uuid.uuid4(), Role.admin, None)
    owner = Principal(uuid.uuid4(), Role.owner, owner_id)
    placing = Principal(placer, Role.partner, None)
    granted = Principal(uuid.uuid4(), Role.partner, None, frozenset({festival}))
    listeners = (admin, owner, placing, granted)
    messages = {
        "order of the owner, placed by the partner": message(
            "order.created", owner_ids=[str(owner_id)], partner_key_id=placer
        ),
        "another owner's product": message("product.updated", owner_ids=[str(uuid.uuid4())]),
        "the owner's low stock": message("stock.low", owner_ids=[str(owner_id)]),
        "the granted festival": message("event.updated", event_id=festival),
        "another festival, the owner selling there": message(
            "event.updated", event_id=other, owner_ids=[str(owner_id)]
        ),
    }

    heard = {
        name: [catalogue.hears(listener, m) for listener in listeners]
        for name, m in messages.items()
    }

    assert heard == {
        "order of the owner, placed by the partner": [True, True, True, False],
        "another owner's product": [True, False, True, True],
        "the owner's low stock": [True, True, False, False],
        "the granted festival": [True, False, False, True],
        "another festival, the owner selling there": [True, True, False, False],
    }
