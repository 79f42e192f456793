from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, EventExternalRef
from tests.helpers import CreateEventViaApi, FakeClock, problem, vn

pytestmark = pytest.mark.anyio

TICKET = {"system": "ticketbox", "id": "EVT-1001"}


def event_body(name: str, *refs: dict[str, str]) -> dict[str, object]:
    return {
        "name": name,
        "kind": "festival",
        "starts_at": vn(3).isoformat(),
        "ends_at": vn(9).isoformat(),
        "commune": "Bắc Sơn",
        "external_refs": list(refs),
    }


async def count(db: AsyncSession, model: type[Event] | type[EventExternalRef]) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_taken_pair_is_409_and_names_the_holder(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    db: AsyncSession,
) -> None:
    holder = await create_event_via_api(external_refs=[TICKET])

    response = await client.post(
        "/v1/events",
        json=event_body("second", {"system": "vnpay", "id": "1"}, TICKET),
        headers=admin,
    )

    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "external_ref_taken"
    assert body["external_refs"] == [{**TICKET, "event_id": holder["id"]}]
    assert (await count(db, Event), await count(db, EventExternalRef)) == (1, 1)


async def test_same_id_in_another_system_is_fine(
    client: httpx.AsyncClient, admin: dict[str, str], create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(external_refs=[TICKET])

    response = await client.post(
        "/v1/events",
        json=event_body("second", {"system": "vnpay", "id": "EVT-1001"}),
        headers=admin,
    )

    assert response.status_code == 201


async def test_two_concurrent_creates_with_one_pair_one_wins(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    responses = await asyncio.gather(
        client.post("/v1/events", json=event_body("first", TICKET), headers=admin),
        client.post("/v1/events", json=event_body("second", TICKET), headers=admin),
    )

    assert sorted(r.status_code for r in responses) == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    winner = next(r for r in responses if r.status_code == 201)
    assert problem(loser)["code"] == "external_ref_taken"
    assert problem(loser)["external_refs"] == [{**TICKET, "event_id": winner.json()["id"]}]
    assert (await count(db, Event), await count(db, EventExternalRef)) == (1, 1)


async def test_many_concurrent_creates_with_one_pair_one_wins(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    responses = await asyncio.gather(
        *(
            client.post("/v1/events", json=event_body(f"e{i}", TICKET), headers=admin)
            for i in range(6)
        )
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409, 409]
    assert (await count(db, Event), await count(db, EventExternalRef)) == (1, 1)


async def test_patch_replaces_the_refs_keeping_those_that_stay(
    client: httpx.AsyncClient, admin: dict[str, str], create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api(external_refs=[TICKET, {"system": "vnpay", "id": "9"}])

    response = await client.patch(
        f"/v1/events/{event['id']}",
        json={"external_refs": [TICKET, {"system": "zalo", "id": "z1"}]},
        headers=admin,
    )

    assert response.status_code == 200
    assert response.json()["external_refs"] == [TICKET, {"system": "zalo", "id": "z1"}]
    found = await client.get("/v1/events", params={"external_ref": "vnpay:9"})
    assert found.json()["items"] == []


async def test_patch_to_a_taken_pair_is_409_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], create_event_via_api: CreateEventViaApi
) -> None:
    holder = await create_event_via_api(external_refs=[TICKET])
    other = await create_event_via_api(name="other", venue="here")

    response = await client.patch(
        f"/v1/events/{other['id']}",
        json={"venue": "there", "external_refs": [TICKET]},
        headers=admin,
    )

    assert response.status_code == 409
    assert problem(response)["external_refs"] == [{**TICKET, "event_id": holder["id"]}]
    after = (await client.get(f"/v1/events/{other['id']}")).json()
    assert (after["venue"], after["external_refs"]) == ("here", [])


async def test_changing_only_the_refs_moves_updated_at_and_the_etag(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    clock: FakeClock,
) -> None:
    event = await create_event_via_api()
    before = await client.get(f"/v1/events/{event['id']}")
    clock.advance(timedelta(hours=1))

    response = await client.patch(
        f"/v1/events/{event['id']}",
        json={"external_refs": [TICKET]},
        headers={**admin, "If-Match": before.headers["etag"]},
    )

    assert response.status_code == 200, response.text
    after = await client.get(f"/v1/events/{event['id']}")
    # Stamped when written (app.core.changes), whatever the request's clock says.
    assert datetime.fromisoformat(after.json()["updated_at"]) > datetime.fromisoformat(
        before.json()["updated_at"]
    )
    assert after.headers["etag"] != before.headers["etag"]


async def test_the_same_refs_again_leave_updated_at_alone(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    clock: FakeClock,
) -> None:
    event = await create_event_via_api(external_refs=[TICKET])
    clock.advance(timedelta(hours=1))

    response = await client.patch(
        f"/v1/events/{event['id']}", json={"external_refs": [TICKET]}, headers=admin
    )

    assert response.status_code == 200
    assert response.json()["updated_at"] == event["updated_at"]


async def test_the_answer_to_a_patch_of_refs_is_the_event_as_stored(
    client: httpx.AsyncClient, admin: dict[str, str], create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api(external_refs=[{"system": "vnpay", "id": "9"}])

    patched = await client.patch(
        f"/v1/events/{event['id']}",
        json={"external_refs": [{"system": "vnpay", "id": "9"}, TICKET]},
        headers=admin,
    )
    read = await client.get(f"/v1/events/{event['id']}")
    next_change = await client.patch(
        f"/v1/events/{event['id']}",
        json={"venue": "Chợ Kỳ Lừa"},
        headers={**admin, "If-Match": patched.headers["etag"]},
    )

    assert patched.json()["external_refs"] == [TICKET, {"system": "vnpay", "id": "9"}]
    assert patched.headers["etag"] == read.headers["etag"]
    assert next_change.status_code == 200
