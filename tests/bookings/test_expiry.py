"""Holds that expire: their places are free at the expiry instant whatever the worker does;
the worker's sweep marks them `expired` and gives their places back to the slot once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.expiry import HoldSweeper
from app.models import Booking, BookingStatus, ExperienceSlot, OutboxMessage
from tests.helpers import CONTACT, CreateExperienceViaApi, FakeClock, HoldViaApi

pytestmark = pytest.mark.anyio


async def statuses(db: AsyncSession) -> list[str]:
    await db.rollback()
    return [str(s) for s in await db.scalars(select(Booking.status).order_by(Booking.created_at))]


async def taken_and_live_people(db: AsyncSession, now: Any) -> tuple[int, int]:
    """The slot's `taken`, and the people of its live bookings (confirmed, or held past now)."""
    await db.rollback()
    taken = await db.scalar(select(ExperienceSlot.taken))
    live = await db.scalar(
        select(func.coalesce(func.sum(Booking.people), 0)).where(
            (Booking.status == BookingStatus.confirmed)
            | ((Booking.status == BookingStatus.on_hold) & (Booking.expires_at > now))
        )
    )
    return int(taken or 0), int(live or 0)


async def places_left(client: httpx.AsyncClient, product_id: str) -> int:
    detail = await client.get(f"/v1/experiences/{product_id}/availability?date=2025-11-08")
    return int(detail.json()["slots"][0]["places_left"])


@pytest.fixture
async def product_id(create_experience_via_api: CreateExperienceViaApi) -> str:
    return str((await create_experience_via_api())["product_id"])


async def test_the_sweep_marks_expired_holds_and_gives_their_places_back(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    clock: FakeClock,
    sweeper: HoldSweeper,
    hold_via_api: HoldViaApi,
    product_id: str,
    db: AsyncSession,
) -> None:
    expiring = (await hold_via_api(product_id, ("adult", 3))).json()
    clock.advance(timedelta(seconds=1))
    confirmed = (await hold_via_api(product_id, ("adult", 2))).json()
    await client.post(
        f"/v1/bookings/{confirmed['id']}/confirm", json={"contact": CONTACT}, headers=partner
    )
    clock.advance(timedelta(minutes=10))
    live = (await hold_via_api(product_id, ("child", 1))).json()  # expires 10 minutes later
    clock.advance(timedelta(minutes=5) - timedelta(seconds=1))
    before = await taken_and_live_people(db, clock.now())

    released = await sweeper.run_once()

    assert released == 3
    assert before == (6, 3)
    assert await taken_and_live_people(db, clock.now()) == (3, 3)
    read = await client.get(f"/v1/bookings/{expiring['id']}", headers=partner)
    assert read.json()["status"] == "expired"
    assert await statuses(db) == ["expired", "confirmed", "on_hold"]
    assert live["status"] == "on_hold"


async def test_the_sweep_changes_no_availability(
    client: httpx.AsyncClient,
    clock: FakeClock,
    sweeper: HoldSweeper,
    hold_via_api: HoldViaApi,
    product_id: str,
) -> None:
    await hold_via_api(product_id, ("adult", 4))
    clock.advance(timedelta(minutes=15))
    before = await places_left(client, product_id)

    await sweeper.run_once()

    assert [before, await places_left(client, product_id)] == [40, 40]


async def test_a_second_sweep_releases_nothing_more(
    clock: FakeClock,
    sweeper: HoldSweeper,
    hold_via_api: HoldViaApi,
    product_id: str,
    db: AsyncSession,
) -> None:
    await hold_via_api(product_id, ("adult", 4))
    clock.advance(timedelta(minutes=15))

    assert [await sweeper.run_once(), await sweeper.run_once()] == [4, 0]
    assert await taken_and_live_people(db, clock.now()) == (0, 0)


async def test_the_sweep_announces_booking_expired_to_the_site_and_the_partner(
    client: httpx.AsyncClient,
    clock: FakeClock,
    sweeper: HoldSweeper,
    hold_via_api: HoldViaApi,
    product_id: str,
    db: AsyncSession,
) -> None:
    held = (await hold_via_api(product_id)).json()
    clock.advance(timedelta(minutes=15))

    await sweeper.run_once()

    await db.rollback()
    expired = (
        await db.scalars(select(OutboxMessage).where(OutboxMessage.type == "booking.expired"))
    ).all()
    owner_id = (await client.get(f"/v1/products/{product_id}")).json()["owner_id"]
    assert [(e.payload["id"], e.payload["status"], e.owner_ids) for e in expired] == [
        (held["id"], "expired", [owner_id])
    ]
    assert expired[0].partner_key_id == await db.scalar(select(Booking.api_key_id))


async def test_a_hold_cancelled_before_the_sweep_is_not_released_again(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    clock: FakeClock,
    sweeper: HoldSweeper,
    hold_via_api: HoldViaApi,
    product_id: str,
    db: AsyncSession,
) -> None:
    kept = (await hold_via_api(product_id, ("adult", 2))).json()
    cancelled = (await hold_via_api(product_id, ("adult", 3))).json()
    await client.post(f"/v1/bookings/{cancelled['id']}/cancel", headers=partner)
    await client.post(
        f"/v1/bookings/{kept['id']}/confirm", json={"contact": CONTACT}, headers=partner
    )
    clock.advance(timedelta(minutes=15))

    assert await sweeper.run_once() == 0
    assert await taken_and_live_people(db, clock.now()) == (2, 2)
