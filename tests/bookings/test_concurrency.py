"""Never more people held or booked than capacity, and places returned exactly once, whatever
the concurrency: in one process on both databases, and over two API processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.expiry import HoldSweeper
from app.core.config import Settings
from app.models import Booking, BookingStatus, ExperienceSlot, Role
from tests.helpers import (
    CONTACT,
    CreateExperienceViaApi,
    HoldViaApi,
    KeyFactory,
    booking_body,
    idem,
    problem,
)
from tests.servers import api_server

pytestmark = pytest.mark.anyio

CAPACITY_40 = {"schedules": [{"start_times": ["09:00"], "capacity": 40}]}
# Mixed parties: adults and children take a place each, infants none.
PARTIES: list[tuple[tuple[str, int], ...]] = [
    (("adult", 1),),
    (("adult", 2), ("infant", 1)),
    (("child", 1),),
    (("adult", 1), ("child", 2)),
    (("adult", 1), ("infant", 1)),
    (("adult", 2), ("child", 1), ("infant", 1)),
]
REFUSED = {"sold_out", "insufficient_capacity"}


async def slot_state(db: AsyncSession, now: datetime) -> tuple[int, int]:
    """The slot's `taken`, and the people of the bookings holding places at `now`."""
    await db.rollback()
    taken = await db.scalar(select(ExperienceSlot.taken))
    live = await db.scalar(
        select(func.coalesce(func.sum(Booking.people), 0)).where(
            (Booking.status == BookingStatus.confirmed)
            | ((Booking.status == BookingStatus.on_hold) & (Booking.expires_at > now))
        )
    )
    return int(taken or 0), int(live or 0)


def people(responses: list[httpx.Response]) -> int:
    return sum(r.json()["people"] for r in responses if r.status_code == 201)


async def test_60_concurrent_holds_for_40_places_in_one_process(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi, db: AsyncSession
) -> None:
    """On SQLite, writers queue for the lock instead of failing."""
    product_id = (await create_experience_via_api(**CAPACITY_40))["product_id"]

    responses = await asyncio.gather(*(hold_via_api(product_id) for _ in range(60)))

    assert Counter(r.status_code for r in responses) == {201: 40, 409: 20}
    assert {problem(r)["code"] for r in responses if r.status_code == 409} == {"sold_out"}
    assert await slot_state(db, datetime(2025, 11, 1, tzinfo=UTC)) == (40, 40)


async def test_10_racing_cancels_return_the_places_once(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    db: AsyncSession,
) -> None:
    product_id = (await create_experience_via_api(**CAPACITY_40))["product_id"]
    await hold_via_api(product_id, ("adult", 5))
    racing = (await hold_via_api(product_id, ("adult", 3))).json()

    responses = await asyncio.gather(
        *(client.post(f"/v1/bookings/{racing['id']}/cancel", headers=partner) for _ in range(10))
    )

    assert Counter(r.status_code for r in responses) == {200: 1, 409: 9}
    assert {problem(r)["code"] for r in responses if r.status_code == 409} == {"invalid_transition"}
    assert await slot_state(db, datetime(2025, 11, 1, tzinfo=UTC)) == (5, 5)


# Two API processes on PostgreSQL, on the system clock: the date booked is a month ahead.


def _ahead() -> str:
    return (datetime.now(UTC) + timedelta(days=30)).date().isoformat()


async def _send(
    http: httpx.AsyncClient,
    servers: list[str],
    requests: Sequence[tuple[str, dict[str, Any] | None]],
    headers: dict[str, str],
) -> list[httpx.Response]:
    """POST each (path, body) to the servers in turn, all at once."""
    return await asyncio.gather(
        *(
            http.post(
                f"{servers[i % len(servers)]}{path}",
                json=body,
                headers=idem(headers) if path == "/v1/bookings" else headers,
            )
            for i, (path, body) in enumerate(requests)
        )
    )


async def _fill(
    http: httpx.AsyncClient, server: str, product_id: str, day: str, headers: dict[str, str]
) -> int:
    """Hold one place at a time until the start is sold out; how many were held."""
    held = 0
    while True:
        response = await http.post(
            f"{server}/v1/bookings",
            json=booking_body(product_id, ("adult", 1), date=day),
            headers=idem(headers),
        )
        if response.status_code != 201:
            assert problem(response)["code"] == "sold_out", response.text
            return held
        held += 1


async def _expire_holds(db: AsyncSession) -> int:
    """Move every hold's expiry into the past, as time passing would; their people."""
    await db.rollback()
    expiring = await db.scalar(
        select(func.coalesce(func.sum(Booking.people), 0)).where(
            Booking.status == BookingStatus.on_hold
        )
    )
    await db.execute(
        update(Booking)
        .where(Booking.status == BookingStatus.on_hold)
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    await db.commit()
    return int(expiring or 0)


@pytest.mark.slow
@pytest.mark.postgres_only
async def test_300_mixed_bookings_for_40_places_on_two_processes(
    app: FastAPI,
    database_url: str,
    settings: Settings,
    create_experience_via_api: CreateExperienceViaApi,
    make_key: KeyFactory,
    db: AsyncSession,
) -> None:
    product_id = (await create_experience_via_api(**CAPACITY_40))["product_id"]
    auth = await make_key(Role.partner, name="travel app")
    day = _ahead()
    parties = list(itertools.islice(itertools.cycle(PARTIES), 300))
    burst = [("/v1/bookings", booking_body(product_id, *party, date=day)) for party in parties]
    # No kept-alive connections: one idle past the server's keep-alive timeout (between the
    # phases) may be closed by the server just as the client reuses it.
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=0)

    with api_server(database_url) as one, api_server(database_url) as two:
        servers = [one.url, two.url]
        async with httpx.AsyncClient(limits=limits, timeout=120) as http:
            # 1. 300 holds at once: never more than 40 people; then one place at a time to full.
            first = await _send(http, servers, burst, auth)
            assert {r.status_code for r in first} == {201, 409}
            assert {problem(r)["code"] for r in first if r.status_code == 409} <= REFUSED
            held_at_once = people(first)
            assert await slot_state(db, datetime.now(UTC)) == (held_at_once, held_at_once)
            topped_up = await _fill(http, one.url, product_id, day, auth)
            assert held_at_once + topped_up == 40
            assert await slot_state(db, datetime.now(UTC)) == (40, 40)

            # 2. Half the holds confirmed at once over both processes: still 40.
            holds = [r.json() for r in first if r.status_code == 201]
            to_confirm = holds[::2]
            confirms = await _send(
                http,
                servers,
                [(f"/v1/bookings/{h['id']}/confirm", {"contact": CONTACT}) for h in to_confirm],
                auth,
            )
            assert Counter(r.status_code for r in confirms) == {200: len(to_confirm)}
            confirmed = sum(h["people"] for h in to_confirm)

            # 3. The other holds expire, no worker running: another 300 at once take exactly
            # the places they freed, and not one more.
            freed = await _expire_holds(db)
            assert freed == 40 - confirmed
            second = await _send(http, servers, burst, auth)
            assert {problem(r)["code"] for r in second if r.status_code == 409} <= REFUSED
            refilled = people(second) + await _fill(http, two.url, product_id, day, auth)
            assert refilled == freed
            assert await slot_state(db, datetime.now(UTC)) == (40, 40)

    # 4. Those expire too, and the worker's sweep gives their places back to the slot.
    freed_again = await _expire_holds(db)
    released = await HoldSweeper(app.state.sessionmaker, settings).run_once()
    assert released == freed_again
    assert await slot_state(db, datetime.now(UTC)) == (confirmed, confirmed)


@pytest.mark.slow
@pytest.mark.postgres_only
async def test_10_racing_cancels_on_two_processes_return_the_places_once(
    database_url: str,
    create_experience_via_api: CreateExperienceViaApi,
    make_key: KeyFactory,
    db: AsyncSession,
) -> None:
    product_id = (await create_experience_via_api(**CAPACITY_40))["product_id"]
    auth = await make_key(Role.partner, name="travel app")
    day = _ahead()

    with api_server(database_url) as one, api_server(database_url) as two:
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            kept, racing = await _send(
                http,
                [one.url],
                [
                    ("/v1/bookings", booking_body(product_id, ("adult", 4), date=day)),
                    (
                        "/v1/bookings",
                        booking_body(product_id, ("adult", 2), ("child", 1), date=day),
                    ),
                ],
                auth,
            )
            assert [kept.status_code, racing.status_code] == [201, 201]
            await http.post(
                f"{one.url}/v1/bookings/{racing.json()['id']}/confirm",
                json={"contact": CONTACT},
                headers=auth,
            )
            cancels = await _send(
                http,
                [one.url, two.url],
                [(f"/v1/bookings/{racing.json()['id']}/cancel", None)] * 10,
                auth,
            )

    assert Counter(r.status_code for r in cancels) == {200: 1, 409: 9}
    assert await slot_state(db, datetime.now(UTC)) == (4, 4)
