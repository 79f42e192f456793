"""Aggregations for the reports, done in SQL over exact integers (VND, thousandths)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.zones import local_date
from app.models.order import Order, OrderLine, OrderStatus
from app.models.owner import Owner
from app.models.product import Certificate, Product, ProductStatus, Unit
from app.products.stars import CERTIFIED_STARS, current_stars


@dataclass(frozen=True)
class ProductRow:
    product_id: uuid.UUID
    name: str
    unit: Unit
    orders: int
    quantity: Decimal
    revenue_vnd: int


@dataclass(frozen=True)
class DayRow:
    day: date
    orders: int
    revenue_vnd: int


@dataclass(frozen=True)
class OwnerRow:
    owner_id: uuid.UUID
    name: str
    orders: int
    revenue_vnd: int


def counted(*clauses: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    """Orders that count in a report: never the cancelled ones."""
    return [Order.status != OrderStatus.cancelled, *clauses]


def for_event(event_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return counted(Order.event_id == event_id)


def for_owner(
    owner_id: uuid.UUID, start: datetime, end: datetime, event_id: uuid.UUID | None
) -> list[ColumnElement[bool]]:
    clauses = counted(
        OrderLine.owner_id == owner_id, Order.created_at >= start, Order.created_at < end
    )
    if event_id is not None:
        clauses.append(Order.event_id == event_id)
    return clauses


async def totals(session: AsyncSession, where: list[ColumnElement[bool]]) -> tuple[int, int]:
    """Orders and revenue of whole orders matching `where` (on orders only)."""
    row = (
        await session.execute(
            select(func.count(Order.id), func.coalesce(func.sum(Order.total_vnd), 0)).where(*where)
        )
    ).one()
    return int(row[0]), int(row[1])


async def line_totals(session: AsyncSession, where: list[ColumnElement[bool]]) -> tuple[int, int]:
    """Orders and revenue of the lines matching `where` (orders joined to their lines)."""
    row = (
        await session.execute(
            select(
                func.count(distinct(Order.id)), func.coalesce(func.sum(OrderLine.line_total_vnd), 0)
            )
            .select_from(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
            .where(*where)
        )
    ).one()
    return int(row[0]), int(row[1])


async def by_product(session: AsyncSession, where: list[ColumnElement[bool]]) -> list[ProductRow]:
    revenue = func.sum(OrderLine.line_total_vnd)
    rows = await session.execute(
        select(
            OrderLine.product_id,
            func.max(OrderLine.product_name),
            OrderLine.unit,
            func.count(distinct(Order.id)),
            func.sum(OrderLine.quantity),
            revenue,
        )
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .where(*where)
        .group_by(OrderLine.product_id, OrderLine.unit)
        .order_by(revenue.desc(), OrderLine.product_id)
    )
    return [ProductRow(r[0], r[1], r[2], int(r[3]), r[4], int(r[5])) for r in rows]


async def by_day(
    session: AsyncSession, where: list[ColumnElement[bool]], zone: str, *, lines: bool
) -> list[DayRow]:
    """Per local day: whole orders, or (lines=True) only the lines matching `where`."""
    day = local_date(Order.created_at, zone)
    amount: Any = OrderLine.line_total_vnd if lines else Order.total_vnd
    stmt = select(day, func.count(distinct(Order.id)), func.sum(amount))
    stmt = (
        stmt.select_from(OrderLine).join(Order, Order.id == OrderLine.order_id) if lines else stmt
    )
    rows = await session.execute(stmt.where(*where).group_by(day).order_by(day))
    return [DayRow(r[0], int(r[1]), int(r[2])) for r in rows]


async def by_owner(session: AsyncSession, where: list[ColumnElement[bool]]) -> list[OwnerRow]:
    revenue = func.sum(OrderLine.line_total_vnd)
    rows = await session.execute(
        select(OrderLine.owner_id, Owner.name, func.count(distinct(Order.id)), revenue)
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Owner, Owner.id == OrderLine.owner_id)
        .where(*where)
        .group_by(OrderLine.owner_id, Owner.name)
        .order_by(revenue.desc(), OrderLine.owner_id)
    )
    return [OwnerRow(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


def _active() -> ColumnElement[bool]:
    return Product.status == ProductStatus.active


async def products_by_stars(session: AsyncSession, today: date) -> list[tuple[int | None, int]]:
    stars = current_stars(today).label("stars")
    inner = select(stars).where(_active()).subquery()
    rows = await session.execute(select(inner.c.stars, func.count()).group_by(inner.c.stars))
    return [(r[0], int(r[1])) for r in rows]


async def products_by(
    session: AsyncSession, today: date, column: Any
) -> list[tuple[Any, int, int]]:
    """Products and certified products per value of `column` (a Product column)."""
    stars = current_stars(today)
    inner = select(column.label("key"), stars.label("stars")).where(_active()).subquery()
    certified = func.sum(case((inner.c.stars >= CERTIFIED_STARS, 1), else_=0))
    rows = await session.execute(
        select(inner.c.key, func.count(), certified)
        .group_by(inner.c.key)
        .order_by(func.count().desc(), inner.c.key)
    )
    return [(r[0], int(r[1]), int(r[2] or 0)) for r in rows]


async def expiring(
    session: AsyncSession, today: date, until: date
) -> list[tuple[Certificate, Product, Owner]]:
    rows = await session.execute(
        select(Certificate, Product, Owner)
        .join(Product, Product.id == Certificate.product_id)
        .join(Owner, Owner.id == Product.owner_id)
        .where(
            _active(),
            Certificate.stars >= CERTIFIED_STARS,
            Certificate.issued_on <= today,
            Certificate.valid_until >= today,
            Certificate.valid_until <= until,
        )
        .order_by(Certificate.valid_until, Product.sort_name, Certificate.id)
    )
    return [(r[0], r[1], r[2]) for r in rows]
