"""Confirm (with the tourist's contact; tickets), extend and cancel a booking; the moves that
are refused, and who may make which."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ExperienceSlot, OutboxMessage, Role
from tests.helpers import (
    CONTACT,
    CreateExperienceViaApi,
    FakeClock,
    HoldViaApi,
    KeyFactory,
    problem,
    vn,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def product_id(create_experience_via_api: CreateExperienceViaApi) -> str:
    experience = await create_experience_via_api()
    return str(experience["product_id"])


@pytest.fixture
async def hold(hold_via_api: HoldViaApi, product_id: str) -> dict[str, Any]:
    """Two adults, a child and an infant at 09:00 on 8 November, held by the partner."""
    held = await hold_via_api(product_id, ("adult", 2), ("child", 1), ("infant", 1))
    assert held.status_code == 201, held.text
    body: dict[str, Any] = held.json()
    return body


def action(hold: dict[str, Any], name: str) -> str:
    return f"/v1/bookings/{hold['id']}/{name}"


async def taken(db: AsyncSession) -> int:
    await db.rollback()
    return int(await db.scalar(select(ExperienceSlot.taken)) or 0)


async def test_confirming_issues_one_ticket_per_person(
    client: httpx.AsyncClient, partner: dict[str, str], hold: dict[str, Any]
) -> None:
    confirmed = await client.post(
        action(hold, "confirm"), json={"contact": CONTACT}, headers=partner
    )

    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "confirmed"
    assert body["confirmed_at"] == "2025-11-01T01:00:00Z"
    assert body["contact"] == {**CONTACT, "email": None}
    assert [t["ticket_type"] for t in body["tickets"]] == ["adult", "adult", "child", "infant"]
    codes = [t["code"] for t in body["tickets"]]
    assert len(set(codes)) == 4
    assert {len(code) for code in codes} == {32}  # 24 random bytes, base64url
    assert [t["qr_payload"] for t in body["tickets"]] == [f"OCOP-TICKET:{c}" for c in codes]


async def test_a_contact_given_with_the_hold_confirms_it(
    client: httpx.AsyncClient, partner: dict[str, str], hold_via_api: HoldViaApi, product_id: str
) -> None:
    held = await hold_via_api(product_id, contact={"name": "Lý Thị Mai", "email": "mai@example.vn"})

    confirmed = await client.post(f"/v1/bookings/{held.json()['id']}/confirm", headers=partner)

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["contact"]["email"] == "mai@example.vn"


@pytest.mark.parametrize(
    "body", [{}, {"contact": {"name": "Nguyễn Văn An"}}], ids=["none", "no_phone_or_email"]
)
async def test_confirming_needs_a_name_and_a_way_to_reach_the_tourist(
    client: httpx.AsyncClient, partner: dict[str, str], hold: dict[str, Any], body: dict[str, Any]
) -> None:
    refused = await client.post(action(hold, "confirm"), json=body, headers=partner)

    assert refused.status_code == 422
    assert problem(refused)["code"] == "contact_required"


async def test_confirming_after_the_hold_expired_is_409_hold_expired(
    client: httpx.AsyncClient, partner: dict[str, str], clock: FakeClock, hold: dict[str, Any]
) -> None:
    clock.advance(timedelta(minutes=15))

    refused = await client.post(action(hold, "confirm"), json={"contact": CONTACT}, headers=partner)

    assert refused.status_code == 409
    assert problem(refused)["code"] == "hold_expired"


async def test_confirming_twice_is_409_and_issues_the_tickets_once(
    client: httpx.AsyncClient, partner: dict[str, str], hold: dict[str, Any]
) -> None:
    first = await client.post(action(hold, "confirm"), json={"contact": CONTACT}, headers=partner)

    again = await client.post(action(hold, "confirm"), json={"contact": CONTACT}, headers=partner)

    assert again.status_code == 409
    assert problem(again)["code"] == "invalid_transition"
    read = await client.get(f"/v1/bookings/{hold['id']}", headers=partner)
    assert read.json()["tickets"] == first.json()["tickets"]


async def test_extending_pushes_the_expiry_from_now(
    client: httpx.AsyncClient, partner: dict[str, str], clock: FakeClock, hold: dict[str, Any]
) -> None:
    clock.advance(timedelta(minutes=10))

    extended = await client.post(action(hold, "extend"), json={"minutes": 30}, headers=partner)
    by_default = await client.post(action(hold, "extend"), headers=partner)

    assert extended.status_code == 200, extended.text
    assert extended.json()["expires_at"] == "2025-11-01T01:40:00Z"
    assert by_default.json()["expires_at"] == "2025-11-01T01:25:00Z"


async def test_extending_an_expired_hold_is_409(
    client: httpx.AsyncClient, partner: dict[str, str], clock: FakeClock, hold: dict[str, Any]
) -> None:
    clock.advance(timedelta(minutes=16))

    refused = await client.post(action(hold, "extend"), headers=partner)

    assert refused.status_code == 409
    assert problem(refused)["code"] == "hold_expired"


async def test_cancelling_a_hold_returns_its_places(
    client: httpx.AsyncClient, partner: dict[str, str], hold: dict[str, Any], db: AsyncSession
) -> None:
    assert await taken(db) == 3

    cancelled = await client.post(
        action(hold, "cancel"), json={"reason": "Khách đổi ý"}, headers=partner
    )

    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == (
        "cancelled",
        "Khách đổi ý",
    )
    assert await taken(db) == 0


async def test_cancelling_twice_is_409_and_returns_the_places_once(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    hold_via_api: HoldViaApi,
    product_id: str,
    hold: dict[str, Any],
    db: AsyncSession,
) -> None:
    await hold_via_api(product_id, ("adult", 5))
    await client.post(action(hold, "cancel"), headers=partner)

    again = await client.post(action(hold, "cancel"), headers=partner)

    assert again.status_code == 409
    assert problem(again)["code"] == "invalid_transition"
    assert await taken(db) == 5


async def test_a_confirmed_booking_is_cancelled_before_its_start_and_returns_its_places(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    clock: FakeClock,
    hold: dict[str, Any],
    db: AsyncSession,
) -> None:
    await client.post(action(hold, "confirm"), json={"contact": CONTACT}, headers=partner)
    clock.set(vn(8, 9) - timedelta(minutes=1))

    cancelled = await client.post(action(hold, "cancel"), headers=partner)

    assert cancelled.status_code == 200
    assert await taken(db) == 0


async def test_once_started_only_an_admin_may_cancel(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    clock: FakeClock,
    hold: dict[str, Any],
) -> None:
    await client.post(action(hold, "confirm"), json={"contact": CONTACT}, headers=partner)
    clock.set(vn(8, 9))

    refused = await client.post(action(hold, "cancel"), headers=partner)
    by_admin = await client.post(action(hold, "cancel"), headers=admin)

    assert refused.status_code == 409
    assert problem(refused)["code"] == "past_start"
    assert by_admin.status_code == 200


async def test_the_sites_owner_may_cancel_but_not_confirm(
    client: httpx.AsyncClient, make_key: KeyFactory, product_id: str, hold: dict[str, Any]
) -> None:
    owner_id = uuid.UUID((await client.get(f"/v1/products/{product_id}")).json()["owner_id"])
    owner = await make_key(Role.owner, owner_id=owner_id)

    confirm = await client.post(action(hold, "confirm"), json={"contact": CONTACT}, headers=owner)
    cancel = await client.post(action(hold, "cancel"), headers=owner)

    assert confirm.status_code == 403
    assert problem(confirm)["code"] == "not_your_booking"
    assert cancel.status_code == 200


async def test_each_move_is_announced_to_webhooks(
    client: httpx.AsyncClient, partner: dict[str, str], hold: dict[str, Any], db: AsyncSession
) -> None:
    await client.post(action(hold, "confirm"), json={"contact": CONTACT}, headers=partner)
    await client.post(action(hold, "cancel"), headers=partner)

    await db.rollback()
    events = (await db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))).all()
    assert [(e.type, e.payload["status"]) for e in events] == [
        ("booking.created", "on_hold"),
        ("booking.confirmed", "confirmed"),
        ("booking.cancelled", "cancelled"),
    ]
