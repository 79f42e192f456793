"""Sales reports: what an event sold, and what an owner sold over a period."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.core.errors import Forbidden, NotFound, Unprocessable
from app.core.zones import day_bounds
from app.models.event import Event
from app.models.owner import Owner
from app.models.product import Product, ProductGroup
from app.reports import repository
from app.reports.schemas import (
    CatalogReport,
    CommuneCount,
    DaySales,
    EventSalesReport,
    ExpiringCertificate,
    GroupCount,
    OwnerSales,
    OwnerSalesReport,
    ProductSales,
    StarsCount,
)

MAX_RANGE_DAYS = 366


def tonnes(quantity: Decimal, unit_kilograms: Decimal | None) -> Decimal | None:
    return None if unit_kilograms is None else quantity * unit_kilograms / 1000


def _products(rows: list[repository.ProductRow]) -> list[ProductSales]:
    return [
        ProductSales(
            product_id=r.product_id,
            name=r.name,
            unit=r.unit,
            orders=r.orders,
            quantity=r.quantity,
            quantity_tonnes=tonnes(r.quantity, r.unit.kilograms),
            revenue_vnd=r.revenue_vnd,
        )
        for r in rows
    ]


def _days(rows: list[repository.DayRow]) -> list[DaySales]:
    return [DaySales(date=r.day, orders=r.orders, revenue_vnd=r.revenue_vnd) for r in rows]


async def event_sales(
    session: AsyncSession, event_id: uuid.UUID, *, zone: str, now: datetime
) -> EventSalesReport:
    """Orders, revenue and quantities of an event, by product, local day and owner."""
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound(f"No event {event_id}.")
    where = repository.for_event(event_id)
    orders, revenue = await repository.totals(session, where)
    return EventSalesReport(
        event_id=event.id,
        event_name=event.name,
        orders=orders,
        revenue_vnd=revenue,
        by_product=_products(await repository.by_product(session, where)),
        by_day=_days(await repository.by_day(session, where, zone, lines=False)),
        by_owner=[
            OwnerSales(owner_id=r.owner_id, name=r.name, orders=r.orders, revenue_vnd=r.revenue_vnd)
            for r in await repository.by_owner(session, where)
        ],
        generated_at=now,
    )


async def owner_sales(
    session: AsyncSession,
    principal: Principal,
    owner_id: uuid.UUID,
    *,
    first: date,
    last: date,
    event_id: uuid.UUID | None,
    zone: str,
    now: datetime,
) -> OwnerSalesReport:
    """An owner's sales (its own lines only) over local dates `first`..`last`."""
    if not principal.acts_for(owner_id):
        raise Forbidden("An owner key sees only its own owner's sales.", code="not_your_owner")
    if last < first or (last - first).days >= MAX_RANGE_DAYS:
        raise Unprocessable(
            f"`to` must be on or after `from`, at most {MAX_RANGE_DAYS} days later.",
            errors=[{"loc": ["query", "to"], "msg": "invalid date range", "type": "date_range"}],
        )
    owner = await session.get(Owner, owner_id)
    if owner is None:
        raise NotFound(f"No owner {owner_id}.")
    start, end = day_bounds(first, last, ZoneInfo(zone))
    where = repository.for_owner(owner_id, start, end, event_id)
    orders, revenue = await repository.line_totals(session, where)
    return OwnerSalesReport(
        owner_id=owner.id,
        owner_name=owner.name,
        date_from=first,
        date_to=last,
        event_id=event_id,
        orders=orders,
        revenue_vnd=revenue,
        by_product=_products(await repository.by_product(session, where)),
        by_day=_days(await repository.by_day(session, where, zone, lines=True)),
        generated_at=now,
    )


async def catalog(session: AsyncSession, *, today: date, days: int, now: datetime) -> CatalogReport:
    """Active products by stars, group and commune, and certificates expiring within `days`."""
    by_stars = dict(await repository.products_by_stars(session, today))
    by_group = await repository.products_by(session, today, Product.group)
    by_commune = await repository.products_by(session, today, Product.commune)
    expiring = await repository.expiring(session, today, today + timedelta(days=days))
    return CatalogReport(
        today=today,
        days=days,
        products=sum(by_stars.values()),
        by_stars=[
            StarsCount(stars=stars, products=by_stars.get(stars, 0)) for stars in (5, 4, 3, None)
        ],
        by_group=[
            GroupCount(group=ProductGroup(group), products=n, certified=c)
            for group, n, c in by_group
        ],
        by_commune=[
            CommuneCount(commune=commune, products=n, certified=c) for commune, n, c in by_commune
        ],
        expiring=[
            ExpiringCertificate(
                certificate_id=certificate.id,
                product_id=product.id,
                product_name=product.name,
                owner_id=owner.id,
                owner_name=owner.name,
                stars=certificate.stars,
                level=certificate.level,
                decision_no=certificate.decision_no,
                valid_until=certificate.valid_until,
                days_left=(certificate.valid_until - today).days,
            )
            for certificate, product, owner in expiring
        ],
        generated_at=now,
    )
