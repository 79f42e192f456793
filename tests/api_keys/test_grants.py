"""`/v1/api-keys/{key_id}/events/{event_id}`: an admin grants a partner key rights on events."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, EventGrant, Role
from tests.helpers import FakeClock, InsertEvent, KeyFactory, OwnerFactory, problem

pytestmark = pytest.mark.anyio


async def key_id(client: httpx.AsyncClient, admin: dict[str, str], name: str) -> str:
    keys = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    found: str = next(k["id"] for k in keys if k["name"] == name)
    return found


async def grant_count(db: AsyncSession) -> int:
    await db.rollback()
    return int(await db.scalar(select(func.count()).select_from(EventGrant)) or 0)


@pytest.fixture
async def festival(insert_event: InsertEvent) -> Event:
    return await insert_event()


async def test_granting_creates_then_keeps_the_first_grant(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    festival: Event,
    clock: FakeClock,
) -> None:
    await make_key(Role.partner, name="ticketbox")
    partner_id = await key_id(client, admin, "ticketbox")
    admin_id = await key_id(client, admin, "test admin")
    url = f"/v1/api-keys/{partner_id}/events/{festival.id}"

    first = await client.put(url, headers=admin)
    clock.advance(timedelta(hours=1))
    again = await client.put(url, headers=admin)

    assert first.status_code == 201, first.text
    assert first.headers["location"] == url
    assert first.json() == {
        "api_key_id": partner_id,
        "event_id": str(festival.id),
        "granted_by_key_id": admin_id,
        "created_at": first.json()["created_at"],
    }
    assert datetime.fromisoformat(first.json()["created_at"]) == clock.now() - timedelta(hours=1)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert "location" not in again.headers


async def test_a_grant_is_read_listed_and_taken_back(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    insert_event: InsertEvent,
    clock: FakeClock,
    db: AsyncSession,
) -> None:
    first, second = await insert_event(), await insert_event(venue="Chợ Kỳ Lừa")
    await make_key(Role.partner, name="ticketbox")
    partner_id = await key_id(client, admin, "ticketbox")
    for event in (first, second):
        assert (
            await client.put(f"/v1/api-keys/{partner_id}/events/{event.id}", headers=admin)
        ).status_code == 201
        clock.advance(timedelta(minutes=1))

    listed = await client.get(f"/v1/api-keys/{partner_id}/events", headers=admin)
    read = await client.get(f"/v1/api-keys/{partner_id}/events/{first.id}", headers=admin)
    taken = await client.delete(f"/v1/api-keys/{partner_id}/events/{first.id}", headers=admin)
    read_after = await client.get(f"/v1/api-keys/{partner_id}/events/{first.id}", headers=admin)
    taken_again = await client.delete(f"/v1/api-keys/{partner_id}/events/{first.id}", headers=admin)

    assert [g["event_id"] for g in listed.json()["items"]] == [str(second.id), str(first.id)]
    assert listed.json()["next_cursor"] is None
    assert read.status_code == 200
    assert read.json()["event_id"] == str(first.id)
    assert taken.status_code == 204
    assert read_after.status_code == 404
    assert problem(read_after)["code"] == "no_such_grant"
    assert taken_again.status_code == 404
    assert await grant_count(db) == 1


@pytest.mark.parametrize("role", [Role.admin, Role.owner])
async def test_only_partner_keys_hold_grants(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    festival: Event,
    db: AsyncSession,
    role: Role,
) -> None:
    owner_id = uuid.UUID((await make_owner())["id"]) if role is Role.owner else None
    await make_key(role, owner_id=owner_id, name="not a partner")
    other_id = await key_id(client, admin, "not a partner")

    response = await client.put(f"/v1/api-keys/{other_id}/events/{festival.id}", headers=admin)

    assert response.status_code == 422
    assert problem(response)["code"] == "not_a_partner_key"
    assert await grant_count(db) == 0


async def test_a_revoked_key_cannot_be_granted(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    festival: Event,
    db: AsyncSession,
) -> None:
    await make_key(Role.partner, name="gone")
    partner_id = await key_id(client, admin, "gone")
    assert (
        await client.post(f"/v1/api-keys/{partner_id}/revoke", headers=admin)
    ).status_code == 200

    response = await client.put(f"/v1/api-keys/{partner_id}/events/{festival.id}", headers=admin)

    assert response.status_code == 409
    assert problem(response)["code"] == "revoked_key"
    assert await grant_count(db) == 0


async def test_unknown_key_or_event_is_404(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    festival: Event,
    db: AsyncSession,
) -> None:
    await make_key(Role.partner, name="ticketbox")
    partner_id = await key_id(client, admin, "ticketbox")

    no_key = await client.put(f"/v1/api-keys/{uuid.uuid4()}/events/{festival.id}", headers=admin)
    no_event = await client.put(f"/v1/api-keys/{partner_id}/events/{uuid.uuid4()}", headers=admin)
    no_key_list = await client.get(f"/v1/api-keys/{uuid.uuid4()}/events", headers=admin)

    assert [no_key.status_code, no_event.status_code, no_key_list.status_code] == [404, 404, 404]
    assert problem(no_event)["code"] == "unknown_event"
    assert await grant_count(db) == 0


@pytest.mark.parametrize("role", [Role.partner, Role.owner])
async def test_only_admins_manage_grants(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    festival: Event,
    db: AsyncSession,
    role: Role,
) -> None:
    owner_id = uuid.UUID((await make_owner())["id"]) if role is Role.owner else None
    caller = await make_key(role, owner_id=owner_id, name="caller")
    await make_key(Role.partner, name="ticketbox")
    partner_id = await key_id(client, admin, "ticketbox")
    url = f"/v1/api-keys/{partner_id}/events/{festival.id}"

    put = await client.put(url, headers=caller)
    listed = await client.get(f"/v1/api-keys/{partner_id}/events", headers=caller)
    anonymous = await client.put(url)

    assert [put.status_code, listed.status_code, anonymous.status_code] == [403, 403, 401]
    assert await grant_count(db) == 0


async def test_a_grant_taken_back_ends_the_partners_rights_at_once(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    festival: Event,
) -> None:
    partner = await make_key(Role.partner, name="ticketbox")
    partner_id = await key_id(client, admin, "ticketbox")
    url = f"/v1/api-keys/{partner_id}/events/{festival.id}"
    sales = f"/v1/reports/events/{festival.id}/sales"
    assert (await client.put(url, headers=admin)).status_code == 201
    assert (await client.get(sales, headers=partner)).status_code == 200

    assert (await client.delete(url, headers=admin)).status_code == 204
    response = await client.get(sales, headers=partner)

    assert response.status_code == 403
    assert problem(response)["code"] == "event_not_granted"


async def test_a_revoked_partner_key_loses_its_granted_rights(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    festival: Event,
) -> None:
    partner = await make_key(Role.partner, name="ticketbox")
    partner_id = await key_id(client, admin, "ticketbox")
    granted = await client.put(f"/v1/api-keys/{partner_id}/events/{festival.id}", headers=admin)
    revoked = await client.post(f"/v1/api-keys/{partner_id}/revoke", headers=admin)

    response = await client.patch(
        f"/v1/events/{festival.id}",
        json={"external_refs": [{"system": "ticketbox", "id": "T-1"}]},
        headers=partner,
    )

    assert (granted.status_code, revoked.status_code) == (201, 200)
    assert response.status_code == 401
    assert problem(response)["code"] == "revoked_key"
