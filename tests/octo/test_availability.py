"""The availability calendar (one object per local date) and the availability check (one per
start time, or per date when booked by date), whose ids a reservation names."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import CreateExperienceViaApi, FakeClock, HoldViaApi, vn

pytestmark = pytest.mark.anyio


def ask(product_id: str, **fields: Any) -> dict[str, Any]:
    return {"productId": product_id, "optionId": "DEFAULT", **fields}


async def test_the_calendar_gives_each_local_date_with_its_places(
    octo: httpx.AsyncClient, product_id: str, hold_via_api: HoldViaApi
) -> None:
    held = await hold_via_api(product_id, ("adult", 30))  # of 40 at 09:00 on 8 November
    assert held.status_code == 201, held.text

    answer = await octo.post(
        "/availability/calendar",
        json=ask(product_id, localDateStart="2025-11-07", localDateEnd="2025-11-08"),
    )

    assert answer.status_code == 200
    assert answer.json() == [
        {
            "localDate": "2025-11-07",
            "available": True,
            "status": "AVAILABLE",
            "vacancies": 80,
            "capacity": 80,
            "openingHours": [],
        },
        {
            "localDate": "2025-11-08",
            "available": True,
            "status": "AVAILABLE",
            "vacancies": 50,
            "capacity": 80,
            "openingHours": [],
        },
    ]


async def test_the_calendar_of_a_31_day_month_has_31_dates(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    answer = await octo.post(
        "/availability/calendar",
        json=ask(product_id, localDateStart="2025-12-01", localDateEnd="2025-12-31"),
    )

    assert [day["localDate"] for day in answer.json()] == [f"2025-12-{d:02}" for d in range(1, 32)]


async def test_a_closed_date_is_closed_in_the_calendar(
    octo: httpx.AsyncClient, create_experience_via_api: CreateExperienceViaApi
) -> None:
    experience = await create_experience_via_api(
        closures=[{"date": "2025-11-09", "reason": "Lễ hội"}]
    )

    answer = await octo.post(
        "/availability/calendar",
        json=ask(
            str(experience["product_id"]), localDateStart="2025-11-09", localDateEnd="2025-11-09"
        ),
    )

    [day] = answer.json()
    assert (day["status"], day["available"], day["vacancies"]) == ("CLOSED", False, 0)


async def test_limited_is_below_half_of_the_places_left_as_octo_defines_it(
    octo: httpx.AsyncClient, product_id: str, hold_via_api: HoldViaApi
) -> None:
    for quantity in (20, 21):  # 09:00: 20 of 40 left (half); 14:00: 19 of 40
        start = "09:00" if quantity == 20 else "14:00"
        held = await hold_via_api(product_id, ("adult", quantity), start_time=start)
        assert held.status_code == 201, held.text

    answer = await octo.post("/availability", json=ask(product_id, localDate="2025-11-08"))

    assert [(a["status"], a["vacancies"]) for a in answer.json()] == [
        ("AVAILABLE", 20),
        ("LIMITED", 19),
    ]


async def test_the_check_gives_each_start_time_with_the_id_to_book_it(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    answer = await octo.post("/availability", json=ask(product_id, localDate="2025-11-08"))

    assert answer.status_code == 200
    assert answer.json() == [
        {
            "id": "2025-11-08T09:00:00+07:00",
            "localDateTimeStart": "2025-11-08T09:00:00+07:00",
            "localDateTimeEnd": "2025-11-08T10:30:00+07:00",
            "utcCutoffAt": "2025-11-08T02:00:00Z",
            "allDay": False,
            "available": True,
            "status": "AVAILABLE",
            "vacancies": 40,
            "capacity": 40,
            "maxUnits": None,
            "openingHours": [],
        },
        {
            "id": "2025-11-08T14:00:00+07:00",
            "localDateTimeStart": "2025-11-08T14:00:00+07:00",
            "localDateTimeEnd": "2025-11-08T15:30:00+07:00",
            "utcCutoffAt": "2025-11-08T07:00:00Z",
            "allDay": False,
            "available": True,
            "status": "AVAILABLE",
            "vacancies": 40,
            "capacity": 40,
            "maxUnits": None,
            "openingHours": [],
        },
    ]


async def test_the_check_by_availability_ids_gives_those_only(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    wanted = ["2025-11-09T14:00:00+07:00", "2025-11-08T09:00:00+07:00"]

    answer = await octo.post("/availability", json=ask(product_id, availabilityIds=wanted))

    assert [a["id"] for a in answer.json()] == sorted(wanted)


async def test_the_check_over_dates_gives_every_start(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    answer = await octo.post(
        "/availability",
        json=ask(product_id, localDateStart="2025-11-08", localDateEnd="2025-11-10"),
    )

    assert len(answer.json()) == 6


async def test_a_start_past_its_cutoff_is_closed(
    octo: httpx.AsyncClient, product_id: str, clock: FakeClock
) -> None:
    clock.set(vn(8, 10))

    answer = await octo.post("/availability", json=ask(product_id, localDate="2025-11-08"))

    assert [(a["status"], a["available"], a["vacancies"]) for a in answer.json()] == [
        ("CLOSED", False, 0),
        ("AVAILABLE", True, 40),
    ]


async def test_a_date_booked_by_date_is_one_availability_all_day(
    octo: httpx.AsyncClient, create_experience_via_api: CreateExperienceViaApi
) -> None:
    experience = await create_experience_via_api(
        booking_mode="date",
        cutoff_minutes=60,
        schedules=[{"opening_from": "07:30", "opening_to": "17:00", "capacity": 200}],
    )

    answer = await octo.post(
        "/availability", json=ask(str(experience["product_id"]), localDate="2025-11-08")
    )

    [availability] = answer.json()
    assert availability["id"] == "2025-11-08T00:00:00+07:00"
    assert availability["allDay"] is True
    assert availability["localDateTimeEnd"] == "2025-11-09T00:00:00+07:00"
    assert availability["utcCutoffAt"] == "2025-11-07T23:30:00Z"
    assert availability["openingHours"] == [{"from": "07:30", "to": "17:00"}]
    assert (availability["vacancies"], availability["capacity"]) == (200, 200)


async def test_units_asked_about_that_do_not_fit_are_not_available(
    octo: httpx.AsyncClient, product_id: str, hold_via_api: HoldViaApi
) -> None:
    held = await hold_via_api(product_id, ("adult", 38))  # 2 left at 09:00
    assert held.status_code == 201, held.text
    units = [{"id": "adult", "quantity": 2}, {"id": "child", "quantity": 1}]

    answer = await octo.post(
        "/availability", json=ask(product_id, localDate="2025-11-08", units=units)
    )

    assert [(a["available"], a["vacancies"]) for a in answer.json()] == [(False, 2), (True, 40)]


@pytest.mark.parametrize(
    ("fields", "error", "attribute"),
    [
        ({"optionId": "VIP"}, "INVALID_OPTION_ID", "optionId"),
        ({"units": [{"id": "student", "quantity": 1}]}, "INVALID_UNIT_ID", "unitId"),
        ({"availabilityIds": ["tomorrow"]}, "INVALID_AVAILABILITY_ID", "availabilityId"),
    ],
    ids=["option", "unit", "availability"],
)
async def test_an_id_that_names_nothing_is_refused_with_its_code(
    octo: httpx.AsyncClient,
    product_id: str,
    fields: dict[str, Any],
    error: str,
    attribute: str,
) -> None:
    answer = await octo.post(
        "/availability", json={**ask(product_id, localDate="2025-11-08"), **fields}
    )

    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == error
    assert body[attribute] in ("VIP", "student", "tomorrow")


async def test_an_unknown_product_is_invalid_product_id_in_the_calendar(
    octo: httpx.AsyncClient,
) -> None:
    answer = await octo.post(
        "/availability/calendar",
        json=ask(
            "6b903d44-dc24-4ca4-ae71-6bde6c4f4854",
            localDateStart="2025-11-08",
            localDateEnd="2025-11-09",
        ),
    )

    assert answer.json() == {
        "error": "INVALID_PRODUCT_ID",
        "errorMessage": "No bookable product '6b903d44-dc24-4ca4-ae71-6bde6c4f4854'.",
        "productId": "6b903d44-dc24-4ca4-ae71-6bde6c4f4854",
    }


@pytest.mark.parametrize(
    "fields",
    [
        {},  # no date at all
        {"localDateStart": "2025-11-08"},  # a range without its end
        {"localDateStart": "2025-11-01", "localDateEnd": "2026-03-01"},  # over 92 days
        {"localDate": "8/11/2025"},
    ],
    ids=["no_date", "half_range", "too_long", "not_a_date"],
)
async def test_a_check_that_asks_no_dates_properly_is_bad_request(
    octo: httpx.AsyncClient, product_id: str, fields: dict[str, Any]
) -> None:
    answer = await octo.post("/availability", json=ask(product_id, **fields))

    assert answer.status_code == 400
    assert answer.json()["error"] == "BAD_REQUEST"
