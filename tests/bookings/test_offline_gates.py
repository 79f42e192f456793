"""Gates with a bad connection: the day's list of valid tickets (with an ETag to poll), and
the upload of check-ins made offline, resolved by time (the earliest wins, the others are
reported), idempotent, each scan refused with its reason when it must be."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CheckIn, Role
from tests.helpers import (
    BookViaApi,
    CreateExperienceViaApi,
    FakeClock,
    HoldViaApi,
    KeyFactory,
    OwnerFactory,
    Site,
    problem,
    ticket_codes,
    vn,
)

pytestmark = pytest.mark.anyio


def sha256(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def gate_list(site: Site, day: str | None = "2025-11-08") -> str:
    query = f"?date={day}" if day else ""
    return f"/v1/experiences/{site.product_id}/gate-list{query}"


def scan(code: str, at: str, gate: str = "cổng-2") -> dict[str, str]:
    """An offline scan on 8 November at `at` (HH:MM, local time)."""
    return {"code": code, "at": f"2025-11-08T{at}:00+07:00", "gate": gate}


async def upload(client: httpx.AsyncClient, site: Site, *scans: dict[str, str]) -> httpx.Response:
    return await client.post(
        f"/v1/experiences/{site.product_id}/check-ins",
        json={"check_ins": list(scans)},
        headers=site.staff,
    )


def outcomes(response: httpx.Response) -> list[tuple[str, str | None]]:
    return [(r["result"], r["reason"]) for r in response.json()["results"]]


async def ticket(client: httpx.AsyncClient, site: Site, code: str) -> dict[str, Any]:
    read: dict[str, Any] = (await client.get(f"/v1/tickets/{code}", headers=site.staff)).json()
    return read


async def check_in_rows(db: AsyncSession) -> int:
    await db.rollback()
    return int(await db.scalar(select(func.count()).select_from(CheckIn)) or 0)


# The day's list.


async def test_the_gate_list_holds_the_days_confirmed_tickets(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    site: Site,
    book_via_api: BookViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    afternoon = await book_via_api(site.product_id, ("child", 1), start_time="14:00")
    morning = await book_via_api(site.product_id, ("adult", 2))
    await book_via_api(site.product_id, date="2025-11-09")  # another day
    cancelled = await book_via_api(site.product_id)
    await client.post(f"/v1/bookings/{cancelled['id']}/cancel", headers=admin)
    await hold_via_api(site.product_id)  # not confirmed: no ticket

    listed = await client.get(gate_list(site), headers=site.staff)

    assert listed.status_code == 200, listed.text
    assert listed.json() == {
        "product_id": site.product_id,
        "date": "2025-11-08",
        "tickets": [
            {
                "code_sha256": sha256(code),
                "ticket_type": ticket_type,
                "ticket_type_name": name,
                "start_time": start_time,
                "booking_reference": booking["reference"],
                "name": "Nguyễn Văn An",
                "checked_in_at": None,
                "checked_in_gate": None,
            }
            for booking, start_time, ticket_type, name in [
                (morning, "09:00", "adult", "Người lớn"),
                (afternoon, "14:00", "child", "Trẻ em"),
            ]
            for code in ticket_codes(booking)
        ],
    }


async def test_the_gate_list_is_todays_by_default(
    client: httpx.AsyncClient, clock: FakeClock, site: Site, book_via_api: BookViaApi
) -> None:
    await book_via_api(site.product_id, date="2025-11-08")
    clock.set(vn(8, 7))

    listed = await client.get(gate_list(site, None), headers=site.staff)

    assert (listed.json()["date"], len(listed.json()["tickets"])) == ("2025-11-08", 1)


async def test_the_gate_list_is_304_until_one_of_its_tickets_changes(
    client: httpx.AsyncClient, clock: FakeClock, site: Site, book_via_api: BookViaApi
) -> None:
    code = ticket_codes(await book_via_api(site.product_id))[0]
    etag = (await client.get(gate_list(site), headers=site.staff)).headers["etag"]
    unchanged = await client.get(gate_list(site), headers={**site.staff, "If-None-Match": etag})
    clock.set(vn(8, 9))
    await client.post(f"/v1/tickets/{code}/check-in", json={"gate": "cổng-1"}, headers=site.staff)

    changed = await client.get(gate_list(site), headers={**site.staff, "If-None-Match": etag})

    assert unchanged.status_code == 304
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert [(t["checked_in_at"], t["checked_in_gate"]) for t in changed.json()["tickets"]] == [
        ("2025-11-08T02:00:00Z", "cổng-1")
    ]


async def test_the_gate_list_is_for_the_sites_staff(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    site: Site,
) -> None:
    other = await make_key(Role.owner, owner_id=uuid.UUID((await make_owner())["id"]))

    by_other = await client.get(gate_list(site), headers=other)
    by_partner = await client.get(gate_list(site), headers=partner)
    by_admin = await client.get(gate_list(site), headers=admin)

    assert (by_other.status_code, problem(by_other)["code"]) == (403, "not_this_site")
    assert (by_partner.status_code, problem(by_partner)["code"]) == (403, "forbidden_role")
    assert by_admin.status_code == 200


async def test_a_product_without_booking_settings_has_no_gate_list(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    missing = await client.get(f"/v1/experiences/{uuid.uuid4()}/gate-list", headers=admin)

    assert (missing.status_code, problem(missing)["code"]) == (404, "experience_not_found")


# Uploads.


@pytest.fixture
async def codes(book_via_api: BookViaApi, site: Site, clock: FakeClock) -> list[str]:
    """Two adults' tickets at 09:00 on 8 November; the clock then shows 8 November, 11:00."""
    booking = await book_via_api(site.product_id, ("adult", 2))
    clock.set(vn(8, 11))
    return ticket_codes(booking)


async def test_an_upload_checks_each_ticket_in_at_its_scan_time(
    client: httpx.AsyncClient, site: Site, codes: list[str]
) -> None:
    uploaded = await upload(client, site, scan(codes[0], "09:01"), scan(codes[1], "09:02"))

    assert uploaded.status_code == 200, uploaded.text
    assert outcomes(uploaded) == [("accepted", None), ("accepted", None)]
    assert [r["displaced_check_in"] for r in uploaded.json()["results"]] == [None, None]
    assert (uploaded.json()["accepted"], uploaded.json()["duplicate"]) == (2, 0)
    assert uploaded.json()["results"][0]["at"] == "2025-11-08T02:01:00Z"
    first = (await ticket(client, site, codes[0]))["check_in"]
    assert {k: first[k] for k in ("at", "received_at", "gate", "offline")} == {
        "at": "2025-11-08T02:01:00Z",
        "received_at": "2025-11-08T04:00:00Z",
        "gate": "cổng-2",
        "offline": True,
    }


async def test_an_offline_scan_earlier_than_the_online_check_in_replaces_it(
    client: httpx.AsyncClient, clock: FakeClock, site: Site, codes: list[str]
) -> None:
    clock.set(vn(8, 9) + timedelta(minutes=5))
    online = await client.post(
        f"/v1/tickets/{codes[0]}/check-in", json={"gate": "cổng-1"}, headers=site.staff
    )
    clock.set(vn(8, 11))

    uploaded = await upload(client, site, scan(codes[0], "09:00"))

    assert outcomes(uploaded) == [("accepted", None)]
    # The answer reports the online check-in it displaced: when, which gate, which key.
    displaced = uploaded.json()["results"][0]["displaced_check_in"]
    assert displaced == {**online.json()["check_in"], "outcome": "duplicate"}
    assert {k: displaced[k] for k in ("at", "gate", "key_name", "offline")} == {
        "at": "2025-11-08T02:05:00Z",
        "gate": "cổng-1",
        "key_name": "Cổng chính",
        "offline": False,
    }
    read = await ticket(client, site, codes[0])
    assert read["check_ins"][1] == displaced
    assert (read["check_in"]["at"], read["check_in"]["gate"]) == ("2025-11-08T02:00:00Z", "cổng-2")
    assert [(e["at"], e["gate"], e["offline"], e["outcome"]) for e in read["check_ins"]] == [
        ("2025-11-08T02:00:00Z", "cổng-2", True, "accepted"),
        ("2025-11-08T02:05:00Z", "cổng-1", False, "duplicate"),
    ]


async def test_an_offline_scan_later_than_the_online_check_in_is_a_duplicate(
    client: httpx.AsyncClient, clock: FakeClock, site: Site, codes: list[str]
) -> None:
    clock.set(vn(8, 9))
    online = await client.post(
        f"/v1/tickets/{codes[0]}/check-in", json={"gate": "cổng-1"}, headers=site.staff
    )
    clock.set(vn(8, 11))

    uploaded = await upload(client, site, scan(codes[0], "09:10"))

    assert outcomes(uploaded) == [("duplicate", None)]
    assert uploaded.json()["results"][0]["first_check_in"] == online.json()["check_in"]
    assert uploaded.json()["results"][0]["displaced_check_in"] is None
    read = await ticket(client, site, codes[0])
    assert [(e["gate"], e["outcome"]) for e in read["check_ins"]] == [
        ("cổng-1", "accepted"),
        ("cổng-2", "duplicate"),
    ]


async def test_two_offline_gates_the_earliest_scan_wins_whichever_uploads_first(
    client: httpx.AsyncClient, site: Site, codes: list[str]
) -> None:
    later = await upload(client, site, scan(codes[0], "09:10", gate="cổng-2"))
    earlier = await upload(client, site, scan(codes[0], "09:02", gate="cổng-3"))

    assert outcomes(later) == outcomes(earlier) == [("accepted", None)]
    assert later.json()["results"][0]["displaced_check_in"] is None
    displaced = earlier.json()["results"][0]["displaced_check_in"]
    assert (displaced["at"], displaced["gate"], displaced["offline"], displaced["outcome"]) == (
        "2025-11-08T02:10:00Z",
        "cổng-2",
        True,
        "duplicate",
    )
    read = await ticket(client, site, codes[0])
    assert [(e["gate"], e["outcome"]) for e in read["check_ins"]] == [
        ("cổng-3", "accepted"),
        ("cổng-2", "duplicate"),
    ]
    asked_again = await upload(client, site, scan(codes[0], "09:10", gate="cổng-2"))
    assert outcomes(asked_again) == [("duplicate", None)]
    assert asked_again.json()["results"][0]["first_check_in"]["gate"] == "cổng-3"


async def test_within_one_upload_the_earliest_scan_wins_whatever_the_order_sent(
    client: httpx.AsyncClient, site: Site, codes: list[str]
) -> None:
    uploaded = await upload(
        client,
        site,
        scan(codes[0], "09:30", gate="cổng-2"),
        scan(codes[0], "09:03", gate="cổng-3"),
    )

    assert outcomes(uploaded) == [("duplicate", None), ("accepted", None)]
    # Judged earliest first: the 09:03 scan displaced nothing, the 09:30 one never counted.
    assert [r["displaced_check_in"] for r in uploaded.json()["results"]] == [None, None]
    first = uploaded.json()["results"][0]["first_check_in"]
    assert (first["at"], first["gate"]) == ("2025-11-08T02:03:00Z", "cổng-3")


async def test_the_same_upload_again_changes_nothing(
    client: httpx.AsyncClient,
    clock: FakeClock,
    site: Site,
    codes: list[str],
    db: AsyncSession,
) -> None:
    scans = [
        scan(codes[0], "09:01"),
        scan(codes[0], "09:05", gate="cổng-3"),
        {**scan(codes[1], "09:01"), "at": "2025-11-07T09:01:00+07:00"},
        scan("A" * 32, "09:01"),
    ]
    first = await upload(client, site, *scans)
    rows = await check_in_rows(db)
    tickets = [await ticket(client, site, code) for code in codes]
    clock.advance(timedelta(minutes=30))

    again = await upload(client, site, *scans)

    expected = [
        ("accepted", None),
        ("duplicate", None),
        ("refused", "wrong_day"),
        ("refused", "unknown_ticket"),
    ]
    assert outcomes(first) == outcomes(again) == expected
    assert [r["replay"] for r in first.json()["results"]] == [False] * 4
    assert [r["replay"] for r in again.json()["results"]] == [True, True, True, False]
    assert rows == 3
    assert await check_in_rows(db) == 3
    assert [await ticket(client, site, code) for code in codes] == tickets


async def test_the_same_upload_again_reports_the_check_in_it_displaced_again(
    client: httpx.AsyncClient, clock: FakeClock, site: Site, codes: list[str]
) -> None:
    """A gate whose connection dropped before the answer came retries the upload: the
    replayed answer still names the online check-in its scan displaced."""
    clock.set(vn(8, 9) + timedelta(minutes=5))
    await client.post(
        f"/v1/tickets/{codes[0]}/check-in", json={"gate": "cổng-1"}, headers=site.staff
    )
    clock.set(vn(8, 11))
    first = await upload(client, site, scan(codes[0], "09:00"), scan(codes[1], "09:01"))
    clock.advance(timedelta(minutes=10))

    again = await upload(client, site, scan(codes[0], "09:00"), scan(codes[1], "09:01"))

    assert [r["replay"] for r in again.json()["results"]] == [True, True]
    displaced = [r["displaced_check_in"] for r in again.json()["results"]]
    assert displaced == [r["displaced_check_in"] for r in first.json()["results"]]
    assert (displaced[0]["gate"], displaced[0]["outcome"], displaced[1]) == (
        "cổng-1",
        "duplicate",
        None,
    )


async def test_each_refused_scan_names_its_reason(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_experience_via_api: CreateExperienceViaApi,
    book_via_api: BookViaApi,
    clock: FakeClock,
    site: Site,
    codes: list[str],
) -> None:
    clock.set(vn(1, 8))  # booking time again
    tomorrow = ticket_codes(await book_via_api(site.product_id, date="2025-11-09"))[0]
    cancelled = await book_via_api(site.product_id)
    await client.post(f"/v1/bookings/{cancelled['id']}/cancel", headers=admin)
    elsewhere = await create_experience_via_api()
    other_site = ticket_codes(await book_via_api(elsewhere["product_id"]))[0]
    clock.set(vn(8, 11))

    uploaded = await upload(
        client,
        site,
        scan("A" * 32, "09:00"),
        scan(other_site, "09:00"),
        scan(ticket_codes(cancelled)[0], "09:00"),
        scan(tomorrow, "09:00"),
        scan(codes[0], "11:06"),  # 6 minutes ahead of the server's clock
        {**scan(codes[1], "09:00"), "at": "2025-11-01T07:00:00+07:00"},
    )

    assert outcomes(uploaded) == [
        ("refused", "unknown_ticket"),
        ("refused", "not_this_site"),
        ("refused", "booking_cancelled"),
        ("refused", "wrong_day"),
        ("refused", "at_in_future"),
        ("refused", "at_before_confirmation"),
    ]
    assert uploaded.json()["refused"] == 6


async def test_an_upload_is_at_most_500_scans(
    client: httpx.AsyncClient, site: Site, codes: list[str]
) -> None:
    too_many = await upload(client, site, *[scan(codes[0], "09:00")] * 501)

    assert too_many.status_code == 422


async def test_another_owners_key_may_not_upload_to_this_site(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    site: Site,
    codes: list[str],
) -> None:
    other = await make_key(Role.owner, owner_id=uuid.UUID((await make_owner())["id"]))

    refused = await client.post(
        f"/v1/experiences/{site.product_id}/check-ins",
        json={"check_ins": [scan(codes[0], "09:00")]},
        headers=other,
    )

    assert (refused.status_code, problem(refused)["code"]) == (403, "not_this_site")


async def test_the_document_describes_and_shows_the_displaced_check_in(
    client: httpx.AsyncClient,
) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]

    result = schemas["UploadedCheckIn"]["properties"]["displaced_check_in"]
    assert result["anyOf"] == [{"$ref": "#/components/schemas/CheckInRead"}, {"type": "null"}]
    assert "displaced" in result["description"]
    (example,) = schemas["CheckInUploadRead"]["examples"]
    assert (example["results"][0]["reason"], example["results"][0]["first_check_in"]) == (
        None,
        None,
    )
    assert example["results"][0]["displaced_check_in"]["outcome"] == "duplicate"
