"""Never more people held or booked than capacity, and places returned exactly once, whatever
the concurrency: in one process on both databases, and over two API processes on PostgreSQL,
where holds also expire in real time, with and without `ocop worker` running."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.expiry import HoldSweeper
from app.core.config import Settings
from app.models import Booking, BookingStatus, ExperienceSlot, OutboxMessage, Role
from tests.helpers import (
    CONTACT,
    CreateExperienceViaApi,
    HoldViaApi,
    KeyFactory,
    booking_body,
    idem,
    problem,
)
from tests.servers import api_server, api_servers, ocop_worker

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


# Holds that expire in real time, over two API processes on PostgreSQL, with and without
# `ocop worker`: the servers make every hold last HOLD_S seconds (OCOP_BOOKINGS_HOLD_S).

# Long enough for steps 1 and 2 (a few requests) on a loaded machine, short for a test.
HOLD_S = 8
CAPACITY_4 = {"schedules": [{"start_times": ["09:00", "14:00"], "capacity": 4}]}
STARTS = ("09:00", "14:00")


async def _slots(db: AsyncSession, now: datetime) -> dict[str, tuple[int, int, int]]:
    """Each start's `taken`, the people of its bookings holding places at `now`, and of its
    bookings still marked on hold (expired or not)."""
    await db.rollback()
    live = (Booking.status == BookingStatus.confirmed) | (
        (Booking.status == BookingStatus.on_hold) & (Booking.expires_at > now)
    )
    rows = await db.execute(
        select(
            ExperienceSlot.start_time,
            ExperienceSlot.taken,
            func.coalesce(func.sum(case((live, Booking.people), else_=0)), 0),
            func.coalesce(
                func.sum(case((Booking.status == BookingStatus.on_hold, Booking.people), else_=0)),
                0,
            ),
        )
        .join(Booking, Booking.slot_id == ExperienceSlot.id)
        .group_by(ExperienceSlot.id)
    )
    return {f"{start:%H:%M}": (taken, int(n), int(marked)) for start, taken, n, marked in rows}


async def _places_left(
    http: httpx.AsyncClient, servers: list[str], product_id: str, day: str
) -> list[dict[str, int]]:
    """What each server's availability of the day says is left at each start."""
    answers = await asyncio.gather(
        *(http.get(f"{url}/v1/experiences/{product_id}/availability?date={day}") for url in servers)
    )
    return [{s["start_time"]: s["places_left"] for s in a.json()["slots"]} for a in answers]


async def _until_past(instant: datetime) -> None:
    while True:
        wait = (instant - datetime.now(UTC)).total_seconds()
        if wait < 0:
            return
        await asyncio.sleep(wait + 0.01)


async def _expired_messages(db: AsyncSession) -> int:
    await db.rollback()
    return int(
        await db.scalar(select(func.count()).where(OutboxMessage.type == "booking.expired")) or 0
    )


@pytest.mark.slow
@pytest.mark.postgres_only
@pytest.mark.parametrize("worker", [True, False], ids=["with_worker", "without_worker"])
async def test_holds_expiring_in_real_time_free_their_places_on_two_processes(
    worker: bool,
    database_url: str,
    create_experience_via_api: CreateExperienceViaApi,
    make_key: KeyFactory,
    db: AsyncSession,
) -> None:
    product_id = (await create_experience_via_api(**CAPACITY_4))["product_id"]
    auth = await make_key(Role.partner, name="travel app")
    day = _ahead()

    def holds(start: str, n: int) -> list[tuple[str, dict[str, Any] | None]]:
        return [("/v1/bookings", booking_body(product_id, date=day, start_time=start))] * n

    limits = httpx.Limits(max_keepalive_connections=0)
    short_holds = {"OCOP_BOOKINGS_HOLD_S": str(HOLD_S)}
    with contextlib.ExitStack() as processes:
        if worker:
            processes.enter_context(ocop_worker(database_url, OCOP_BOOKINGS_SWEEP_INTERVAL_S="0.2"))
        one, two = processes.enter_context(api_servers(database_url, 2, **short_holds))
        servers = [one.url, two.url]
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            # Fresh processes answer their first requests slowly: before any hold's time runs.
            assert (
                await _places_left(http, servers, product_id, day) == [{"09:00": 4, "14:00": 4}] * 2
            )

            # 1. Both starts filled at once over both processes, one place a hold.
            first = await _send(http, servers, holds("09:00", 8) + holds("14:00", 8), auth)
            held = [r.json() for r in first if r.status_code == 201]
            assert Counter(h["start_time"] for h in held) == {"09:00": 4, "14:00": 4}
            assert {problem(r)["code"] for r in first if r.status_code != 201} == {"sold_out"}

            # 2. While the holds live, both processes refuse more and show nothing left.
            more = await _send(http, servers, holds("09:00", 2) + holds("14:00", 2), auth)
            left_while_held = await _places_left(http, servers, product_id, day)
            checked_at = datetime.now(UTC)
            expiries = [datetime.fromisoformat(h["expires_at"]) for h in held]
            # Each hold lasts HOLD_S from when its server made it, not the experience's 15 min.
            made = [datetime.fromisoformat(h["created_at"]) for h in held]
            assert {e - m for e, m in zip(expiries, made, strict=True)} == {
                timedelta(seconds=HOLD_S)
            }
            assert checked_at < min(expiries), "the machine took longer than the holds last"
            assert [problem(r)["code"] for r in more] == ["sold_out"] * 4
            assert left_while_held == [{"09:00": 0, "14:00": 0}] * 2
            assert await _slots(db, datetime.now(UTC)) == dict.fromkeys(STARTS, (4, 4, 4))

            # 3. Past the expiry (real time), as the processes read it: every place free.
            await _until_past(max(expiries))
            assert (
                await _places_left(http, servers, product_id, day) == [{"09:00": 4, "14:00": 4}] * 2
            )

            # 4. Twice the capacity at once over both processes takes exactly the freed places
            # of 09:00 (the 14:00 start is left to the worker, or to nobody).
            second = await _send(http, servers, holds("09:00", 8), auth)
            assert Counter(r.status_code for r in second) == {201: 4, 409: 4}
            assert {problem(r)["code"] for r in second if r.status_code == 409} == {"sold_out"}
            now = datetime.now(UTC)
            assert (await _slots(db, now))["09:00"] == (4, 4, 4)  # the new holds alone

        # 5. The old holds of 09:00 were released once (by a reserve, or the worker's sweep
        # just before it); those of 14:00, which no request touched, by the worker alone.
        if worker:
            async with asyncio.timeout(30):
                while True:
                    if (await _slots(db, datetime.now(UTC)))["14:00"] == (0, 0, 0):
                        break
                    await asyncio.sleep(0.1)
            assert await _expired_messages(db) == 8
        else:
            assert (await _slots(db, now))["14:00"] == (4, 0, 4)  # marked on hold, free
            assert await _expired_messages(db) == 4

    await db.rollback()
    old = {h["id"] for h in held}
    statuses = await db.execute(select(Booking.id, Booking.start_time, Booking.status))
    assert Counter(
        (f"{start:%H:%M}", str(status)) for id_, start, status in statuses if str(id_) in old
    ) == {
        ("09:00", "expired"): 4,
        ("14:00", "expired" if worker else "on_hold"): 4,
    }
