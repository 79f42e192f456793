"""Reading tickets: a booking's tickets with their status, for whoever reads the booking; one
ticket looked up by its code, for its site's staff only."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from app.models import Role
from tests.helpers import BookViaApi, FakeClock, KeyFactory, Site, problem, ticket_codes, vn

pytestmark = pytest.mark.anyio


@pytest.fixture
async def booking(book_via_api: BookViaApi, site: Site) -> dict[str, Any]:
    """Two adults and a child at 09:00 on 8 November, confirmed on 1 November."""
    return await book_via_api(site.product_id, ("adult", 2), ("child", 1))


async def test_a_bookings_tickets_are_valid_until_checked_in(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    clock: FakeClock,
    site: Site,
    booking: dict[str, Any],
) -> None:
    assert [t["status"] for t in booking["tickets"]] == ["valid", "valid", "valid"]
    clock.set(vn(8, 8))
    await client.post(f"/v1/tickets/{booking['tickets'][0]['code']}/check-in", headers=site.staff)

    read = await client.get(f"/v1/bookings/{booking['id']}", headers=partner)

    assert [(t["status"], t["checked_in_at"]) for t in read.json()["tickets"]] == [
        ("checked_in", "2025-11-08T01:00:00Z"),
        ("valid", None),
        ("valid", None),
    ]


async def test_a_cancelled_bookings_tickets_are_cancelled(
    client: httpx.AsyncClient, partner: dict[str, str], booking: dict[str, Any]
) -> None:
    cancelled = await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=partner)

    assert [t["status"] for t in cancelled.json()["tickets"]] == ["cancelled"] * 3


async def test_the_sites_staff_look_a_ticket_up_by_its_code(
    client: httpx.AsyncClient, site: Site, booking: dict[str, Any]
) -> None:
    code = ticket_codes(booking)[2]

    read = await client.get(f"/v1/tickets/{code}", headers=site.staff)

    assert read.status_code == 200, read.text
    assert read.json() == {
        "code": code,
        "qr_payload": f"OCOP-TICKET:{code}",
        "ticket_type": "child",
        "ticket_type_name": "Trẻ em",
        "status": "valid",
        "product_id": site.product_id,
        "date": "2025-11-08",
        "start_time": "09:00",
        "booking": {
            "id": booking["id"],
            "reference": booking["reference"],
            "status": "confirmed",
            "name": "Nguyễn Văn An",
            "people": 3,
        },
        "check_in": None,
        "check_ins": [],
    }


async def test_a_ticket_read_again_unchanged_is_304(
    client: httpx.AsyncClient, site: Site, booking: dict[str, Any]
) -> None:
    path = f"/v1/tickets/{ticket_codes(booking)[0]}"
    etag = (await client.get(path, headers=site.staff)).headers["etag"]

    again = await client.get(path, headers={**site.staff, "If-None-Match": etag})

    assert again.status_code == 304


async def test_an_admin_looks_any_ticket_up(
    client: httpx.AsyncClient, admin: dict[str, str], booking: dict[str, Any]
) -> None:
    read = await client.get(f"/v1/tickets/{ticket_codes(booking)[0]}", headers=admin)

    assert read.status_code == 200
    assert read.json()["booking"]["id"] == booking["id"]


async def test_another_owners_key_learns_nothing_of_the_ticket(
    client: httpx.AsyncClient, make_key: KeyFactory, make_owner: Any, booking: dict[str, Any]
) -> None:
    other = await make_key(Role.owner, owner_id=uuid.UUID((await make_owner())["id"]))

    refused = await client.get(f"/v1/tickets/{ticket_codes(booking)[0]}", headers=other)

    assert refused.status_code == 403
    assert problem(refused)["code"] == "not_this_site"
    assert set(refused.json()) == {"type", "title", "status", "detail", "code"}


async def test_a_partner_key_reads_tickets_through_its_bookings_only(
    client: httpx.AsyncClient, partner: dict[str, str], booking: dict[str, Any]
) -> None:
    refused = await client.get(f"/v1/tickets/{ticket_codes(booking)[0]}", headers=partner)

    assert refused.status_code == 403
    assert problem(refused)["code"] == "forbidden_role"


async def test_an_unknown_code_is_404(client: httpx.AsyncClient, site: Site) -> None:
    missing = await client.get(f"/v1/tickets/{'A' * 32}", headers=site.staff)

    assert missing.status_code == 404
    assert problem(missing)["code"] == "ticket_not_found"
