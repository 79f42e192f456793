"""Catalogue rows for order tests, written straight to the database."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI

from app.models import Event, EventKind, EventProduct, Product, ProductGroup, Unit
from tests.conftest import FakeClock, OwnerFactory

ProductFactory = Callable[..., Awaitable[Product]]
EventFactory = Callable[..., Awaitable[Event]]


@pytest.fixture
def make_product(app: FastAPI, make_owner: OwnerFactory) -> ProductFactory:
    async def factory(owner_id: uuid.UUID | None = None, **fields: Any) -> Product:
        if owner_id is None:
            owner_id = uuid.UUID(
                (await make_owner(name=f"Hợp tác xã {uuid.uuid4().hex[:6]}"))["id"]
            )
        values: dict[str, Any] = {
            "owner_id": owner_id,
            "name": "Quýt vàng Bắc Sơn",
            "group": ProductGroup.food,
            "unit": Unit.kg,
            "unit_step": Decimal("0.5"),
            "price_vnd": 35_000,
            "stock": Decimal(100),
            "commune": "Bắc Sơn",
            "province": "Lạng Sơn",
            **fields,
        }
        async with app.state.writer_sessionmaker() as session:
            product = Product(**values)
            session.add(product)
            await session.commit()
        return product

    return factory


@pytest.fixture
def make_event(app: FastAPI, clock: FakeClock) -> EventFactory:
    async def factory(
        products: dict[uuid.UUID, int | None] | None = None,
        starts_at: datetime | None = None,
        days: int = 7,
        **fields: Any,
    ) -> Event:
        start = starts_at or clock.now() - timedelta(days=1)
        async with app.state.writer_sessionmaker() as session:
            event = Event(
                name="Mùa vàng Bắc Sơn",
                kind=EventKind.festival,
                starts_at=start,
                ends_at=start + timedelta(days=days),
                commune="Bắc Sơn",
                province="Lạng Sơn",
                **fields,
            )
            session.add(event)
            await session.flush()
            for product_id, price in (products or {}).items():
                session.add(
                    EventProduct(event_id=event.id, product_id=product_id, event_price_vnd=price)
                )
            await session.commit()
        return event

    return factory


def order_body(
    *items: tuple[Product | uuid.UUID | str, float | int | str], **fields: Any
) -> dict[str, Any]:
    return {
        "items": [
            {"product_id": str(p.id if isinstance(p, Product) else p), "quantity": q}
            for p, q in items
        ],
        "customer": {"name": "Nguyễn Văn An", "phone": "0912 345 678", "country": "VN"},
        **fields,
    }


def idem(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or uuid.uuid4().hex}
