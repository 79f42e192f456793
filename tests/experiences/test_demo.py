"""The demo data's experiences: the Bắc Lệ temple's guided visits, mandarin picking at the Bắc
Sơn Golden Season festival in the mandarin season, the Ngọc Quế tea workshop; given once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.core.db import begin_write
from app.demo.experiences import BAC_LE_TEMPLE, MANDARIN_PICKING, TEA_WORKSHOP
from app.demo.seed import SeedReport, seed_demo
from app.models import Product
from tests.helpers import vn

pytestmark = pytest.mark.anyio


async def seed(app: FastAPI) -> SeedReport:
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        report = await seed_demo(session, now=vn(1))
        await session.commit()
    return report


async def calendar(
    client: httpx.AsyncClient, app: FastAPI, name: str, first: str, last: str
) -> Any:
    async with app.state.sessionmaker() as session:
        product_id = await session.scalar(select(Product.id).where(Product.name == name))
    response = await client.get(
        f"/v1/experiences/{product_id}/availability/calendar", params={"from": first, "to": last}
    )
    assert response.status_code == 200, response.text
    return response.json()["days"]


async def test_the_temple_gets_its_guided_visits_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await seed(app)
    second = await seed(app)

    async with app.state.sessionmaker() as session:
        temple = await session.scalar(select(Product.id).where(Product.name == BAC_LE_TEMPLE))
    calendar = await client.get(
        f"/v1/experiences/{temple}/availability/calendar?from=2025-11-08&to=2025-11-08"
    )
    assert first.created["experiences"] == 3
    assert "experiences" not in second.created
    [day] = calendar.json()["days"]
    assert [(s["start_time"], s["places_left"]) for s in day["start_times"]] == [
        ("08:00", 25),
        ("09:30", 25),
        ("14:00", 25),
        ("15:30", 25),
    ]


async def test_the_mandarin_picking_is_offered_on_the_festivals_dates_only(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await seed(app)

    days = await calendar(client, app, MANDARIN_PICKING, "2025-11-02", "2025-11-10")

    def starts(day: dict[str, Any]) -> list[tuple[str, int]]:
        return [(s["start_time"], s["places_left"]) for s in day["start_times"]]

    assert [(d["date"], d["closed_reason"]) for d in days if d["status"] == "closed"] == [
        ("2025-11-02", "outside_event"),
        ("2025-11-10", "outside_event"),
    ]
    # A weekday of the season (its demo bookings are on 3 and 4 November), then the festival's
    # weekend, whose shorter rule gives more start times.
    assert starts(days[3]) == [("08:00", 30), ("14:00", 30)]
    assert starts(days[6]) == [("07:30", 40), ("09:30", 40), ("14:00", 40), ("16:00", 40)]


async def test_the_tea_workshop_is_booked_by_date_closed_on_mondays_and_at_tet(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await seed(app)

    november = await calendar(client, app, TEA_WORKSHOP, "2025-11-09", "2025-11-11")
    tet = await calendar(client, app, TEA_WORKSHOP, "2026-02-15", "2026-02-19")

    assert [(d["status"], d["closed_reason"], d["places_left"]) for d in november] == [
        ("available", None, 40),
        ("closed", "no_schedule", 0),
        ("available", None, 40),
    ]
    assert [d["closed_reason"] for d in tet] == [None, "closure", "closure", "closure", None]
