from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.pagination import Ordering, SortKey
from app.models.event import Event, EventProduct
from app.models.order import Order, OrderLine, OrderStatus, OrderStatusChange
from app.models.product import Product

NEWEST = Ordering(
    "newest",
    (
        SortKey(Order.created_at, datetime, descending=True),
        SortKey(Order.id, uuid.UUID, descending=True),
    ),
)


async def get_products(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    rows = await session.scalars(select(Product).where(Product.id.in_(product_ids)))
    return {product.id: product for product in rows}


async def get_event(session: AsyncSession, event_id: uuid.UUID) -> Event | None:
    return await session.get(Event, event_id)


async def event_entries(
    session: AsyncSession, event_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, EventProduct]:
    rows = await session.scalars(
        select(EventProduct).where(
            EventProduct.event_id == event_id, EventProduct.product_id.in_(product_ids)
        )
    )
    return {entry.product_id: entry for entry in rows}


def _with_details(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(selectinload(Order.lines), selectinload(Order.history))


async def get(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    order: Order | None = await session.scalar(
        _with_details(select(Order).where(Order.id == order_id)).execution_options(
            populate_existing=True
        )
    )
    return order


def visible_to(
    *, placed_by_key_id: uuid.UUID | None = None, owner_id: uuid.UUID | None = None
) -> list[Any]:
    """Where clauses limiting orders to a partner's own or to those with an owner's products."""
    clauses: list[Any] = []
    if placed_by_key_id is not None:
        clauses.append(Order.placed_by_key_id == placed_by_key_id)
    if owner_id is not None:
        clauses.append(
            exists().where(OrderLine.order_id == Order.id, OrderLine.owner_id == owner_id)
        )
    return clauses


async def page(
    session: AsyncSession,
    *,
    clauses: Sequence[Any],
    cursor: str | None,
    limit: int,
) -> tuple[list[Order], str | None]:
    stmt = _with_details(select(Order).where(*clauses))
    rows = (await session.execute(NEWEST.apply(stmt, cursor, limit))).all()
    return NEWEST.page(rows, limit)


async def transition(
    session: AsyncSession,
    order_id: uuid.UUID,
    *,
    from_statuses: Sequence[OrderStatus],
    to_status: OrderStatus,
    now: datetime,
) -> OrderStatus | None:
    """Move the order's status atomically; the status it left, or None if it was not in
    `from_statuses` (someone else moved it first)."""
    previous = await session.scalar(
        select(Order.status).where(Order.id == order_id).with_for_update()
    )
    if previous is None or previous not in from_statuses:
        return None
    result = await session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == previous)
        .values(status=to_status, updated_at=now)
        .returning(Order.id)
        .execution_options(synchronize_session=False)
    )
    if result.first() is None:
        return None
    session.add(
        OrderStatusChange(order_id=order_id, from_status=previous, to_status=to_status, at=now)
    )
    return previous
