from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import begin_write
from app.models import Product, ProductGroup, ProductStatus, Unit

VN = timezone(timedelta(hours=7))


def vn(day: int, hour: int = 0, month: int = 11, year: int = 2025) -> datetime:
    """A moment in November 2025, Vietnam time."""
    return datetime(year, month, day, hour, tzinfo=VN)


ProductFactory = Callable[..., Awaitable[Product]]
EventFactory = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def make_product(db: AsyncSession) -> ProductFactory:
    """Insert a product row directly (the products API lives on another branch)."""

    async def factory(owner_id: uuid.UUID | str, **fields: Any) -> Product:
        values: dict[str, Any] = {
            "name": "Quýt vàng Bắc Sơn",
            "group": ProductGroup.food,
            "unit": Unit.kg,
            "unit_step": Decimal("0.5"),
            "price_vnd": 60_000,
            "commune": "Bắc Sơn",
            "province": "Lạng Sơn",
            "status": ProductStatus.active,
            **fields,
        }
        product = Product(owner_id=uuid.UUID(str(owner_id)), **values)
        await begin_write(db)
        db.add(product)
        await db.commit()
        return product

    return factory


@pytest.fixture
def make_event(client: httpx.AsyncClient, admin: dict[str, str]) -> EventFactory:
    """Create an event through the API and return its JSON."""

    async def factory(**fields: Any) -> dict[str, Any]:
        body = {
            "name": "Lễ hội Mùa vàng Bắc Sơn",
            "kind": "festival",
            "starts_at": vn(3, 8).isoformat(),
            "ends_at": vn(9, 22).isoformat(),
            "commune": "Bắc Sơn",
            **fields,
        }
        response = await client.post("/v1/events", json=body, headers=admin)
        assert response.status_code == 201, response.text
        event: dict[str, Any] = response.json()
        return event

    return factory
