"""`POST /v1/bookings`: a hold on places, and every reason one is refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.changes import COMMIT_DEADLINE
from app.models import Booking, ExperienceSlot, Role
from tests.helpers import (
    CreateExperienceViaApi,
    FakeClock,
    HoldViaApi,
    KeyFactory,
    booking_body,
    experience_body,
    idem,
    problem,
    vn,
)

pytestmark = pytest.mark.anyio


async def slot_taken(db: AsyncSession) -> list[int]:
    await db.rollback()
    return list(await db.scalars(select(ExperienceSlot.taken).order_by(ExperienceSlot.date)))


async def booking_count(db: AsyncSession) -> int:
    await db.rollback()
    return int(await db.scalar(select(func.count()).select_from(Booking)) or 0)


async def test_a_hold_takes_places_until_it_expires(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi, db: AsyncSession
) -> None:
    product_id = (await create_experience_via_api())["product_id"]

    held = await hold_via_api(
        product_id,
        ("adult", 2),
        ("child", 1),
        ("infant", 1),
        reseller_reference="VX-1234",
        notes="Đoàn gia đình",
    )

    assert held.status_code == 201, held.text
    body = held.json()
    assert held.headers["location"] == f"/v1/bookings/{body['id']}"
    assert body["status"] == "on_hold"
    assert body["expires_at"] == "2025-11-01T01:15:00Z"
    assert (body["date"], body["start_time"]) == ("2025-11-08", "09:00")
    assert body["people"] == 3
    assert body["total_vnd"] == 125_000
    assert [(u["ticket_type"], u["quantity"], u["total_vnd"]) for u in body["units"]] == [
        ("adult", 2, 100_000),
        ("child", 1, 25_000),
        ("infant", 1, 0),
    ]
    assert (body["reseller_reference"], body["notes"]) == ("VX-1234", "Đoàn gia đình")
    assert body["tickets"] == []
    assert body["reference"].startswith("LB251101-")
    assert await slot_taken(db) == [3]


async def test_units_of_one_type_are_merged(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    product_id = (await create_experience_via_api())["product_id"]

    held = await hold_via_api(product_id, ("adult", 1), ("child", 1), ("adult", 2))

    assert [(u["ticket_type"], u["quantity"]) for u in held.json()["units"]] == [
        ("adult", 3),
        ("child", 1),
    ]


async def test_the_same_idempotency_key_replays_the_hold(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    create_experience_via_api: CreateExperienceViaApi,
    db: AsyncSession,
) -> None:
    product_id = (await create_experience_via_api())["product_id"]
    headers = idem(partner)

    first = await client.post("/v1/bookings", json=booking_body(product_id), headers=headers)
    again = await client.post("/v1/bookings", json=booking_body(product_id), headers=headers)

    assert [first.status_code, again.status_code] == [201, 201]
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await booking_count(db) == 1
    assert await slot_taken(db) == [1]


async def test_a_hold_needs_an_idempotency_key(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    create_experience_via_api: CreateExperienceViaApi,
) -> None:
    product_id = (await create_experience_via_api())["product_id"]

    refused = await client.post("/v1/bookings", json=booking_body(product_id), headers=partner)

    assert refused.status_code == 400
    assert problem(refused)["code"] == "idempotency_key_required"


async def test_an_owner_key_may_not_hold(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    create_experience_via_api: CreateExperienceViaApi,
) -> None:
    product_id = (await create_experience_via_api())["product_id"]
    owner = await make_key(Role.owner, owner_id=(await _owner_of(client, product_id)))

    refused = await client.post("/v1/bookings", json=booking_body(product_id), headers=idem(owner))

    assert refused.status_code == 403


async def _owner_of(client: httpx.AsyncClient, product_id: str) -> uuid.UUID:
    product = (await client.get(f"/v1/products/{product_id}")).json()
    return uuid.UUID(product["owner_id"])


async def test_too_many_people_for_the_places_left_is_409_naming_them(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi, db: AsyncSession
) -> None:
    product_id = (
        await create_experience_via_api(schedules=[{"start_times": ["09:00"], "capacity": 5}])
    )["product_id"]
    assert (await hold_via_api(product_id, ("adult", 3))).status_code == 201

    refused = await hold_via_api(product_id, ("adult", 2), ("child", 1))

    assert refused.status_code == 409
    body = problem(refused)
    assert (body["code"], body["places_left"], body["people"]) == ("insufficient_capacity", 2, 3)
    assert await slot_taken(db) == [3]


async def test_a_full_start_is_sold_out(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    product_id = (
        await create_experience_via_api(schedules=[{"start_times": ["09:00"], "capacity": 2}])
    )["product_id"]
    assert (await hold_via_api(product_id, ("adult", 2))).status_code == 201

    refused = await hold_via_api(product_id, ("adult", 1))

    assert refused.status_code == 409
    assert (problem(refused)["code"], problem(refused)["places_left"]) == ("sold_out", 0)


async def test_a_start_whose_capacity_was_lowered_below_its_holds_is_sold_out(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    db: AsyncSession,
) -> None:
    """The site cuts a start's places to fewer than it has held: its holds stand, the next hold
    is 409 sold out (not a broken CHECK), and nothing changes; raised again, it takes holds."""

    async def places(capacity: int) -> None:
        body = experience_body(schedules=[{"start_times": ["09:00"], "capacity": capacity}])
        path = f"/v1/products/{product_id}/experience"
        assert (await client.put(path, json=body, headers=admin)).status_code == 200

    product_id = (
        await create_experience_via_api(schedules=[{"start_times": ["09:00"], "capacity": 4}])
    )["product_id"]
    assert (await hold_via_api(product_id, ("adult", 3))).status_code == 201
    await places(2)

    refused = await hold_via_api(product_id, ("adult", 1))

    assert refused.status_code == 409
    assert (problem(refused)["code"], problem(refused)["places_left"]) == ("sold_out", 0)
    assert await slot_taken(db) == [3]
    await places(5)
    assert (await hold_via_api(product_id, ("adult", 2))).status_code == 201
    assert await slot_taken(db) == [5]


async def test_a_hold_that_would_commit_past_the_feeds_deadline_is_503_and_holds_nothing(
    app: FastAPI,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    db: AsyncSession,
) -> None:
    """A hold writes its booking (and marks expired holds) on the driver, not through the ORM:
    it still starts the change feeds' commit deadline (app.core.changes), so a hold that would
    commit too late for the feeds is refused whole."""
    product_id = (await create_experience_via_api())["product_id"]
    # From now on, every write of the app's sessions commits too late.
    for sessions in (app.state.sessionmaker, app.state.writer_sessionmaker):
        sessions.kw["bind"].sync_engine.update_execution_options(**{COMMIT_DEADLINE: 1e-6})

    refused = await hold_via_api(product_id, ("adult", 2))

    assert refused.status_code == 503
    assert problem(refused)["code"] == "commit_deadline"
    assert await booking_count(db) == 0
    assert await slot_taken(db) == []


async def test_infants_take_no_place(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    product_id = (
        await create_experience_via_api(schedules=[{"start_times": ["09:00"], "capacity": 2}])
    )["product_id"]

    held = await hold_via_api(product_id, ("adult", 2), ("infant", 2))

    assert held.status_code == 201
    assert held.json()["people"] == 2


async def test_a_closed_date_is_409_closed(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    product_id = (await create_experience_via_api(closures=[{"date": "2025-11-08"}]))["product_id"]

    refused = await hold_via_api(product_id)

    assert refused.status_code == 409
    assert (problem(refused)["code"], problem(refused)["reason"]) == ("closed", "closure")


async def test_a_start_time_not_offered_is_409_closed(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    product_id = (await create_experience_via_api())["product_id"]

    refused = await hold_via_api(product_id, start_time="10:00")

    assert refused.status_code == 409
    assert problem(refused)["code"] == "closed"


async def test_past_the_cutoff_is_409(
    clock: FakeClock, create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    product_id = (await create_experience_via_api(cutoff_minutes=30))["product_id"]
    clock.set(vn(8, 8) + timedelta(minutes=30))

    refused = await hold_via_api(product_id)

    assert refused.status_code == 409
    assert problem(refused)["code"] == "past_cutoff"


async def test_an_archived_product_cannot_be_booked(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    product_id = (await create_experience_via_api())["product_id"]
    await client.post(f"/v1/products/{product_id}/archive", headers=admin)

    refused = await hold_via_api(product_id)

    assert refused.status_code == 409
    assert (problem(refused)["code"], problem(refused)["reason"]) == ("closed", "unavailable")


async def test_a_product_without_settings_is_422(hold_via_api: HoldViaApi) -> None:
    refused = await hold_via_api(uuid.uuid4())

    assert refused.status_code == 422
    assert problem(refused)["code"] == "unknown_experience"


async def test_start_time_mode_needs_a_start_time(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    product_id = (await create_experience_via_api())["product_id"]

    refused = await hold_via_api(product_id, start_time=None)

    assert refused.status_code == 422
    assert problem(refused)["code"] == "start_time_required"


async def test_date_mode_takes_no_start_time(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    product_id = (
        await create_experience_via_api(booking_mode="date", schedules=[{"capacity": 100}])
    )["product_id"]

    refused = await hold_via_api(product_id, start_time="09:00")
    held = await hold_via_api(product_id, start_time=None)

    assert refused.status_code == 422
    assert problem(refused)["code"] == "start_time_not_allowed"
    assert held.status_code == 201
    assert held.json()["start_time"] is None


async def test_a_dates_holds_share_its_one_slot_up_to_its_capacity(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi, db: AsyncSession
) -> None:
    """In date mode the slot has no start time (its own unique index, NULLs being distinct):
    later holds find and lock the slot the first made, and it fills up."""
    product_id = (
        await create_experience_via_api(booking_mode="date", schedules=[{"capacity": 3}])
    )["product_id"]

    assert (await hold_via_api(product_id, ("adult", 2), start_time=None)).status_code == 201
    assert (await hold_via_api(product_id, ("adult", 1), start_time=None)).status_code == 201
    refused = await hold_via_api(product_id, ("adult", 1), start_time=None)

    assert refused.status_code == 409
    assert problem(refused)["code"] == "sold_out"
    assert await slot_taken(db) == [3]


async def test_units_of_unknown_types_or_off_bounds_are_422_each_named(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    types = experience_body()["ticket_types"]
    types[1] = {**types[1], "max_per_booking": 2}
    product_id = (await create_experience_via_api(ticket_types=types))["product_id"]

    refused = await hold_via_api(product_id, ("adult", 1), ("senior", 1), ("child", 3))

    assert refused.status_code == 422
    body = problem(refused)
    assert body["code"] == "invalid_units"
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["body", "units", 1, "ticket_type"], "unknown_ticket_type"),
        (["body", "units", 2, "quantity"], "quantity_range"),
    ]


async def test_a_required_ticket_type_must_be_booked(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    types = experience_body()["ticket_types"]
    types[0] = {**types[0], "min_per_booking": 1}
    product_id = (await create_experience_via_api(ticket_types=types))["product_id"]

    refused = await hold_via_api(product_id, ("child", 1))

    assert refused.status_code == 422
    assert problem(refused)["errors"][0]["msg"] == "needs at least 1 adult"


async def test_a_booking_of_infants_only_is_422(
    create_experience_via_api: CreateExperienceViaApi, hold_via_api: HoldViaApi
) -> None:
    product_id = (await create_experience_via_api())["product_id"]

    refused = await hold_via_api(product_id, ("infant", 1))

    assert refused.status_code == 422
    assert problem(refused)["code"] == "no_places"


async def test_a_reserve_releases_the_slots_expired_holds(
    clock: FakeClock,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    db: AsyncSession,
) -> None:
    product_id = (
        await create_experience_via_api(schedules=[{"start_times": ["09:00"], "capacity": 4}])
    )["product_id"]
    first = await hold_via_api(product_id, ("adult", 4))
    clock.advance(timedelta(minutes=15))

    second = await hold_via_api(product_id, ("adult", 3))

    assert second.status_code == 201, second.text
    await db.rollback()
    assert await db.scalar(
        select(Booking.status).where(Booking.id == uuid.UUID(first.json()["id"]))
    ) == ("expired")
    assert await slot_taken(db) == [3]
