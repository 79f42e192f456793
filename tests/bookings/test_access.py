"""Who sees which bookings (a partner its own, an owner its experiences', an admin all), and the
list's filters and pages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.models import Role
from tests.helpers import (
    CONTACT,
    CreateExperienceViaApi,
    FakeClock,
    HoldViaApi,
    KeyFactory,
)

pytestmark = pytest.mark.anyio

SECOND = timedelta(seconds=1)


async def ids(client: httpx.AsyncClient, headers: dict[str, str], query: str = "") -> list[str]:
    response = await client.get(f"/v1/bookings{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [b["id"] for b in response.json()["items"]]


async def owner_key(
    client: httpx.AsyncClient, make_key: KeyFactory, product_id: str
) -> dict[str, str]:
    owner_id = uuid.UUID((await client.get(f"/v1/products/{product_id}")).json()["owner_id"])
    return await make_key(Role.owner, owner_id=owner_id)


@pytest.fixture
async def two_sites(
    create_experience_via_api: CreateExperienceViaApi,
) -> tuple[str, str]:
    temple = (await create_experience_via_api())["product_id"]
    tea = (await create_experience_via_api())["product_id"]
    return str(temple), str(tea)


async def test_a_partner_sees_only_the_bookings_it_made(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    make_key: KeyFactory,
    hold_via_api: HoldViaApi,
    two_sites: tuple[str, str],
) -> None:
    other = await make_key(Role.partner, name="another app")
    mine = (await hold_via_api(two_sites[0])).json()
    theirs = (await hold_via_api(two_sites[0], headers=other)).json()

    listed = await ids(client, partner)
    hidden = await client.get(f"/v1/bookings/{theirs['id']}", headers=partner)

    assert listed == [mine["id"]]
    assert hidden.status_code == 404


async def test_an_owner_sees_the_bookings_of_its_experiences(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    hold_via_api: HoldViaApi,
    two_sites: tuple[str, str],
) -> None:
    temple, tea = two_sites
    at_temple = (await hold_via_api(temple)).json()
    at_tea = (await hold_via_api(tea)).json()
    owner = await owner_key(client, make_key, temple)

    listed = await ids(client, owner)
    read = await client.get(f"/v1/bookings/{at_temple['id']}", headers=owner)
    hidden = await client.get(f"/v1/bookings/{at_tea['id']}", headers=owner)

    assert listed == [at_temple["id"]]
    assert (read.status_code, hidden.status_code) == (200, 404)


async def test_an_owner_may_not_cancel_another_sites_booking(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    hold_via_api: HoldViaApi,
    two_sites: tuple[str, str],
) -> None:
    temple, tea = two_sites
    at_tea = (await hold_via_api(tea)).json()
    owner = await owner_key(client, make_key, temple)

    refused = await client.post(f"/v1/bookings/{at_tea['id']}/cancel", headers=owner)

    assert refused.status_code == 404


async def test_another_partner_may_not_confirm(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    hold_via_api: HoldViaApi,
    two_sites: tuple[str, str],
) -> None:
    held = (await hold_via_api(two_sites[0])).json()
    other = await make_key(Role.partner, name="another app")

    refused = await client.post(
        f"/v1/bookings/{held['id']}/confirm", json={"contact": CONTACT}, headers=other
    )

    assert refused.status_code == 404


async def test_an_admin_sees_every_booking_newest_first(
    client: httpx.AsyncClient,
    clock: FakeClock,
    admin: dict[str, str],
    make_key: KeyFactory,
    hold_via_api: HoldViaApi,
    two_sites: tuple[str, str],
) -> None:
    other = await make_key(Role.partner, name="another app")
    first = (await hold_via_api(two_sites[0])).json()
    clock.advance(SECOND)
    second = (await hold_via_api(two_sites[1], headers=other)).json()

    assert await ids(client, admin) == [second["id"], first["id"]]


async def test_bookings_are_read_without_a_key_never(
    client: httpx.AsyncClient, hold_via_api: HoldViaApi, two_sites: tuple[str, str]
) -> None:
    held = (await hold_via_api(two_sites[0])).json()

    assert (await client.get("/v1/bookings")).status_code == 401
    assert (await client.get(f"/v1/bookings/{held['id']}")).status_code == 401


async def test_the_list_filters_by_product_status_and_date(
    client: httpx.AsyncClient,
    clock: FakeClock,
    partner: dict[str, str],
    hold_via_api: HoldViaApi,
    two_sites: tuple[str, str],
) -> None:
    temple, tea = two_sites
    on_8th = (await hold_via_api(temple)).json()
    clock.advance(SECOND)
    on_9th = (await hold_via_api(temple, date="2025-11-09")).json()
    clock.advance(SECOND)
    at_tea = (await hold_via_api(tea)).json()
    await client.post(f"/v1/bookings/{on_9th['id']}/cancel", headers=partner)

    assert await ids(client, partner, f"?product_id={temple}") == [on_9th["id"], on_8th["id"]]
    assert await ids(client, partner, "?status=cancelled") == [on_9th["id"]]
    assert await ids(client, partner, "?date=2025-11-08") == [at_tea["id"], on_8th["id"]]
    assert await ids(client, partner, f"?product_id={temple}&status=on_hold") == [on_8th["id"]]


async def test_pages_neither_skip_nor_repeat(
    client: httpx.AsyncClient,
    clock: FakeClock,
    partner: dict[str, str],
    hold_via_api: HoldViaApi,
    two_sites: tuple[str, str],
) -> None:
    made = []
    for _ in range(5):
        made.append((await hold_via_api(two_sites[0])).json()["id"])
        clock.advance(SECOND)

    seen: list[str] = []
    query: dict[str, Any] = {"limit": 2}
    for _ in range(3):
        page = (await client.get("/v1/bookings", params=query, headers=partner)).json()
        seen += [b["id"] for b in page["items"]]
        query["cursor"] = page["next_cursor"]

    assert seen == list(reversed(made))
    assert query["cursor"] is None
