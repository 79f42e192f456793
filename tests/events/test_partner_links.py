"""A partner key granted an event links its external ids, and changes nothing else."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app.models import Role
from tests.helpers import (
    CreateEventViaApi,
    FakeClock,
    KeyFactory,
    OwnerFactory,
    ScopedPartnerFactory,
    problem,
)

pytestmark = pytest.mark.anyio

TICKET = {"system": "ticketbox", "id": "EVT-1001"}


async def read(client: httpx.AsyncClient, event: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/v1/events/{event['id']}")).json()
    return body


async def test_a_granted_partner_links_its_ids(
    client: httpx.AsyncClient,
    create_event_via_api: CreateEventViaApi,
    make_scoped_partner: ScopedPartnerFactory,
    clock: FakeClock,
) -> None:
    event = await create_event_via_api(external_refs=[{"system": "vnpay", "id": "9"}])
    partner = await make_scoped_partner(uuid.UUID(event["id"]))
    clock.advance(timedelta(hours=1))

    response = await client.patch(
        f"/v1/events/{event['id']}",
        json={"external_refs": [{"system": "vnpay", "id": "9"}, TICKET]},
        headers=partner,
    )

    assert response.status_code == 200, response.text
    assert response.json()["external_refs"] == [TICKET, {"system": "vnpay", "id": "9"}]
    assert datetime.fromisoformat(response.json()["updated_at"]) > datetime.fromisoformat(
        event["updated_at"]
    )
    found = await client.get("/v1/events", params={"external_ref": "ticketbox:EVT-1001"})
    assert [e["id"] for e in found.json()["items"]] == [event["id"]]


async def test_a_granted_partner_honours_if_match(
    client: httpx.AsyncClient,
    create_event_via_api: CreateEventViaApi,
    make_scoped_partner: ScopedPartnerFactory,
) -> None:
    event = await create_event_via_api()
    partner = await make_scoped_partner(uuid.UUID(event["id"]))

    response = await client.patch(
        f"/v1/events/{event['id']}",
        json={"external_refs": [TICKET]},
        headers={**partner, "If-Match": '"0123456789abcdef0123456789abcdef-0123456789abcdef"'},
    )

    assert response.status_code == 412
    assert (await read(client, event))["external_refs"] == []


@pytest.mark.parametrize(
    "change",
    [
        {"venue": "Chợ Kỳ Lừa"},
        {"name": "Đổi tên", "external_refs": [TICKET]},
        {"description": None, "external_refs": [TICKET]},
    ],
)
async def test_a_granted_partner_changes_nothing_but_the_links(
    client: httpx.AsyncClient,
    create_event_via_api: CreateEventViaApi,
    make_scoped_partner: ScopedPartnerFactory,
    change: dict[str, Any],
) -> None:
    event = await create_event_via_api(description="Lễ hội")
    partner = await make_scoped_partner(uuid.UUID(event["id"]))
    before = await read(client, event)

    response = await client.patch(f"/v1/events/{event['id']}", json=change, headers=partner)

    assert response.status_code == 403
    body = problem(response)
    assert body["code"] == "fields_not_granted"
    assert body["fields"] == sorted(set(change) - {"external_refs"})
    assert await read(client, event) == before


async def test_a_partner_links_nothing_on_an_event_it_was_not_granted(
    client: httpx.AsyncClient,
    create_event_via_api: CreateEventViaApi,
    make_scoped_partner: ScopedPartnerFactory,
) -> None:
    granted = await create_event_via_api()
    other = await create_event_via_api(venue="Chợ Kỳ Lừa")
    partner = await make_scoped_partner(uuid.UUID(granted["id"]))
    before = await read(client, other)

    response = await client.patch(
        f"/v1/events/{other['id']}", json={"external_refs": [TICKET]}, headers=partner
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "event_not_granted"
    assert await read(client, other) == before


async def test_a_partner_without_grants_links_nothing(
    client: httpx.AsyncClient,
    create_event_via_api: CreateEventViaApi,
    make_key: KeyFactory,
) -> None:
    event = await create_event_via_api()
    partner = await make_key(Role.partner)

    response = await client.patch(
        f"/v1/events/{event['id']}", json={"external_refs": [TICKET]}, headers=partner
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "event_not_granted"
    assert (await read(client, event))["external_refs"] == []


async def test_an_owner_key_still_cannot_link(
    client: httpx.AsyncClient,
    create_event_via_api: CreateEventViaApi,
    make_key: KeyFactory,
    make_owner: OwnerFactory,
) -> None:
    event = await create_event_via_api()
    owner = await make_key(Role.owner, owner_id=uuid.UUID((await make_owner())["id"]))

    response = await client.patch(
        f"/v1/events/{event['id']}", json={"external_refs": [TICKET]}, headers=owner
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "forbidden_role"
