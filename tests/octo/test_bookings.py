"""Bookings through OCTO: reserve (with the reseller's `uuid`), confirm, extend, cancel, get and
list; the uuid's idempotency; refusals in OCTO's terms."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Booking, ExperienceSlot, Role
from tests.helpers import FakeClock, KeyFactory, vn

pytestmark = pytest.mark.anyio

NINE = "2025-11-08T09:00:00+07:00"
CONTACT = {
    "fullName": "Nguyễn Văn An",
    "emailAddress": "an@example.vn",
    "phoneNumber": "+84 912 345 678",
    "locales": ["vi"],
    "country": "vn",
}


def reservation(product_id: str, *units: str, **fields: Any) -> dict[str, Any]:
    """A reservation of these units (default: two adults and a child) at 09:00 on 8 November."""
    return {
        "uuid": str(uuid.uuid4()),
        "productId": product_id,
        "optionId": "DEFAULT",
        "availabilityId": NINE,
        "unitItems": [{"unitId": unit} for unit in units or ("adult", "adult", "child")],
        **fields,
    }


async def reserve(octo: httpx.AsyncClient, product_id: str, *units: str, **fields: Any) -> Any:
    answer = await octo.post("/bookings", json=reservation(product_id, *units, **fields))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def taken(db: AsyncSession) -> int:
    await db.rollback()
    return int(await db.scalar(select(func.sum(ExperienceSlot.taken))) or 0)


async def test_a_reservation_holds_the_places_of_its_unit_items(
    octo: httpx.AsyncClient, product_id: str, db: AsyncSession
) -> None:
    body = reservation(product_id, resellerReference="VOUCHER-1", notes="Xe lăn")

    answer = await octo.post("/bookings", json=body)

    assert answer.status_code == 200
    booking = answer.json()
    assert booking["uuid"] == body["uuid"]
    assert booking["status"] == "ON_HOLD"
    assert booking["utcExpiresAt"] == "2025-11-01T01:15:00Z"  # 15 minutes, the product's hold
    assert booking["availabilityId"] == NINE
    assert booking["availability"]["vacancies"] == 37
    assert booking["resellerReference"] == "VOUCHER-1"
    assert booking["supplierReference"].startswith("LB")
    assert booking["notes"] == "Xe lăn"
    assert [item["unitId"] for item in booking["unitItems"]] == ["adult", "adult", "child"]
    assert [item["ticket"] for item in booking["unitItems"]] == [None, None, None]
    assert booking["cancellable"] is True
    assert await taken(db) == 3


async def test_expiration_minutes_sets_the_hold_up_to_the_limit(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    short = await reserve(octo, product_id, expirationMinutes=5)
    long = await reserve(octo, product_id, expirationMinutes=600)

    assert short["utcExpiresAt"] == "2025-11-01T01:05:00Z"
    assert long["utcExpiresAt"] == "2025-11-01T03:00:00Z"  # 120 minutes at most


async def test_the_same_uuid_again_gives_the_same_booking_and_holds_nothing_more(
    octo: httpx.AsyncClient, product_id: str, db: AsyncSession
) -> None:
    body = reservation(product_id)
    first = await octo.post("/bookings", json=body)

    again = await octo.post("/bookings", json=body)

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert await taken(db) == 3
    await db.rollback()
    assert await db.scalar(select(func.count()).select_from(Booking)) == 1


async def test_a_uuid_is_the_key_s_own_another_partner_books_with_it_anew(
    octo: httpx.AsyncClient, product_id: str, make_key: KeyFactory, db: AsyncSession
) -> None:
    body = reservation(product_id)
    mine = await octo.post("/bookings", json=body)
    other = await make_key(Role.partner, name="other reseller")

    theirs = await octo.post("/bookings", json=body, headers=other)

    assert theirs.status_code == 200
    assert theirs.json()["uuid"] == body["uuid"]
    assert theirs.json()["id"] != mine.json()["id"]
    assert await taken(db) == 6


async def test_without_a_uuid_one_is_given_and_finds_the_booking(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    body = reservation(product_id)
    del body["uuid"]
    booking = (await octo.post("/bookings", json=body)).json()

    found = await octo.get(f"/bookings/{booking['uuid']}")

    assert found.json()["id"] == booking["id"]


async def test_confirming_issues_one_ticket_per_unit_item(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    held = await reserve(octo, product_id, "adult", "child", "infant")

    answer = await octo.post(
        f"/bookings/{held['uuid']}/confirm",
        json={"contact": CONTACT, "resellerReference": "VOUCHER-2"},
    )

    assert answer.status_code == 200
    booking = answer.json()
    assert booking["status"] == "CONFIRMED"
    assert booking["utcConfirmedAt"] == "2025-11-01T01:00:00Z"
    assert booking["utcExpiresAt"] is None
    assert booking["resellerReference"] == "VOUCHER-2"
    assert booking["contact"]["fullName"] == "Nguyễn Văn An"
    assert booking["contact"]["emailAddress"] == "an@example.vn"
    assert booking["contact"]["country"] == "VN"
    assert booking["contact"]["locales"] == ["vi"]
    items = booking["unitItems"]
    assert [item["uuid"] for item in items] == [item["uuid"] for item in held["unitItems"]]
    assert {item["status"] for item in items} == {"CONFIRMED"}
    payloads = [item["ticket"]["deliveryOptions"][0]["deliveryValue"] for item in items]
    assert len(set(payloads)) == 3
    assert all(p.startswith("OCOP-TICKET:") for p in payloads)


async def test_the_tickets_are_those_of_the_v1_booking(
    octo: httpx.AsyncClient, client: httpx.AsyncClient, partner: dict[str, str], product_id: str
) -> None:
    held = await reserve(octo, product_id, "adult")
    confirmed = (
        await octo.post(f"/bookings/{held['uuid']}/confirm", json={"contact": CONTACT})
    ).json()

    native = await client.get(f"/v1/bookings/{held['id']}", headers=partner)

    assert [t["qr_payload"] for t in native.json()["tickets"]] == [
        item["ticket"]["deliveryOptions"][0]["deliveryValue"] for item in confirmed["unitItems"]
    ]


async def test_first_and_last_names_make_the_name(octo: httpx.AsyncClient, product_id: str) -> None:
    held = await reserve(octo, product_id)
    contact = {"firstName": "Mai", "lastName": "Lý Thị", "phoneNumber": "0912345678"}

    answer = await octo.post(f"/bookings/{held['uuid']}/confirm", json={"contact": contact})

    assert answer.json()["contact"]["fullName"] == "Mai Lý Thị"


async def test_confirming_twice_gives_the_confirmed_booking_back(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    held = await reserve(octo, product_id)
    first = await octo.post(f"/bookings/{held['uuid']}/confirm", json={"contact": CONTACT})

    again = await octo.post(f"/bookings/{held['uuid']}/confirm", json={"contact": CONTACT})

    assert again.status_code == 200
    assert again.json()["unitItems"] == first.json()["unitItems"]


async def test_confirming_without_a_name_or_a_way_to_reach_them_is_bad_request(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    held = await reserve(octo, product_id)

    answer = await octo.post(
        f"/bookings/{held['uuid']}/confirm", json={"contact": {"fullName": "An"}}
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "BAD_REQUEST"


async def test_confirming_an_expired_hold_is_invalid_booking_uuid(
    octo: httpx.AsyncClient, product_id: str, clock: FakeClock
) -> None:
    held = await reserve(octo, product_id)
    clock.advance(timedelta(minutes=15))

    answer = await octo.post(f"/bookings/{held['uuid']}/confirm", json={"contact": CONTACT})

    assert answer.json()["error"] == "INVALID_BOOKING_UUID"
    assert answer.json()["uuid"] == held["uuid"]


async def test_a_hold_past_its_expiry_reads_expired_at_once(
    octo: httpx.AsyncClient, product_id: str, clock: FakeClock
) -> None:
    held = await reserve(octo, product_id)
    clock.advance(timedelta(minutes=15))

    answer = await octo.get(f"/bookings/{held['uuid']}")

    assert answer.json()["status"] == "EXPIRED"
    assert answer.json()["cancellable"] is False
    assert {item["status"] for item in answer.json()["unitItems"]} == {"EXPIRED"}


async def test_extending_pushes_the_expiry_from_now(
    octo: httpx.AsyncClient, product_id: str, clock: FakeClock
) -> None:
    held = await reserve(octo, product_id)
    clock.advance(timedelta(minutes=10))

    answer = await octo.post(f"/bookings/{held['uuid']}/extend", json={"expirationMinutes": 30})

    assert answer.status_code == 200
    assert answer.json()["utcExpiresAt"] == "2025-11-01T01:40:00Z"


async def test_extending_an_expired_hold_is_invalid_booking_uuid(
    octo: httpx.AsyncClient, product_id: str, clock: FakeClock
) -> None:
    held = await reserve(octo, product_id)
    clock.advance(timedelta(minutes=16))

    answer = await octo.post(f"/bookings/{held['uuid']}/extend", json={"expirationMinutes": 30})

    assert answer.json()["error"] == "INVALID_BOOKING_UUID"


async def test_cancelling_returns_the_places_once(
    octo: httpx.AsyncClient, product_id: str, db: AsyncSession
) -> None:
    held = await reserve(octo, product_id)
    await octo.post(f"/bookings/{held['uuid']}/confirm", json={"contact": CONTACT})

    first = await octo.post(f"/bookings/{held['uuid']}/cancel", json={"reason": "Ốm"})
    again = await octo.post(f"/bookings/{held['uuid']}/cancel", json={"reason": "Ốm"})

    assert first.status_code == 200
    assert first.json()["status"] == "CANCELLED"
    assert first.json()["cancellation"] == {
        "refund": "FULL",
        "reason": "Ốm",
        "utcCancelledAt": "2025-11-01T01:00:00Z",
    }
    assert first.json()["cancellable"] is False
    assert again.json() == first.json()
    assert await taken(db) == 0


async def test_a_started_booking_cannot_be_cancelled(
    octo: httpx.AsyncClient, product_id: str, clock: FakeClock
) -> None:
    held = await reserve(octo, product_id)
    await octo.post(f"/bookings/{held['uuid']}/confirm", json={"contact": CONTACT})
    clock.set(vn(8, 9))

    read = await octo.get(f"/bookings/{held['uuid']}")
    answer = await octo.post(f"/bookings/{held['uuid']}/cancel", json={})

    assert read.json()["cancellable"] is False
    assert answer.status_code == 400
    assert answer.json()["error"] == "UNPROCESSABLE_ENTITY"


async def test_the_list_finds_the_key_s_bookings_by_reference_or_dates(
    octo: httpx.AsyncClient, product_id: str, make_key: KeyFactory
) -> None:
    first = await reserve(octo, product_id, resellerReference="R-1")
    later = await reserve(
        octo, product_id, availabilityId="2025-11-10T14:00:00+07:00", resellerReference="R-2"
    )
    other = await make_key(Role.partner, name="other reseller")
    theirs = await octo.post("/bookings", json=reservation(product_id), headers=other)
    assert theirs.status_code == 200

    by_reference = await octo.get("/bookings", params={"resellerReference": "R-2"})
    by_supplier = await octo.get(
        "/bookings", params={"supplierReference": first["supplierReference"]}
    )
    by_date = await octo.get("/bookings", params={"localDate": "2025-11-08"})
    by_range = await octo.get(
        "/bookings",
        params={
            "localDateStart": "2025-11-01",
            "localDateEnd": "2025-11-30",
            "productId": product_id,
        },
    )

    assert [b["uuid"] for b in by_reference.json()] == [later["uuid"]]
    assert [b["uuid"] for b in by_supplier.json()] == [first["uuid"]]
    assert [b["uuid"] for b in by_date.json()] == [first["uuid"]]
    assert [b["uuid"] for b in by_range.json()] == [first["uuid"], later["uuid"]]


async def test_the_list_needs_a_reference_or_dates(octo: httpx.AsyncClient) -> None:
    answer = await octo.get("/bookings")

    assert answer.status_code == 400
    assert answer.json()["error"] == "BAD_REQUEST"


async def test_another_partner_s_booking_is_invalid_booking_uuid(
    octo: httpx.AsyncClient, product_id: str, make_key: KeyFactory
) -> None:
    held = await reserve(octo, product_id)
    other = await make_key(Role.partner, name="other reseller")

    for answer in [
        await octo.get(f"/bookings/{held['uuid']}", headers=other),
        await octo.post(f"/bookings/{held['uuid']}/cancel", json={}, headers=other),
    ]:
        assert answer.status_code == 400
        assert answer.json()["error"] == "INVALID_BOOKING_UUID"


@pytest.mark.parametrize("value", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"])
async def test_an_unknown_uuid_is_invalid_booking_uuid(octo: httpx.AsyncClient, value: str) -> None:
    answer = await octo.get(f"/bookings/{value}")

    assert answer.json() == {
        "error": "INVALID_BOOKING_UUID",
        "errorMessage": f"No booking of yours has the uuid {value!r}.",
        "uuid": value,
    }


@pytest.mark.parametrize(
    ("fields", "error", "attribute", "value"),
    [
        ({"productId": "nope"}, "INVALID_PRODUCT_ID", "productId", "nope"),
        ({"optionId": "VIP"}, "INVALID_OPTION_ID", "optionId", "VIP"),
        ({"unitItems": [{"unitId": "student"}]}, "INVALID_UNIT_ID", "unitId", "student"),
        (
            {"availabilityId": "2025-11-08T10:00:00+07:00"},
            "INVALID_AVAILABILITY_ID",
            "availabilityId",
            "2025-11-08T10:00:00+07:00",
        ),
        (
            {"availabilityId": "2025-11-08T02:00:00Z"},
            "INVALID_AVAILABILITY_ID",
            "availabilityId",
            "2025-11-08T02:00:00Z",
        ),
    ],
    ids=["product", "option", "unit", "no_such_start", "not_its_id"],
)
async def test_a_reservation_naming_nothing_is_refused_with_its_code(
    octo: httpx.AsyncClient,
    product_id: str,
    db: AsyncSession,
    fields: dict[str, Any],
    error: str,
    attribute: str,
    value: str,
) -> None:
    answer = await octo.post("/bookings", json={**reservation(product_id), **fields})

    assert answer.status_code == 400
    assert (answer.json()["error"], answer.json()[attribute]) == (error, value)
    assert await taken(db) == 0


async def test_a_reservation_past_the_places_left_is_unprocessable(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    await reserve(octo, product_id, *["adult"] * 39)

    answer = await octo.post("/bookings", json=reservation(product_id, "adult", "adult"))

    assert answer.status_code == 400
    assert answer.json()["error"] == "UNPROCESSABLE_ENTITY"
    assert answer.json()["errorMessage"] == "1 place(s) left; 2 asked."


async def test_the_same_uuid_at_once_holds_once(
    octo: httpx.AsyncClient, product_id: str, db: AsyncSession
) -> None:
    body = reservation(product_id)

    answers = await asyncio.gather(*(octo.post("/bookings", json=body) for _ in range(5)))

    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.json()["id"] for a in answers}) == 1
    assert await taken(db) == 3
