"""`PUT`/`GET /v1/products/{id}/experience`: who may write the settings, what they must hold
together, and what a replacement keeps."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.models import ProductGroup, Role, Unit
from tests.helpers import (
    CONTACT,
    CreateExperienceViaApi,
    HoldViaApi,
    InsertEvent,
    InsertProduct,
    KeyFactory,
    experience_body,
    problem,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def temple(insert_product: InsertProduct) -> Any:
    return await insert_product(
        name="Di tích Đình Bắc Lệ",
        group=ProductGroup.tourism,
        unit=Unit.visit,
        unit_step=1,
        stock=None,
        commune="Tân Thành",
    )


def path(product_id: Any) -> str:
    return f"/v1/products/{product_id}/experience"


async def test_put_creates_the_settings_and_get_reads_them_without_a_key(
    client: httpx.AsyncClient, admin: dict[str, str], temple: Any
) -> None:
    created = await client.put(path(temple.id), json=experience_body(), headers=admin)
    read = await client.get(path(temple.id))

    assert created.status_code == 201, created.text
    assert created.headers["location"] == path(temple.id)
    assert read.status_code == 200
    assert read.json() == created.json()
    assert read.headers["etag"] == created.headers["etag"]
    body = read.json()
    assert body["booking_mode"] == "start_time"
    assert body["schedules"] == [
        {
            "valid_from": None,
            "valid_to": None,
            "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start_times": ["09:00", "14:00"],
            "opening_from": None,
            "opening_to": None,
            "capacity": 40,
        }
    ]
    assert [(t["code"], t["places"], t["price_vnd"]) for t in body["ticket_types"]] == [
        ("adult", 1, 50_000),
        ("child", 1, 25_000),
        ("infant", 0, 0),
    ]


async def test_a_second_put_replaces_and_answers_200(
    client: httpx.AsyncClient, admin: dict[str, str], temple: Any
) -> None:
    await client.put(path(temple.id), json=experience_body(), headers=admin)
    body = experience_body(
        booking_mode="date",
        schedules=[{"opening_from": "08:00", "opening_to": "17:00", "capacity": 300}],
        closures=[{"date": "2026-01-28", "reason": "Tết"}],
    )

    replaced = await client.put(path(temple.id), json=body, headers=admin)

    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["booking_mode"] == "date"
    assert [s["capacity"] for s in replaced.json()["schedules"]] == [300]
    assert replaced.json()["closures"] == [{"date": "2026-01-28", "reason": "Tết"}]


async def test_ticket_types_keep_their_ids_by_code(
    client: httpx.AsyncClient, admin: dict[str, str], temple: Any
) -> None:
    first = (await client.put(path(temple.id), json=experience_body(), headers=admin)).json()
    types = experience_body()["ticket_types"]
    types[0]["price_vnd"] = 60_000

    second = await client.put(
        path(temple.id), json=experience_body(ticket_types=types), headers=admin
    )

    ids = {t["code"]: t["id"] for t in first["ticket_types"]}
    assert {t["code"]: t["id"] for t in second.json()["ticket_types"]} == ids
    assert second.json()["ticket_types"][0]["price_vnd"] == 60_000


async def test_a_ticket_type_left_out_is_deleted_unless_booked_then_kept_inactive(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    experience = await create_experience_via_api()
    product_id = experience["product_id"]
    held = await hold_via_api(product_id, ("adult", 1), ("child", 1))
    assert held.status_code == 201, held.text
    adult_only = [experience_body()["ticket_types"][0]]

    replaced = await client.put(
        path(product_id), json=experience_body(ticket_types=adult_only), headers=admin
    )

    assert [(t["code"], t["active"]) for t in replaced.json()["ticket_types"]] == [
        ("adult", True),
        ("child", False),
    ]


async def test_if_match_with_a_stale_tag_is_412(
    client: httpx.AsyncClient, admin: dict[str, str], temple: Any
) -> None:
    created = await client.put(path(temple.id), json=experience_body(), headers=admin)
    stale = created.headers["etag"]
    await client.put(path(temple.id), json=experience_body(hold_minutes=20), headers=admin)

    refused = await client.put(
        path(temple.id), json=experience_body(), headers={**admin, "If-Match": stale}
    )

    assert refused.status_code == 412
    assert problem(refused)["code"] == "etag_mismatch"


async def test_if_match_with_the_current_tag_writes(
    client: httpx.AsyncClient, admin: dict[str, str], temple: Any
) -> None:
    created = await client.put(path(temple.id), json=experience_body(), headers=admin)

    written = await client.put(
        path(temple.id),
        json=experience_body(hold_minutes=20),
        headers={**admin, "If-Match": created.headers["etag"]},
    )

    assert written.status_code == 200
    assert written.json()["hold_minutes"] == 20


async def test_get_with_the_current_etag_is_304(
    client: httpx.AsyncClient, admin: dict[str, str], temple: Any
) -> None:
    created = await client.put(path(temple.id), json=experience_body(), headers=admin)

    cached = await client.get(path(temple.id), headers={"If-None-Match": created.headers["etag"]})

    assert cached.status_code == 304


async def test_only_tourism_products_take_settings(
    client: httpx.AsyncClient, admin: dict[str, str], insert_product: InsertProduct
) -> None:
    mandarin = await insert_product(group=ProductGroup.food)

    refused = await client.put(path(mandarin.id), json=experience_body(), headers=admin)

    assert refused.status_code == 422
    assert problem(refused)["code"] == "not_tourism"


async def test_an_owner_writes_its_own_products_settings(
    client: httpx.AsyncClient, make_key: KeyFactory, temple: Any
) -> None:
    owner = await make_key(Role.owner, owner_id=temple.owner_id)

    written = await client.put(path(temple.id), json=experience_body(), headers=owner)

    assert written.status_code == 201


async def test_an_owner_may_not_write_another_owners_settings(
    client: httpx.AsyncClient, make_key: KeyFactory, temple: Any, insert_product: InsertProduct
) -> None:
    other = await insert_product(group=ProductGroup.tourism, unit=Unit.visit, stock=None)
    owner = await make_key(Role.owner, owner_id=other.owner_id)

    refused = await client.put(path(temple.id), json=experience_body(), headers=owner)

    assert refused.status_code == 403
    assert problem(refused)["code"] == "not_your_product"


async def test_a_partner_may_not_write_settings(
    client: httpx.AsyncClient, partner: dict[str, str], temple: Any
) -> None:
    refused = await client.put(path(temple.id), json=experience_body(), headers=partner)

    assert refused.status_code == 403


async def test_settings_of_a_product_without_any_are_404(
    client: httpx.AsyncClient, temple: Any
) -> None:
    missing = await client.get(path(temple.id))

    assert missing.status_code == 404
    assert problem(missing)["code"] == "experience_not_found"


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        (
            {"schedules": [{"capacity": 40}]},  # start_time mode without start times
            ["body", "schedules", 0, "start_times"],
        ),
        (
            {"booking_mode": "date", "schedules": [{"start_times": ["09:00"], "capacity": 9}]},
            ["body", "schedules", 0, "start_times"],
        ),
        (
            {
                "schedules": [
                    {
                        "start_times": ["09:00"],
                        "valid_from": "2025-12-01",
                        "valid_to": "2025-11-01",
                        "capacity": 9,
                    }
                ]
            },
            ["body", "schedules", 0, "valid_to"],
        ),
        (
            {
                "schedules": [
                    {
                        "start_times": ["09:00"],
                        "opening_from": "17:00",
                        "opening_to": "08:00",
                        "capacity": 9,
                    }
                ]
            },
            ["body", "schedules", 0, "opening_to"],
        ),
        (
            {"closures": [{"date": "2025-11-08"}, {"date": "2025-11-08"}]},
            ["body", "closures", 1, "date"],
        ),
        (
            {
                "ticket_types": [
                    {"code": "adult", "name": "A", "price_vnd": 1},
                    {"code": "adult", "name": "B", "price_vnd": 2},
                ]
            },
            ["body", "ticket_types", 1, "code"],
        ),
        (
            {"ticket_types": [{"code": "infant", "name": "Em bé", "price_vnd": 0, "places": 0}]},
            ["body", "ticket_types"],
        ),
    ],
    ids=[
        "start_times_missing",
        "start_times_in_date_mode",
        "range_backwards",
        "hours_backwards",
        "closure_twice",
        "code_twice",
        "no_type_takes_a_place",
    ],
)
async def test_settings_that_do_not_hold_together_are_422(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    temple: Any,
    fields: dict[str, Any],
    loc: list[Any],
) -> None:
    refused = await client.put(path(temple.id), json=experience_body(**fields), headers=admin)

    assert refused.status_code == 422
    body = problem(refused)
    assert body["code"] == "invalid_experience"
    assert [e["loc"] for e in body["errors"]] == [loc]


@pytest.mark.parametrize(
    "fields",
    [
        {"hold_minutes": 0},
        {"hold_minutes": 121},
        {"schedules": [{"start_times": ["09:00"], "capacity": 10_001}]},
        {"schedules": [{"start_times": ["9:00"], "capacity": 10}]},
        {"schedules": [{"start_times": ["24:00"], "capacity": 10}]},
        {"schedules": [{"start_times": ["09:00", "09:00"], "capacity": 10}]},
        {"ticket_types": [{"code": "Adult", "name": "A", "price_vnd": 1}]},
        {"ticket_types": [{"code": "adult", "name": "A", "price_vnd": -1}]},
        {"ticket_types": [{"code": "adult", "name": "A", "price_vnd": "1"}]},
    ],
    ids=[
        "hold_0",
        "hold_121",
        "capacity_over",
        "time_unpadded",
        "time_24",
        "time_twice",
        "code_case",
        "price_negative",
        "price_string",
    ],
)
async def test_values_out_of_bounds_are_refused_by_the_schema(
    client: httpx.AsyncClient, admin: dict[str, str], temple: Any, fields: dict[str, Any]
) -> None:
    refused = await client.put(path(temple.id), json=experience_body(**fields), headers=admin)

    assert refused.status_code == 422
    assert problem(refused)["code"] == "validation_error"


async def test_an_unknown_event_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], temple: Any
) -> None:
    refused = await client.put(
        path(temple.id),
        json=experience_body(event_id="00000000-0000-4000-8000-000000000000"),
        headers=admin,
    )

    assert refused.status_code == 422
    assert problem(refused)["code"] == "unknown_event"


async def test_an_event_is_named_by_its_id(
    client: httpx.AsyncClient, admin: dict[str, str], temple: Any, insert_event: InsertEvent
) -> None:
    festival = await insert_event()

    written = await client.put(
        path(temple.id), json=experience_body(event_id=str(festival.id)), headers=admin
    )

    assert written.status_code == 201
    assert written.json()["event_id"] == str(festival.id)


async def test_the_booking_mode_cannot_change_under_live_bookings(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    product_id = (await create_experience_via_api())["product_id"]
    held = await hold_via_api(product_id)
    confirmed = await client.post(
        f"/v1/bookings/{held.json()['id']}/confirm", json={"contact": CONTACT}, headers=partner
    )
    assert confirmed.status_code == 200, confirmed.text
    by_date = experience_body(booking_mode="date", schedules=[{"capacity": 100}])

    refused = await client.put(path(product_id), json=by_date, headers=admin)

    assert refused.status_code == 409
    assert problem(refused)["code"] == "booking_mode_locked"
