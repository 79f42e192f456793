from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.core.db import begin_write
from app.demo import events as demo
from app.demo.seed import SeedReport, seed_demo
from app.models import Owner
from tests.helpers import FakeClock, vn

pytestmark = pytest.mark.anyio

NOW = vn(29)  # 29 November 2025


async def seed(app: FastAPI) -> SeedReport:
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        report = await seed_demo(session, now=NOW)
        await session.commit()
    return report


async def all_events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await client.get("/v1/events", params={"limit": 100})).json()[
        "items"
    ]
    return items


async def entries(client: httpx.AsyncClient, name: str) -> list[tuple[str, str | None, int]]:
    event = next(e for e in await all_events(client) if e["name"] == name)
    body = (await client.get(f"/v1/events/{event['id']}/products")).json()
    return [(e["name"], e["booth"], e["price_vnd"]) for e in body["items"]]


async def owner_id(app: FastAPI, name: str) -> uuid.UUID:
    async with app.state.sessionmaker() as session:
        found: uuid.UUID | None = await session.scalar(select(Owner.id).where(Owner.name == name))
    assert found is not None
    return found


async def test_seed_adds_the_events_once(
    app: FastAPI, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.set(NOW)
    first = await seed(app)
    second = await seed(app)

    events = await all_events(client)
    assert first.created["events"] == 6
    assert second.created == {}
    assert len(events) == 6
    golden = next(e for e in events if e["name"] == "Lễ hội Mùa vàng Bắc Sơn 2025")
    assert (golden["starts_at"], golden["ends_at"], golden["commune"], golden["status"]) == (
        "2025-11-03T01:00:00Z",
        "2025-11-09T15:00:00Z",
        "Bắc Sơn",
        "ended",
    )
    upcoming = await client.get("/v1/events", params={"status": "scheduled", "limit": 100})
    assert len([e for e in upcoming.json()["items"] if e["name"].endswith("(mẫu)")]) == 3


async def test_seed_enters_the_demo_products_at_their_events(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    report = await seed(app)
    again = await seed(app)

    assert report.created["event products"] == 10
    assert "event products" not in again.created
    assert await entries(client, "Lễ hội Mùa vàng Bắc Sơn 2025") == [
        ("Quýt vàng Bắc Sơn", "A01", 45_000)
    ]
    assert await entries(client, "Hội chợ Thương mại và Sản phẩm OCOP Lạng Sơn 2025") == [
        ("Trà Bổ Khai Ngọc Quế, hòa tan", "B07", 65_000),
        ("Trà Bổ Khai Ngọc Quế, túi lọc", "B07", 85_000),
    ]
    assert await entries(client, "Tuần Văn hóa - Du lịch tỉnh Lạng Sơn 2025") == [
        ("Di tích Đình Bắc Lệ", "Gian du lịch cộng đồng", 20_000)
    ]


def test_expected_product_names() -> None:
    assert demo.PRODUCT_NAMES == (
        "Quýt vàng Bắc Sơn",
        "Trà Bổ Khai Ngọc Quế túi lọc",
        "Trà Bổ Khai Ngọc Quế hòa tan",
        "Di tích Đình Bắc Lệ",
    )
