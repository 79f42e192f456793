"""Reports: what an event sold, what an owner sold over a period, the catalogue, and the
tourism experiences' visitors and revenue."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Unprocessable
from app.core.zones import day_bounds
from app.events import service as events
from app.models.owner import Owner
from app.models.product import Certificate, Product, ProductGroup
from app.owners import service as owners
from app.reports import repository
from app.reports.repository import (
    CatalogRepository,
    EventSalesRepository,
    Figures,
    Sales,
    SalesRepository,
    TourismRepository,
    Visits,
)
from app.reports.schemas import (
    CatalogReport,
    CommuneCount,
    CommuneVisitors,
    DaySales,
    EventSalesReport,
    ExperienceDayVisitors,
    ExperienceVisitors,
    ExpiringCertificate,
    GroupCount,
    MonthVisitors,
    OwnerSales,
    OwnerSalesQuery,
    OwnerSalesReport,
    ProductSales,
    StarsCount,
    TourismQuery,
    TourismReport,
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


def _owners(rows: list[repository.OwnerRow]) -> list[OwnerSales]:
    return [
        OwnerSales(owner_id=r.owner_id, name=r.name, orders=r.orders, revenue_vnd=r.revenue_vnd)
        for r in rows
    ]


async def event_sales(
    session: AsyncSession, event_id: uuid.UUID, *, now: datetime
) -> EventSalesReport:
    """Orders, revenue and quantities of an event, by product, local day and owner: read from
    the sums its orders keep as they are placed and cancelled, not from every line."""
    event = await events.get_event(session, event_id)
    repo = EventSalesRepository(session)
    orders, revenue = await repo.totals(event_id)
    return EventSalesReport(
        event_id=event.id,
        event_name=event.name,
        orders=orders,
        revenue_vnd=revenue,
        by_product=_products(await repo.by_product(event_id)),
        by_day=_days(await repo.by_day(event_id)),
        by_owner=_owners(await repo.by_owner(event_id)),
        generated_at=now,
    )


def _check_range(first: date, last: date) -> None:
    if last < first or (last - first).days >= MAX_RANGE_DAYS:
        raise Unprocessable(
            f"`to` must be on or after `from`, at most {MAX_RANGE_DAYS} days later.",
            errors=[{"loc": ["query", "to"], "msg": "invalid date range", "type": "date_range"}],
        )


async def owner_sales(
    session: AsyncSession,
    owner_id: uuid.UUID,
    query: OwnerSalesQuery,
    *,
    zone: ZoneInfo,
    now: datetime,
) -> OwnerSalesReport:
    """An owner's sales (its own lines only) over local dates `from`..`to`."""
    _check_range(query.first, query.last)
    owner = await owners.get_owner(session, owner_id)
    start, end = day_bounds(query.first, query.last, zone)
    sales = Sales.of_owner(owner_id, start, end, query.event_id)
    repo = SalesRepository(session)
    orders, revenue = await repo.totals(sales)
    return OwnerSalesReport(
        owner_id=owner.id,
        owner_name=owner.name,
        date_from=query.first,
        date_to=query.last,
        event_id=query.event_id,
        orders=orders,
        revenue_vnd=revenue,
        by_product=_products(await repo.by_product(sales)),
        by_day=_days(await repo.by_day(sales, zone.key)),
        generated_at=now,
    )


def _expiring(
    rows: list[tuple[Certificate, Product, Owner]], today: date
) -> list[ExpiringCertificate]:
    return [
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
        for certificate, product, owner in rows
    ]


async def catalog(session: AsyncSession, *, today: date, days: int, now: datetime) -> CatalogReport:
    """Active products by stars, group and commune, and certificates expiring within `days`."""
    repo = CatalogRepository(session)
    by_stars = dict(await repo.by_stars(today))
    by_group = await repo.by(today, Product.group)
    by_commune = await repo.by_commune(today)
    expiring = await repo.expiring(today, today + timedelta(days=days))
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
            CommuneCount(
                commune=place.commune,
                commune_code=place.code,
                commune_name=place.name,
                products=n,
                certified=c,
            )
            for place, n, c in by_commune
        ],
        expiring=_expiring(expiring, today),
        generated_at=now,
    )


def _figures(figures: Figures) -> dict[str, int]:
    """The figures as the fields of `Visitors` (their names are the same)."""
    return asdict(figures)


async def tourism(session: AsyncSession, query: TourismQuery, *, now: datetime) -> TourismReport:
    """Visitors and revenue of the experiences' confirmed bookings whose visit falls on the
    local dates `from`..`to` (of one owner's experiences, or all): in total, by experience, by
    experience and date, by commune and by month."""
    _check_range(query.first, query.last)
    if query.owner_id is not None:
        await owners.get_owner(session, query.owner_id)  # 404 for an unknown owner
    visits = Visits(query.first, query.last, query.owner_id)
    repo = TourismRepository(session)
    experiences_booked = await repo.by_experience(visits)
    return TourismReport(
        date_from=query.first,
        date_to=query.last,
        owner_id=query.owner_id,
        **_figures(await repo.totals(visits)),
        by_experience=[
            ExperienceVisitors(
                product_id=product_id,
                name=name,
                owner_id=owner_id,
                owner_name=owner_name,
                commune=commune,
                **_figures(figures),
            )
            for product_id, name, owner_id, owner_name, commune, figures in experiences_booked
        ],
        by_day=[
            ExperienceDayVisitors(
                date=day, product_id=product_id, name=name, commune=commune, **_figures(figures)
            )
            for day, product_id, name, commune, figures in await repo.by_experience_day(visits)
        ],
        by_commune=[
            CommuneVisitors(
                commune=place.commune,
                commune_code=place.code,
                commune_name=place.name,
                experiences=count,
                **_figures(figures),
            )
            for place, count, figures in await repo.by_commune(visits)
        ],
        by_month=[
            MonthVisitors(month=f"{year:04d}-{month:02d}", **_figures(figures))
            for year, month, figures in await repo.by_month(visits)
        ],
        generated_at=now,
    )
