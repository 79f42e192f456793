"""Aggregations for the reports, done in SQL over exact integers (VND, thousandths)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, case, distinct, func, select
from sqlalchemy.orm import InstrumentedAttribute

from app.core.repository import Repository
from app.core.zones import local_date
from app.models.order import Order, OrderLine, OrderStatus
from app.models.owner import Owner
from app.models.product import Certificate, Product, ProductStatus, Unit
from app.products.stars import CERTIFIED_STARS, current_stars

Ts = TypeVarTuple("Ts")


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


@dataclass(frozen=True)
class Sales:
    """Which orders, or which of their lines, a sales report counts: never cancelled ones."""

    where: tuple[ColumnElement[bool], ...]
    lines: bool
    """Count only the matching lines (an owner's), not whole orders."""

    @classmethod
    def of_event(cls, event_id: uuid.UUID) -> Sales:
        return cls(_counted(Order.event_id == event_id), lines=False)

    @classmethod
    def of_owner(
        cls, owner_id: uuid.UUID, start: datetime, end: datetime, event_id: uuid.UUID | None
    ) -> Sales:
        """The owner's lines in orders placed from `start` until `end` (at one event)."""
        clauses = [
            OrderLine.owner_id == owner_id,
            Order.created_at >= start,
            Order.created_at < end,
        ]
        if event_id is not None:
            clauses.append(Order.event_id == event_id)
        return cls(_counted(*clauses), lines=True)

    @property
    def amount(self) -> Any:
        """What a counted order brings in: its total, or its counted lines' totals."""
        return OrderLine.line_total_vnd if self.lines else Order.total_vnd

    def counted_in(self, stmt: Select[*Ts]) -> Select[*Ts]:
        """`stmt` over what counts: whole orders, or the counted lines of orders."""
        return self.over_lines(stmt) if self.lines else stmt.where(*self.where)

    def over_lines(self, stmt: Select[*Ts]) -> Select[*Ts]:
        """`stmt` over the lines of the counted orders (the counted lines only)."""
        return (
            stmt.select_from(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
            .where(*self.where)
        )


def _counted(*clauses: ColumnElement[bool]) -> tuple[ColumnElement[bool], ...]:
    return (Order.status != OrderStatus.cancelled, *clauses)


class SalesRepository(Repository[Order]):
    """What orders sold, in total, by product, by local day and by owner."""

    model = Order
    noun = "order"

    async def totals(self, sales: Sales) -> tuple[int, int]:
        """Orders and revenue (of whole orders, or of the counted lines)."""
        stmt = select(func.count(distinct(Order.id)), func.coalesce(func.sum(sales.amount), 0))
        row = (await self.session.execute(sales.counted_in(stmt))).one()
        return int(row[0]), int(row[1])

    async def by_product(self, sales: Sales) -> list[ProductRow]:
        revenue = func.sum(OrderLine.line_total_vnd)
        stmt = select(
            OrderLine.product_id,
            func.max(OrderLine.product_name),
            OrderLine.unit,
            func.count(distinct(Order.id)),
            func.sum(OrderLine.quantity),
            revenue,
        )
        rows = await self.session.execute(
            sales.over_lines(stmt)
            .group_by(OrderLine.product_id, OrderLine.unit)
            .order_by(revenue.desc(), OrderLine.product_id)
        )
        return [ProductRow(r[0], r[1], r[2], int(r[3]), r[4], int(r[5])) for r in rows]

    async def by_day(self, sales: Sales, zone: str) -> list[DayRow]:
        """Per local day in `zone`: orders and revenue."""
        day = local_date(Order.created_at, zone)
        stmt = select(day, func.count(distinct(Order.id)), func.sum(sales.amount))
        rows = await self.session.execute(sales.counted_in(stmt).group_by(day).order_by(day))
        return [DayRow(r[0], int(r[1]), int(r[2])) for r in rows]

    async def by_owner(self, sales: Sales) -> list[OwnerRow]:
        revenue = func.sum(OrderLine.line_total_vnd)
        stmt = select(OrderLine.owner_id, Owner.name, func.count(distinct(Order.id)), revenue)
        rows = await self.session.execute(
            sales.over_lines(stmt)
            .join(Owner, Owner.id == OrderLine.owner_id)
            .group_by(OrderLine.owner_id, Owner.name)
            .order_by(revenue.desc(), OrderLine.owner_id)
        )
        return [OwnerRow(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


_active = Product.status == ProductStatus.active


class CatalogRepository(Repository[Product]):
    """The active products by their stars today, and the certificates about to expire."""

    model = Product
    noun = "product"

    async def by_stars(self, today: date) -> list[tuple[int | None, int]]:
        """(stars today, products); None for products not certified."""
        inner = select(current_stars(today).label("stars")).where(_active).subquery()
        rows = await self.session.execute(
            select(inner.c.stars, func.count()).group_by(inner.c.stars)
        )
        return [(r[0], int(r[1])) for r in rows]

    async def by(
        self, today: date, column: InstrumentedAttribute[Any]
    ) -> list[tuple[Any, int, int]]:
        """Products and certified products per value of `column` (a Product column)."""
        stars = current_stars(today)
        inner = select(column.label("key"), stars.label("stars")).where(_active).subquery()
        certified = func.sum(case((inner.c.stars >= CERTIFIED_STARS, 1), else_=0))
        rows = await self.session.execute(
            select(inner.c.key, func.count(), certified)
            .group_by(inner.c.key)
            .order_by(func.count().desc(), inner.c.key)
        )
        return [(r[0], int(r[1]), int(r[2] or 0)) for r in rows]

    async def expiring(self, today: date, until: date) -> list[tuple[Certificate, Product, Owner]]:
        """Certificates valid today that end by `until`, soonest first, with product and owner."""
        rows = await self.session.execute(
            select(Certificate, Product, Owner)
            .join(Product, Product.id == Certificate.product_id)
            .join(Owner, Owner.id == Product.owner_id)
            .where(
                _active,
                Certificate.stars >= CERTIFIED_STARS,
                Certificate.issued_on <= today,
                Certificate.valid_until >= today,
                Certificate.valid_until <= until,
            )
            .order_by(Certificate.valid_until, Product.sort_name, Certificate.id)
        )
        return [(r[0], r[1], r[2]) for r in rows]
