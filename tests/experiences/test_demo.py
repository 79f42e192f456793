"""The demo data's experience: the Bắc Lệ temple's guided visits, given once."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.core.db import begin_write
from app.demo.experiences import BAC_LE_TEMPLE
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
    assert first.created["experiences"] == 1
    assert "experiences" not in second.created
    [day] = calendar.json()["days"]
    assert [(s["start_time"], s["places_left"]) for s in day["start_times"]] == [
        ("08:00", 25),
        ("09:30", 25),
        ("14:00", 25),
        ("15:30", 25),
    ]
