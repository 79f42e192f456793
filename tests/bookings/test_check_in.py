"""Checking a ticket in at the gate, online: the first check-in counts, a second is 409 naming
it, and a ticket of another day, another site or a cancelled booking is refused with its
reason; every attempt on a known ticket is on record."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiKey, Role
from tests.helpers import (
    BookViaApi,
    CreateExperienceViaApi,
    FakeClock,
    KeyFactory,
    OwnerFactory,
    Site,
    problem,
    vn,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def code(book_via_api: BookViaApi, site: Site, clock: FakeClock) -> str:
    """The ticket of one adult at 09:00 on 8 November (confirmed on 1 November, 08:00); the
    clock then shows 8 November, 08:30."""
    booking = await book_via_api(site.product_id)
    clock.set(vn(8, 8) + timedelta(minutes=30))
    return str(booking["tickets"][0]["code"])


def check_in(code: str) -> str:
    return f"/v1/tickets/{code}/check-in"


async def key_id(db: AsyncSession, name: str) -> str:
    await db.rollback()
    return str(await db.scalar(select(ApiKey.id).where(ApiKey.name == name)))


async def log(client: httpx.AsyncClient, site: Site, code: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (
        await client.get(f"/v1/tickets/{code}", headers=site.staff)
    ).json()["check_ins"]
    return entries


async def test_the_first_check_in_is_accepted(
    client: httpx.AsyncClient, site: Site, code: str, db: AsyncSession
) -> None:
    accepted = await client.post(check_in(code), json={"gate": "cổng-1"}, headers=site.staff)

    assert accepted.status_code == 201, accepted.text
    assert accepted.headers["location"] == f"/v1/tickets/{code}"
    body = accepted.json()
    assert body["status"] == "checked_in"
    assert body["check_in"] == {
        "at": "2025-11-08T01:30:00Z",
        "received_at": "2025-11-08T01:30:00Z",
        "gate": "cổng-1",
        "api_key_id": await key_id(db, "Cổng chính"),
        "key_name": "Cổng chính",
        "offline": False,
        "outcome": "accepted",
    }
    assert body["check_ins"] == [body["check_in"]]


async def test_a_second_check_in_is_409_naming_the_first(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    clock: FakeClock,
    site: Site,
    code: str,
    db: AsyncSession,
) -> None:
    first = await client.post(check_in(code), json={"gate": "cổng-1"}, headers=site.staff)
    clock.advance(timedelta(minutes=3))

    again = await client.post(check_in(code), json={"gate": "cổng-2"}, headers=admin)

    assert again.status_code == 409
    assert problem(again)["code"] == "already_checked_in"
    assert again.json()["first_check_in"] == first.json()["check_in"]
    assert [(e["outcome"], e["gate"], e["key_name"]) for e in await log(client, site, code)] == [
        ("accepted", "cổng-1", "Cổng chính"),
        ("duplicate", "cổng-2", "test admin"),
    ]


async def test_the_day_is_the_provinces_local_date(
    client: httpx.AsyncClient, clock: FakeClock, site: Site, code: str
) -> None:
    """8 November 06:00 in the province is 7 November in UTC: valid. 9 November 01:00 there is
    still 8 November in UTC: not valid. (The clock tells UTC, as the system's does.)"""
    clock.set(vn(9, 1).astimezone(UTC))
    late = await client.post(check_in(code), headers=site.staff)
    clock.set(vn(8, 6).astimezone(UTC))
    early = await client.post(check_in(code), headers=site.staff)

    assert late.status_code == 409
    assert (problem(late)["code"], late.json()["valid_on"]) == ("wrong_day", "2025-11-08")
    assert early.status_code == 201


async def test_a_ticket_of_another_day_is_refused_and_stays_valid(
    client: httpx.AsyncClient, clock: FakeClock, site: Site, code: str
) -> None:
    clock.set(vn(7, 9))

    refused = await client.post(check_in(code), json={"gate": "cổng-1"}, headers=site.staff)

    assert refused.status_code == 409
    assert problem(refused)["code"] == "wrong_day"
    ticket = (await client.get(f"/v1/tickets/{code}", headers=site.staff)).json()
    assert (ticket["status"], ticket["check_in"]) == ("valid", None)
    assert [e["outcome"] for e in ticket["check_ins"]] == ["wrong_day"]


async def test_another_owners_key_is_refused_403_and_on_record(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    site: Site,
    code: str,
) -> None:
    other = await make_key(
        Role.owner, owner_id=uuid.UUID((await make_owner())["id"]), name="Nhà khác"
    )

    refused = await client.post(check_in(code), json={"gate": "cổng-9"}, headers=other)

    assert refused.status_code == 403
    assert problem(refused)["code"] == "not_this_site"
    assert set(refused.json()) == {"type", "title", "status", "detail", "code"}
    assert [(e["outcome"], e["key_name"]) for e in await log(client, site, code)] == [
        ("not_this_site", "Nhà khác")
    ]


async def test_a_gate_of_another_experience_of_the_same_owner_refuses_the_ticket(
    client: httpx.AsyncClient,
    create_experience_via_api: CreateExperienceViaApi,
    site: Site,
    code: str,
) -> None:
    tea = await create_experience_via_api(await owned_product(client, site))

    refused = await client.post(
        check_in(code), json={"product_id": tea["product_id"]}, headers=site.staff
    )
    accepted = await client.post(
        check_in(code), json={"product_id": site.product_id}, headers=site.staff
    )

    assert refused.status_code == 403
    assert problem(refused)["code"] == "not_this_site"
    assert accepted.status_code == 201


async def owned_product(client: httpx.AsyncClient, site: Site) -> str:
    """Another tourism product of the site's owner."""
    created = await client.post(
        "/v1/products",
        json={
            "owner_id": site.owner_id,
            "name": "Xưởng chè Ngọc Quế",
            "group": "tourism",
            "unit": "visit",
            "unit_step": 1,
            "price_vnd": 80_000,
            "commune": "Bắc Sơn",
        },
        headers=site.staff,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_a_cancelled_bookings_ticket_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], site: Site, book_via_api: BookViaApi
) -> None:
    booking = await book_via_api(site.product_id)
    await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=admin)

    refused = await client.post(check_in(booking["tickets"][0]["code"]), headers=site.staff)

    assert refused.status_code == 409
    assert problem(refused)["code"] == "booking_cancelled"


async def test_a_partner_key_may_not_check_in(
    client: httpx.AsyncClient, partner: dict[str, str], code: str
) -> None:
    refused = await client.post(check_in(code), headers=partner)

    assert refused.status_code == 403
    assert problem(refused)["code"] == "forbidden_role"


async def test_an_unknown_code_is_404_and_nothing_is_recorded(
    client: httpx.AsyncClient, site: Site
) -> None:
    missing = await client.post(check_in("A" * 32), headers=site.staff)

    assert missing.status_code == 404
    assert problem(missing)["code"] == "ticket_not_found"


# With `at`: a scan an offline gate made earlier.


async def test_an_offline_scan_sent_again_is_answered_200_and_recorded_once(
    client: httpx.AsyncClient, site: Site, code: str
) -> None:
    scan = {"gate": "cổng-1", "at": "2025-11-08T08:10:00+07:00"}
    first = await client.post(check_in(code), json=scan, headers=site.staff)

    again = await client.post(check_in(code), json=scan, headers=site.staff)

    assert first.status_code == 201, first.text
    assert again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["check_in"]["at"] == "2025-11-08T01:10:00Z"
    assert first.json()["check_in"]["offline"] is True


async def test_an_earlier_offline_scan_replaces_the_online_check_in(
    client: httpx.AsyncClient, site: Site, code: str
) -> None:
    online = await client.post(check_in(code), json={"gate": "cổng-1"}, headers=site.staff)
    scan = {"gate": "cổng-2", "at": "2025-11-08T08:20:00+07:00"}

    offline = await client.post(check_in(code), json=scan, headers=site.staff)

    assert offline.status_code == 201
    assert offline.json()["check_in"]["at"] == "2025-11-08T01:20:00Z"
    assert [(e["outcome"], e["gate"]) for e in offline.json()["check_ins"]] == [
        ("accepted", "cổng-2"),
        ("duplicate", "cổng-1"),
    ]
    assert online.json()["check_in"]["at"] == "2025-11-08T01:30:00Z"


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        ("2025-11-08T08:35:01+07:00", "at_in_future"),  # 5 minutes and a second ahead
        ("2025-11-01T07:59:59+07:00", "at_before_confirmation"),
    ],
)
async def test_an_offline_scan_out_of_time_is_422_and_not_recorded(
    client: httpx.AsyncClient, site: Site, code: str, at: str, reason: str
) -> None:
    refused = await client.post(check_in(code), json={"at": at}, headers=site.staff)

    assert refused.status_code == 422
    assert problem(refused)["code"] == reason
    assert await log(client, site, code) == []


async def test_an_offline_scan_within_the_clock_skew_is_accepted(
    client: httpx.AsyncClient, site: Site, code: str
) -> None:
    ahead = await client.post(
        check_in(code), json={"at": "2025-11-08T08:35:00+07:00"}, headers=site.staff
    )

    assert ahead.status_code == 201
