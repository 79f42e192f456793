"""Aggregations for the reports, done in SQL over exact integers (VND, thousandths)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, case, distinct, extract, func, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import Subquery

from app.core.repository import Repository
from app.core.zones import local_date
from app.models.booking import Booking, BookingStatus, Ticket
from app.models.order import Order, OrderLine, OrderStatus
from app.models.owner import Owner
from app.models.product import Certificate, Product, ProductStatus, Unit
from app.models.sales import EventSales
from app.products.stars import CERTIFIED_STARS, current_stars

Ts = TypeVarTuple("Ts")


def _by_code(
    code: ColumnElement[Any], name: ColumnElement[Any], commune: ColumnElement[Any]
) -> tuple[ColumnElement[Any], ...]:
    """GROUP BY one commune: its code and official name, whatever text its rows hold; rows
    without a code (written before codes, naming no commune) by their text."""
    return code, name, case((code.is_(None), commune))


@dataclass(frozen=True)
class CommuneKey:
    """A commune a report counts by: its code and official name (None on rows written before
    codes whose commune names none), and the name rows store (`Product.commune`)."""

    code: str | None
    commune: str
    name: str | None


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
        """An event's orders, read from their lines: what `EventSalesRepository` reads from
        the sums kept as orders are placed and cancelled (the tests hold one to the other)."""
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
            # An order has one line per product (uq order_id, product_id), so each group's
            # lines are its orders: count(*) without the sort that DISTINCT needs.
            func.count(),
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


class EventSalesRepository(Repository[EventSales]):
    """What an event's orders sold, from the sums kept per (event, local day, product) as they
    are placed and cancelled (`app.orders`): as many rows as products times days, whatever the
    number of orders. The same figures, in the same order, as `SalesRepository` over the lines
    of the event's counted orders."""

    model = EventSales
    noun = "event sales"

    @staticmethod
    def _of(event_id: uuid.UUID) -> tuple[ColumnElement[bool], ...]:
        # Rows of cancelled orders only are all zeros: nothing counted there.
        return (EventSales.event_id == event_id, EventSales.lines > 0)

    async def totals(self, event_id: uuid.UUID) -> tuple[int, int]:
        stmt = select(
            func.coalesce(func.sum(EventSales.orders), 0),
            func.coalesce(func.sum(EventSales.revenue_vnd), 0),
        ).where(*self._of(event_id))
        row = (await self.session.execute(stmt)).one()
        return int(row[0]), int(row[1])

    async def by_product(self, event_id: uuid.UUID) -> list[ProductRow]:
        revenue = func.sum(EventSales.revenue_vnd)
        stmt = (
            select(
                EventSales.product_id,
                func.max(EventSales.product_name),
                EventSales.unit,
                func.sum(EventSales.lines),
                func.sum(EventSales.quantity),
                revenue,
            )
            .where(*self._of(event_id))
            .group_by(EventSales.product_id, EventSales.unit)
            .order_by(revenue.desc(), EventSales.product_id)
        )
        rows = await self.session.execute(stmt)
        return [ProductRow(r[0], r[1], r[2], int(r[3]), r[4], int(r[5])) for r in rows]

    async def by_day(self, event_id: uuid.UUID) -> list[DayRow]:
        stmt = (
            select(EventSales.day, func.sum(EventSales.orders), func.sum(EventSales.revenue_vnd))
            .where(*self._of(event_id))
            .group_by(EventSales.day)
            .order_by(EventSales.day)
        )
        rows = await self.session.execute(stmt)
        return [DayRow(r[0], int(r[1]), int(r[2])) for r in rows]

    async def by_owner(self, event_id: uuid.UUID) -> list[OwnerRow]:
        revenue = func.sum(EventSales.revenue_vnd)
        stmt = (
            select(EventSales.owner_id, Owner.name, func.sum(EventSales.owner_orders), revenue)
            .join(Owner, Owner.id == EventSales.owner_id)
            .where(*self._of(event_id))
            .group_by(EventSales.owner_id, Owner.name)
            .order_by(revenue.desc(), EventSales.owner_id)
        )
        rows = await self.session.execute(stmt)
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

    async def by_commune(self, today: date) -> list[tuple[CommuneKey, int, int]]:
        """Products and certified products per commune, by code: one row per commune (a row
        written before codes whose commune names none is counted under its text, without a
        code); most products first, then by name (folded)."""
        stars = current_stars(today)
        inner = (
            select(
                Product.commune_code.label("code"),
                Product.commune.label("commune"),
                Product.commune_name.label("name"),
                Product.commune_key.label("key"),
                stars.label("stars"),
            )
            .where(_active)
            .subquery()
        )
        certified = func.sum(case((inner.c.stars >= CERTIFIED_STARS, 1), else_=0))
        rows = await self.session.execute(
            select(inner.c.code, func.min(inner.c.commune), inner.c.name, func.count(), certified)
            .group_by(*_by_code(inner.c.code, inner.c.name, inner.c.commune))
            .order_by(func.count().desc(), func.min(inner.c.key), inner.c.code)
        )
        return [(CommuneKey(r[0], r[1], r[2]), int(r[3]), int(r[4] or 0)) for r in rows]

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


# Tourism: visitors and revenue of the experiences' bookings.


@dataclass(frozen=True)
class Figures:
    """What a tourism report counts over a set of bookings."""

    bookings: int
    people: int
    tickets: int
    checked_in: int
    revenue_vnd: int


@dataclass(frozen=True)
class Visits:
    """Which bookings a tourism report counts: confirmed ones (never a hold, an expired hold
    or a cancelled booking) whose visit falls on the local dates `first`..`last`, of one
    owner's experiences or of all."""

    first: date
    last: date
    owner_id: uuid.UUID | None = None

    def where(self) -> tuple[ColumnElement[bool], ...]:
        clauses = [
            Booking.status == BookingStatus.confirmed,
            Booking.date >= self.first,
            Booking.date <= self.last,
        ]
        if self.owner_id is not None:
            clauses.append(Product.owner_id == self.owner_id)
        return tuple(clauses)

    def counted(self) -> Subquery:
        """One row per counted booking: its experience, date, people, total, commune, and its
        tickets issued and checked in (a ticket keeps its first accepted check-in)."""
        of_booking = Ticket.booking_id == Booking.id
        tickets = select(func.count(Ticket.id)).where(of_booking).scalar_subquery()
        checked_in = select(func.count(Ticket.checked_in_at)).where(of_booking).scalar_subquery()
        return (
            select(
                Booking.product_id.label("product_id"),
                Booking.date.label("day"),
                Booking.people.label("people"),
                Booking.total_vnd.label("revenue_vnd"),
                tickets.label("tickets"),
                checked_in.label("checked_in"),
                Product.commune.label("commune"),
                Product.commune_key.label("commune_key"),
                Product.commune_code.label("commune_code"),
                Product.commune_name.label("commune_name"),
            )
            .join(Product, Product.id == Booking.product_id)
            .where(*self.where())
            .subquery("counted")
        )


class TourismRepository(Repository[Booking]):
    """Visitors (people booked, tickets, checked in) and revenue of confirmed bookings, in
    total and by experience, experience and day, commune and month."""

    model = Booking
    noun = "booking"

    @staticmethod
    def _figures(counted: Subquery) -> tuple[Any, ...]:
        return (
            func.count(),
            func.coalesce(func.sum(counted.c.people), 0),
            func.coalesce(func.sum(counted.c.tickets), 0),
            func.coalesce(func.sum(counted.c.checked_in), 0),
            func.coalesce(func.sum(counted.c.revenue_vnd), 0),
        )

    @staticmethod
    def _read(row: Any, at: int) -> Figures:
        return Figures(*(int(value) for value in row[at : at + 5]))

    async def totals(self, visits: Visits) -> Figures:
        counted = visits.counted()
        row = (await self.session.execute(select(*self._figures(counted)))).one()
        return self._read(row, 0)

    async def by_experience(
        self, visits: Visits
    ) -> list[tuple[uuid.UUID, str, uuid.UUID, str, str, Figures]]:
        """(product id, name, owner id, owner name, commune, figures); most people first."""
        counted = visits.counted()
        stmt = (
            select(
                Product.id,
                Product.name,
                Owner.id,
                Owner.name,
                Product.commune,
                *self._figures(counted),
            )
            .select_from(counted)
            .join(Product, Product.id == counted.c.product_id)
            .join(Owner, Owner.id == Product.owner_id)
            .group_by(
                Product.id, Product.name, Product.sort_name, Owner.id, Owner.name, Product.commune
            )
            .order_by(func.sum(counted.c.people).desc(), Product.sort_name, Product.id)
        )
        rows = await self.session.execute(stmt)
        return [(r[0], r[1], r[2], r[3], r[4], self._read(r, 5)) for r in rows]

    async def by_experience_day(
        self, visits: Visits
    ) -> list[tuple[date, uuid.UUID, str, str, Figures]]:
        """(date, product id, name, commune, figures); oldest first, then by name (folded:
        the same order on every database)."""
        counted = visits.counted()
        stmt = (
            select(
                counted.c.day,
                Product.id,
                Product.name,
                Product.commune,
                *self._figures(counted),
            )
            .select_from(counted)
            .join(Product, Product.id == counted.c.product_id)
            .group_by(counted.c.day, Product.id, Product.name, Product.sort_name, Product.commune)
            .order_by(counted.c.day, Product.sort_name, Product.id)
        )
        rows = await self.session.execute(stmt)
        return [(r[0], r[1], r[2], r[3], self._read(r, 4)) for r in rows]

    async def by_commune(self, visits: Visits) -> list[tuple[CommuneKey, int, Figures]]:
        """(commune, experiences booked, figures), one row per commune by code (a row written
        before codes whose commune names none is counted under its text, without a code);
        most people first, then by name (folded)."""
        counted = visits.counted()
        stmt = (
            select(
                counted.c.commune_code,
                func.min(counted.c.commune),
                counted.c.commune_name,
                func.count(distinct(counted.c.product_id)),
                *self._figures(counted),
            )
            .group_by(*_by_code(counted.c.commune_code, counted.c.commune_name, counted.c.commune))
            .order_by(
                func.sum(counted.c.people).desc(),
                func.min(counted.c.commune_key),
                counted.c.commune_code,
            )
        )
        rows = await self.session.execute(stmt)
        return [(CommuneKey(r[0], r[1], r[2]), int(r[3]), self._read(r, 4)) for r in rows]

    async def by_month(self, visits: Visits) -> list[tuple[int, int, Figures]]:
        """(year, month, figures); oldest first."""
        counted = visits.counted()
        year, month = extract("year", counted.c.day), extract("month", counted.c.day)
        stmt = (
            select(year, month, *self._figures(counted)).group_by(year, month).order_by(year, month)
        )
        rows = await self.session.execute(stmt)
        return [(int(r[0]), int(r[1]), self._read(r, 2)) for r in rows]
