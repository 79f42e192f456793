"""Ten check-ins of one ticket at once give exactly one success, and nine 409s naming it: in one
process on both databases, and over two API processes on PostgreSQL. Check-ins of a booking's
tickets at once all succeed."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models import Booking, CheckIn, Role, Ticket
from tests.helpers import BookViaApi, FakeClock, KeyFactory, Site, problem, vn
from tests.servers import api_server

pytestmark = pytest.mark.anyio


async def recorded(db: AsyncSession) -> Counter[str]:
    await db.rollback()
    return Counter(str(outcome) for outcome in await db.scalars(select(CheckIn.outcome)))


def assert_one_success_naming_itself(responses: list[httpx.Response]) -> None:
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}
    winner = next(r for r in responses if r.status_code == 201).json()["check_in"]
    losers = [r for r in responses if r.status_code == 409]
    assert {problem(r)["code"] for r in losers} == {"already_checked_in"}
    assert [r.json()["first_check_in"] for r in losers] == [winner] * 9


async def test_10_concurrent_check_ins_of_one_ticket_in_one_process(
    client: httpx.AsyncClient,
    clock: FakeClock,
    site: Site,
    book_via_api: BookViaApi,
    db: AsyncSession,
) -> None:
    code = (await book_via_api(site.product_id))["tickets"][0]["code"]
    clock.set(vn(8, 9))

    responses = await asyncio.gather(
        *(
            client.post(
                f"/v1/tickets/{code}/check-in", json={"gate": f"cổng-{i}"}, headers=site.staff
            )
            for i in range(10)
        )
    )

    assert_one_success_naming_itself(list(responses))
    assert await recorded(db) == {"accepted": 1, "duplicate": 9}


async def test_check_ins_of_every_ticket_of_one_booking_at_once_all_succeed(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    clock: FakeClock,
    site: Site,
    book_via_api: BookViaApi,
) -> None:
    """Each moves the booking's `updated_at` (its tickets are part of it): the booking is
    locked for it, so that they queue rather than deadlock."""
    booking = await book_via_api(site.product_id, ("adult", 6))
    clock.set(vn(8, 9))

    responses = await asyncio.gather(
        *(
            client.post(f"/v1/tickets/{ticket['code']}/check-in", headers=site.staff)
            for ticket in booking["tickets"]
        )
    )

    assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses]
    after = (await client.get(f"/v1/bookings/{booking['id']}", headers=admin)).json()
    assert [ticket["status"] for ticket in after["tickets"]] == ["checked_in"] * 6
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(
        booking["updated_at"]
    )


@pytest.mark.slow
@pytest.mark.postgres_only
async def test_10_concurrent_check_ins_of_one_ticket_on_two_processes(
    database_url: str,
    settings: Settings,
    site: Site,
    book_via_api: BookViaApi,
    make_key: KeyFactory,
    db: AsyncSession,
) -> None:
    """The servers run on the system clock: the ticket's booking is moved to today."""
    booking = await book_via_api(site.product_id)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    await db.execute(
        update(Booking).where(Booking.id == uuid.UUID(booking["id"])).values(date=today)
    )
    await db.commit()
    code = booking["tickets"][0]["code"]
    second_gate = await make_key(Role.owner, owner_id=uuid.UUID(site.owner_id), name="Cổng phụ")

    with api_server(database_url) as one, api_server(database_url) as two:
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            responses = await asyncio.gather(
                *(
                    http.post(
                        f"{(one, two)[i % 2].url}/v1/tickets/{code}/check-in",
                        json={"gate": f"cổng-{i}"},
                        headers=(site.staff, second_gate)[i % 2],
                    )
                    for i in range(10)
                )
            )

    assert_one_success_naming_itself(list(responses))
    assert await recorded(db) == {"accepted": 1, "duplicate": 9}
    winner = next(r for r in responses if r.status_code == 201).json()["check_in"]
    checked_in_gate = await db.scalar(select(Ticket.checked_in_gate).where(Ticket.code == code))
    assert checked_in_gate == winner["gate"]
