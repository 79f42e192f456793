"""The demo data shows the report's figures: over 10 tonnes of mandarins in the festival's
7 days, and Ngọc Quế's teas over 500 million VND."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from app.core.db import begin_write
from app.demo.seed import seed_demo

pytestmark = pytest.mark.anyio


async def seed(app: FastAPI) -> dict[str, int]:
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        report = await seed_demo(session, datetime(2026, 11, 29, tzinfo=UTC))
        await session.commit()
    return report.created


async def test_demo_orders_add_up_to_the_reported_figures(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await seed(app)
    second = await seed(app)
    festival = (
        await client.get("/v1/events", params={"q": "mua vang bac son", "from": "2025-01-01"})
    ).json()["items"][0]
    ngoc_que = (await client.get("/v1/owners", params={"q": "ngoc que"})).json()["items"][0]

    sales = (await client.get(f"/v1/reports/events/{festival['id']}/sales", headers=admin)).json()
    teas = (
        await client.get(
            f"/v1/reports/owners/{ngoc_que['id']}/sales",
            params={"from": "2025-01-01", "to": "2025-12-31"},
            headers=admin,
        )
    ).json()

    assert first["orders"] > 0
    assert "orders" not in second
    mandarins = [p for p in sales["by_product"] if p["name"] == "Quýt vàng Bắc Sơn"]
    assert len(mandarins) == 1
    assert mandarins[0]["quantity_tonnes"] > 10
    assert len(sales["by_day"]) == 7
    assert teas["revenue_vnd"] > 500_000_000
    assert {p["name"] for p in teas["by_product"]} == {
        "Trà Bổ Khai Ngọc Quế, túi lọc",
        "Trà Bổ Khai Ngọc Quế, hòa tan",
    }
