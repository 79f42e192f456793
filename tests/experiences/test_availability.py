"""`GET /v1/experiences/{id}/availability[/calendar]`: what each local date and start time has
left, computed from the bookings themselves, in a fixed number of statements."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.experiences.schemas import Calendar
from tests.helpers import (
    CreateExperienceViaApi,
    FakeClock,
    HoldViaApi,
    InsertEvent,
    counting_statements,
    problem,
    vn,
)

pytestmark = pytest.mark.anyio


def calendar_path(product_id: str, first: str, last: str) -> str:
    return f"/v1/experiences/{product_id}/availability/calendar?from={first}&to={last}"


async def calendar_days(
    client: httpx.AsyncClient, product_id: str, first: str, last: str
) -> dict[str, dict[str, Any]]:
    """The calendar's dates, by date. The calendar is written without its models
    (`service.calendar`): every one asked for here must be the very bytes its `Calendar` model
    writes, and what the model reads."""
    response = await client.get(calendar_path(product_id, first, last))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert Calendar.model_validate_json(response.content).model_dump_json() == response.text
    return {day["date"]: day for day in response.json()["days"]}


async def date_slots(client: httpx.AsyncClient, product_id: str, day: str) -> dict[str, Any]:
    response = await client.get(f"/v1/experiences/{product_id}/availability?date={day}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_month_costs_the_statements_a_day_costs(
    app: FastAPI,
    client: httpx.AsyncClient,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    insert_event: InsertEvent,
) -> None:
    festival = await insert_event(starts_at=vn(1), days=60)
    product_id = (
        await create_experience_via_api(
            event_id=str(festival.id), closures=[{"date": "2025-12-25"}]
        )
    )["product_id"]
    for day in ("2025-12-03", "2025-12-10", "2025-12-17"):
        assert (await hold_via_api(product_id, date=day)).status_code == 201

    with counting_statements(app) as one_day:
        await calendar_days(client, product_id, "2025-12-10", "2025-12-10")
    with counting_statements(app) as month:
        days = await calendar_days(client, product_id, "2025-12-01", "2025-12-31")

    assert len(days) == 31
    assert days["2025-12-10"]["places_left"] == 79
    assert len(month) == len(one_day)


async def test_each_date_has_its_places_left_and_start_times(
    client: httpx.AsyncClient,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    product_id = (await create_experience_via_api())["product_id"]
    await hold_via_api(product_id, ("adult", 2), ("child", 1), ("infant", 1))

    days = await calendar_days(client, product_id, "2025-11-08", "2025-11-09")

    assert days["2025-11-08"] == {
        "date": "2025-11-08",
        "status": "available",
        "closed_reason": None,
        "places_left": 77,
        "capacity": 80,
        "start_times": [
            {"start_time": "09:00", "places_left": 37, "status": "available"},
            {"start_time": "14:00", "places_left": 40, "status": "available"},
        ],
    }
    assert days["2025-11-09"]["places_left"] == 80


async def test_a_date_with_a_fifth_or_less_left_is_limited(
    client: httpx.AsyncClient,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    product_id = (
        await create_experience_via_api(schedules=[{"start_times": ["09:00"], "capacity": 10}])
    )["product_id"]
    assert (await hold_via_api(product_id, ("adult", 7))).status_code == 201
    three_left = await calendar_days(client, product_id, "2025-11-08", "2025-11-08")
    assert (await hold_via_api(product_id, ("adult", 1))).status_code == 201

    two_left = await calendar_days(client, product_id, "2025-11-08", "2025-11-08")

    assert three_left["2025-11-08"]["status"] == "available"
    assert two_left["2025-11-08"]["status"] == "limited"
    assert two_left["2025-11-08"]["start_times"][0]["status"] == "limited"


async def test_a_full_date_is_sold_out(
    client: httpx.AsyncClient,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    product_id = (
        await create_experience_via_api(schedules=[{"start_times": ["09:00"], "capacity": 3}])
    )["product_id"]
    assert (await hold_via_api(product_id, ("adult", 3))).status_code == 201

    days = await calendar_days(client, product_id, "2025-11-08", "2025-11-08")

    assert days["2025-11-08"]["status"] == "sold_out"
    assert days["2025-11-08"]["places_left"] == 0


async def test_closed_dates_say_why(
    client: httpx.AsyncClient, create_experience_via_api: CreateExperienceViaApi
) -> None:
    product_id = (
        await create_experience_via_api(
            schedules=[{"start_times": ["09:00"], "capacity": 40, "weekdays": ["sat", "sun"]}],
            closures=[{"date": "2025-11-09", "reason": "Lễ hội làng"}],
        )
    )["product_id"]

    days = await calendar_days(client, product_id, "2025-11-08", "2025-11-10")

    assert [(d["status"], d["closed_reason"]) for d in days.values()] == [
        ("available", None),
        ("closed", "closure"),
        ("closed", "no_schedule"),
    ]
    assert days["2025-11-10"] == {
        "date": "2025-11-10",
        "status": "closed",
        "closed_reason": "no_schedule",
        "places_left": 0,
        "capacity": 0,
        "start_times": [],
    }


async def test_starts_past_their_cutoff_leave_the_calendar(
    client: httpx.AsyncClient,
    clock: FakeClock,
    create_experience_via_api: CreateExperienceViaApi,
) -> None:
    product_id = (await create_experience_via_api(cutoff_minutes=60))["product_id"]
    clock.set(vn(8, 10))  # past 09:00's cut-off (08:00), before 14:00's (13:00)

    days = await calendar_days(client, product_id, "2025-11-07", "2025-11-08")
    detail = await date_slots(client, product_id, "2025-11-08")

    assert days["2025-11-07"]["closed_reason"] == "past_cutoff"
    assert [s["start_time"] for s in days["2025-11-08"]["start_times"]] == ["14:00"]
    assert days["2025-11-08"]["capacity"] == 40
    assert [(s["start_time"], s["status"]) for s in detail["slots"]] == [
        ("09:00", "closed"),
        ("14:00", "available"),
    ]


async def test_an_event_experience_is_open_on_the_event_dates_only(
    client: httpx.AsyncClient,
    create_experience_via_api: CreateExperienceViaApi,
    insert_event: InsertEvent,
) -> None:
    festival = await insert_event(starts_at=vn(3, 8), days=7)  # to 10 November 08:00
    product_id = (await create_experience_via_api(event_id=str(festival.id)))["product_id"]

    days = await calendar_days(client, product_id, "2025-11-02", "2025-11-11")

    assert [d for d, day in days.items() if day["status"] != "closed"] == [
        f"2025-11-{n:02d}" for n in range(3, 11)
    ]
    assert days["2025-11-02"]["closed_reason"] == "outside_event"


async def test_a_date_in_detail_in_date_mode(
    client: httpx.AsyncClient,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    product_id = (
        await create_experience_via_api(
            booking_mode="date",
            cutoff_minutes=30,
            schedules=[{"opening_from": "08:00", "opening_to": "17:00", "capacity": 200}],
        )
    )["product_id"]
    assert (await hold_via_api(product_id, ("adult", 4), start_time=None)).status_code == 201

    detail = await date_slots(client, product_id, "2025-11-08")

    assert detail["opening_hours"] == {"from": "08:00", "to": "17:00"}
    assert detail["slots"] == [
        {
            "start_time": None,
            "starts_at": "2025-11-08T01:00:00Z",
            "ends_at": "2025-11-08T10:00:00Z",
            "cutoff_at": "2025-11-08T00:30:00Z",
            "capacity": 200,
            "places_left": 196,
            "status": "available",
        }
    ]
    # The calendar in date mode: the date's places, no start times.
    days = await calendar_days(client, product_id, "2025-11-08", "2025-11-08")
    assert days["2025-11-08"] == {
        "date": "2025-11-08",
        "status": "available",
        "closed_reason": None,
        "places_left": 196,
        "capacity": 200,
        "start_times": [],
    }


async def test_an_expired_hold_frees_its_places_at_its_expiry_without_any_worker(
    client: httpx.AsyncClient,
    clock: FakeClock,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    product_id = (await create_experience_via_api())["product_id"]
    held = await hold_via_api(product_id, ("adult", 5))
    assert held.status_code == 201

    clock.advance(timedelta(minutes=15) - timedelta(microseconds=1))
    just_before = await date_slots(client, product_id, "2025-11-08")
    clock.advance(timedelta(microseconds=1))
    at_expiry = await date_slots(client, product_id, "2025-11-08")

    assert just_before["slots"][0]["places_left"] == 35
    assert at_expiry["slots"][0]["places_left"] == 40


async def test_a_calendar_spans_at_most_92_days(
    client: httpx.AsyncClient, create_experience_via_api: CreateExperienceViaApi
) -> None:
    product_id = (await create_experience_via_api())["product_id"]

    longest = await client.get(calendar_path(product_id, "2025-11-01", "2026-01-31"))
    too_long = await client.get(calendar_path(product_id, "2025-11-01", "2026-02-01"))
    backwards = await client.get(calendar_path(product_id, "2025-11-02", "2025-11-01"))

    assert longest.status_code == 200
    assert len(longest.json()["days"]) == 92
    assert [too_long.status_code, backwards.status_code] == [422, 422]
    assert problem(too_long)["code"] == "invalid_range"


async def test_the_availability_of_a_product_without_settings_is_404(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get(
        "/v1/experiences/00000000-0000-4000-8000-000000000000/availability?date=2025-11-08"
    )

    assert missing.status_code == 404
    assert problem(missing)["code"] == "experience_not_found"
