"""The demo data's bookings: past visits checked in, holds, cancellations and visits to come on
dates each demo experience offers, added once; and every demo experience bookable on a date its
calendar says is open."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import begin_write
from app.demo.bookings import DEMO_NOTE
from app.demo.experiences import BAC_LE_TEMPLE, DEMO_EXPERIENCES, MANDARIN_PICKING, TEA_WORKSHOP
from app.demo.seed import SeedReport, seed_demo
from app.models import Booking, ExperienceSlot, Product
from tests.helpers import CONTACT, FakeClock, idem, vn

pytestmark = pytest.mark.anyio

BEFORE_THE_FESTIVAL = vn(1, 8)  # Saturday 1 November 2025, 08:00
AFTER_THE_FESTIVAL = vn(1, 8, month=12)  # Monday 1 December 2025, 08:00
FIGURES = ("bookings", "people", "tickets", "checked_in", "revenue_vnd")


async def seed(app: FastAPI, now: datetime) -> SeedReport:
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        report = await seed_demo(session, now=now)
        await session.commit()
    return report


async def product_ids(db: AsyncSession) -> dict[str, str]:
    names = [demo.product for demo in DEMO_EXPERIENCES]
    rows = await db.execute(select(Product.name, Product.id).where(Product.name.in_(names)))
    return {name: str(id_) for name, id_ in rows}


async def demo_bookings(db: AsyncSession) -> list[Booking]:
    await db.rollback()
    return list(await db.scalars(select(Booking).where(Booking.notes == DEMO_NOTE)))


async def test_seeding_twice_adds_the_bookings_once(app: FastAPI, db: AsyncSession) -> None:
    first = await seed(app, AFTER_THE_FESTIVAL)
    second = await seed(app, AFTER_THE_FESTIVAL + timedelta(days=3))

    assert (first.created["bookings"], first.created["check-ins"]) == (20, 83)
    assert second.created == {}
    assert len(await demo_bookings(db)) == 20


async def test_each_demo_experience_has_visits_made_held_and_cancelled(
    app: FastAPI, db: AsyncSession
) -> None:
    await seed(app, AFTER_THE_FESTIVAL)
    ids = {id_: name for name, id_ in (await product_ids(db)).items()}

    bookings = await demo_bookings(db)

    statuses = Counter((ids[str(b.product_id)], str(b.status)) for b in bookings)
    assert statuses == {
        (BAC_LE_TEMPLE, "confirmed"): 7,
        (BAC_LE_TEMPLE, "on_hold"): 1,
        (BAC_LE_TEMPLE, "cancelled"): 2,
        # Offered at the 2025 festival only: its visits are all past by December.
        (MANDARIN_PICKING, "confirmed"): 3,
        (MANDARIN_PICKING, "cancelled"): 1,
        (TEA_WORKSHOP, "confirmed"): 4,
        (TEA_WORKSHOP, "on_hold"): 1,
        (TEA_WORKSHOP, "cancelled"): 1,
    }


async def test_before_the_festival_the_mandarin_picking_has_visits_to_come(
    app: FastAPI, db: AsyncSession
) -> None:
    await seed(app, BEFORE_THE_FESTIVAL)
    mandarin = (await product_ids(db))[MANDARIN_PICKING]

    bookings = [b for b in await demo_bookings(db) if str(b.product_id) == mandarin]

    assert sorted((b.date.isoformat(), str(b.status)) for b in bookings) == [
        ("2025-11-03", "confirmed"),
        ("2025-11-03", "on_hold"),
        ("2025-11-04", "confirmed"),
    ]


async def test_each_slot_takes_the_people_of_its_holds_and_confirmed_bookings(
    app: FastAPI, db: AsyncSession
) -> None:
    await seed(app, AFTER_THE_FESTIVAL)
    await db.rollback()
    held = (
        select(Booking.slot_id, func.sum(Booking.people).label("people"))
        .where(Booking.status.in_(["confirmed", "on_hold"]))
        .group_by(Booking.slot_id)
        .subquery()
    )

    rows = await db.execute(
        select(ExperienceSlot.taken, func.coalesce(held.c.people, 0)).outerjoin(
            held, held.c.slot_id == ExperienceSlot.id
        )
    )

    pairs = [(int(taken), int(people)) for taken, people in rows]
    assert len(pairs) == 17
    assert [taken for taken, people in pairs if taken != people] == []


async def test_the_tourism_report_shows_the_demo_visits(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    await seed(app, AFTER_THE_FESTIVAL)
    ids = await product_ids(db)

    report = (
        await client.get(
            "/v1/reports/tourism", params={"from": "2025-11-01", "to": "2025-11-30"}, headers=admin
        )
    ).json()

    # The temple: 3, 6 (one did not come), 22, 3 and 4 people on 28-30 November; the orchards:
    # 6, 2 and 11 people (an infant among them) on 8-9 November; the tea workshop: 11 and 15
    # (one did not come) on 29-30 November. Cancelled bookings and visits to come: not counted.
    assert {k: report[k] for k in FIGURES} == {
        "bookings": 11,
        "people": 83,
        "tickets": 85,
        "checked_in": 83,
        "revenue_vnd": 3_090_000,
    }
    assert {
        e["product_id"]: (e["people"], e["checked_in"], e["revenue_vnd"])
        for e in report["by_experience"]
    } == {
        ids[BAC_LE_TEMPLE]: (38, 38, 710_000),
        ids[MANDARIN_PICKING]: (19, 20, 850_000),
        ids[TEA_WORKSHOP]: (26, 25, 1_530_000),
    }
    assert [c["commune"] for c in report["by_commune"]] == ["Tân Thành", "Hữu Lũng", "Bắc Sơn"]


async def test_every_demo_experience_is_bookable_on_a_date_it_claims_open(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    clock: FakeClock,
    db: AsyncSession,
) -> None:
    clock.set(BEFORE_THE_FESTIVAL)
    await seed(app, BEFORE_THE_FESTIVAL)
    booked: dict[str, tuple[str, int]] = {}

    for name, product_id in (await product_ids(db)).items():
        calendar = await client.get(
            f"/v1/experiences/{product_id}/availability/calendar",
            params={"from": "2025-11-01", "to": "2025-11-30"},
        )
        assert calendar.status_code == 200, calendar.text
        day: dict[str, Any] = next(d for d in calendar.json()["days"] if d["status"] != "closed")
        body: dict[str, Any] = {
            "product_id": product_id,
            "date": day["date"],
            "units": [{"ticket_type": "adult", "quantity": 2}],
            "contact": CONTACT,
        }
        if day["start_times"]:
            body["start_time"] = day["start_times"][0]["start_time"]
        held = await client.post("/v1/bookings", json=body, headers=idem(partner))
        assert held.status_code == 201, (name, held.text)
        booked[name] = (day["date"], held.json()["people"])

    assert booked == {
        BAC_LE_TEMPLE: ("2025-11-01", 2),
        MANDARIN_PICKING: ("2025-11-03", 2),
        TEA_WORKSHOP: ("2025-11-02", 2),  # 1 November: past its cut-off (07:00)
    }
