"""`booking.*` webhooks: one message per transition, heard by admins, the experience's owner and
the key that made the booking, and by nobody else."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models import OutboxMessage, Role
from app.webhooks.worker import DeliveryWorker
from tests.helpers import CONTACT, CreateExperienceViaApi, FakeClock, HoldViaApi, KeyFactory
from tests.webhooks.receiver import Receiver, running

pytestmark = pytest.mark.anyio

BOOKINGS = ["booking.created", "booking.confirmed", "booking.cancelled", "booking.expired"]


@pytest.fixture
async def worker(
    app: FastAPI, settings: Settings, clock: FakeClock
) -> AsyncIterator[DeliveryWorker]:
    w = DeliveryWorker(app.state.sessionmaker, settings, clock=clock)
    yield w
    await w.aclose()


@pytest.fixture
async def product_id(create_experience_via_api: CreateExperienceViaApi) -> str:
    return str((await create_experience_via_api())["product_id"])


async def owner_key(
    client: httpx.AsyncClient, make_key: KeyFactory, product_id: str
) -> dict[str, str]:
    """A key of the owner of the product."""
    owner_id = (await client.get(f"/v1/products/{product_id}")).json()["owner_id"]
    return await make_key(Role.owner, owner_id=uuid.UUID(owner_id), name="site")


async def subscribe(client: httpx.AsyncClient, key: dict[str, str], url: str) -> None:
    response = await client.post(
        "/v1/webhooks", json={"url": url, "event_types": BOOKINGS}, headers=key
    )
    assert response.status_code == 201, response.text


def heard(receiver: Receiver) -> list[tuple[str, str, str]]:
    """(type, booking id, status) of each message received, sorted."""
    bodies = [json.loads(got.body) for got in receiver.received]
    return sorted((b["type"], b["data"]["id"], b["data"]["status"]) for b in bodies)


async def messages(db: AsyncSession) -> list[tuple[str, str]]:
    await db.rollback()
    rows = await db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))
    return [(m.type, m.payload["id"]) for m in rows]


async def test_each_transition_reaches_admins_the_site_and_the_partner_that_booked_only(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_key: KeyFactory,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    product_id: str,
    clock: FakeClock,
    worker: DeliveryWorker,
) -> None:
    site = await owner_key(client, make_key, product_id)
    another_site = await owner_key(
        client, make_key, str((await create_experience_via_api())["product_id"])
    )
    async with (
        running(Receiver()) as for_admin,
        running(Receiver()) as for_site,
        running(Receiver()) as for_another_site,
        running(Receiver()) as for_partner,
        running(Receiver()) as for_another_partner,
    ):
        await subscribe(client, admin, for_admin.url)
        await subscribe(client, site, for_site.url)
        await subscribe(client, another_site, for_another_site.url)
        await subscribe(client, partner, for_partner.url)
        await subscribe(client, await make_key(Role.partner, name="other"), for_another_partner.url)
        kept = (await hold_via_api(product_id)).json()["id"]
        await client.post(
            f"/v1/bookings/{kept}/confirm", json={"contact": CONTACT}, headers=partner
        )
        await client.post(f"/v1/bookings/{kept}/cancel", json={}, headers=site)  # by the site
        lapsed = (await hold_via_api(product_id)).json()["id"]
        clock.advance(timedelta(minutes=15))
        later = (await hold_via_api(product_id)).json()["id"]  # releases the lapsed hold

        assert await worker.run_once() == 18

    expected = sorted(
        [
            ("booking.created", kept, "on_hold"),
            ("booking.confirmed", kept, "confirmed"),
            ("booking.cancelled", kept, "cancelled"),
            ("booking.created", lapsed, "on_hold"),
            ("booking.expired", lapsed, "expired"),
            ("booking.created", later, "on_hold"),
        ]
    )
    assert heard(for_admin) == expected
    assert heard(for_site) == expected
    assert heard(for_partner) == expected
    assert [heard(for_another_site), heard(for_another_partner)] == [[], []]


async def test_no_partner_hears_a_booking_an_admin_made(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_key: KeyFactory,
    hold_via_api: HoldViaApi,
    product_id: str,
    worker: DeliveryWorker,
) -> None:
    site = await owner_key(client, make_key, product_id)
    async with running(Receiver()) as for_site, running(Receiver()) as for_partner:
        await subscribe(client, site, for_site.url)
        await subscribe(client, partner, for_partner.url)
        held = (await hold_via_api(product_id, headers=admin)).json()["id"]

        assert await worker.run_once() == 1

    assert heard(for_site) == [("booking.created", held, "on_hold")]
    assert heard(for_partner) == []


async def test_a_refused_transition_says_nothing(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    hold_via_api: HoldViaApi,
    product_id: str,
    clock: FakeClock,
    db: AsyncSession,
) -> None:
    cancelled = (await hold_via_api(product_id)).json()["id"]
    lapsed = (await hold_via_api(product_id)).json()["id"]
    first = await client.post(f"/v1/bookings/{cancelled}/cancel", json={}, headers=partner)
    again = await client.post(f"/v1/bookings/{cancelled}/cancel", json={}, headers=partner)
    clock.advance(timedelta(minutes=15))
    late = await client.post(
        f"/v1/bookings/{lapsed}/confirm", json={"contact": CONTACT}, headers=partner
    )
    full = await hold_via_api(product_id, ("adult", 41))

    assert [first.status_code, again.status_code, late.status_code, full.status_code] == [
        200,
        409,
        409,
        409,
    ]
    assert await messages(db) == [
        ("booking.created", cancelled),
        ("booking.created", lapsed),
        ("booking.cancelled", cancelled),
    ]
