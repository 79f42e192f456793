from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Select, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from app.core.pagination import Ordering, SortKey
from app.core.text import fold, like_pattern, search_terms
from app.models.event import Event, EventExternalRef, EventKind, EventProduct, EventStatus
from app.models.product import Product, ProductStatus

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180

BY_START = Ordering("start", (SortKey(Event.starts_at, datetime), SortKey(Event.id, uuid.UUID)))


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float
    radius_km: float


def distance_km(near: Near) -> ColumnElement[float]:
    """Great-circle distance (haversine) from `near` to the event, in SQL.

    Uses only sin, cos, asin, sqrt and radians: PostgreSQL has them; SQLite either has them
    compiled in or gets them from app.core.db.register_math_functions.
    """
    lat1 = math.radians(near.latitude)
    lat2 = func.radians(Event.latitude)
    half_dlat = (lat2 - lat1) / 2
    half_dlon = func.radians(Event.longitude - near.longitude) / 2
    a = func.sin(half_dlat) * func.sin(half_dlat) + math.cos(lat1) * func.cos(lat2) * func.sin(
        half_dlon
    ) * func.sin(half_dlon)
    # Rounding can push `a` a hair above 1 for antipodal points; asin would then fail.
    a = case((a > 1.0, 1.0), else_=a)
    return cast(2 * EARTH_RADIUS_KM * func.asin(func.sqrt(a)), Float)


def _bounding_box(near: Near) -> ColumnElement[bool]:
    """A cheap prefilter (index-friendly) that holds every point within the radius."""
    dlat = near.radius_km / KM_PER_DEGREE
    clauses: list[ColumnElement[bool]] = [
        Event.latitude.between(near.latitude - dlat, near.latitude + dlat)
    ]
    cos_lat = math.cos(math.radians(min(abs(near.latitude) + dlat, 90.0)))
    if cos_lat > 1e-9:
        dlon = near.radius_km / (KM_PER_DEGREE * cos_lat)
        if dlon < 180:
            west, east = near.longitude - dlon, near.longitude + dlon
            if west < -180:
                clauses.append(or_(Event.longitude >= west + 360, Event.longitude <= east))
            elif east > 180:
                clauses.append(or_(Event.longitude >= west, Event.longitude <= east - 360))
            else:
                clauses.append(Event.longitude.between(west, east))
    return and_(*clauses)


def status_is(status: EventStatus, now: datetime) -> ColumnElement[bool]:
    """Event.status_at(now) == status, as SQL."""
    if status is EventStatus.cancelled:
        return Event.cancelled_at.is_not(None)
    live = Event.cancelled_at.is_(None)
    if status is EventStatus.scheduled:
        return and_(live, Event.starts_at > now)
    if status is EventStatus.ongoing:
        return and_(live, Event.starts_at <= now, Event.ends_at > now)
    return and_(live, Event.ends_at <= now)


async def get(
    session: AsyncSession, event_id: uuid.UUID, *, for_update: bool = False
) -> Event | None:
    stmt = select(Event).where(Event.id == event_id).options(selectinload(Event.external_refs))
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


def filtered(
    *,
    now: datetime,
    starts_before: datetime | None = None,
    ends_after: datetime | None = None,
    kind: EventKind | None = None,
    commune: str | None = None,
    status: EventStatus | None = None,
    q: str | None = None,
    external_ref: tuple[str, str] | None = None,
) -> Select[Any]:
    stmt = select(Event)
    if starts_before is not None:
        stmt = stmt.where(Event.starts_at < starts_before)
    if ends_after is not None:
        stmt = stmt.where(Event.ends_at > ends_after)
    if kind is not None:
        stmt = stmt.where(Event.kind == kind)
    if commune is not None:
        stmt = stmt.where(Event.commune_key == fold(commune))
    if status is not None:
        stmt = stmt.where(status_is(status, now))
    for term in search_terms(q or ""):
        stmt = stmt.where(Event.search_text.like(like_pattern(term), escape="\\"))
    if external_ref is not None:
        system, external_id = external_ref
        stmt = stmt.where(
            Event.id.in_(
                select(EventExternalRef.event_id).where(
                    EventExternalRef.system == system,
                    EventExternalRef.external_id == external_id,
                )
            )
        )
    return stmt


async def page(
    session: AsyncSession,
    stmt: Select[Any],
    cursor: str | None,
    limit: int,
    near: Near | None = None,
) -> tuple[list[tuple[Event, float | None]], str | None]:
    """A page of events, soonest first, or nearest first with `near`, each with its distance."""
    stmt = stmt.options(selectinload(Event.external_refs))
    if near is None:
        rows = (await session.execute(BY_START.apply(stmt, cursor, limit))).all()
        events, next_cursor = BY_START.page(rows, limit)
        return [(event, None) for event in events], next_cursor
    distance = distance_km(near)
    ordering = Ordering("near", (SortKey(distance, float), SortKey(Event.id, uuid.UUID)))
    stmt = stmt.add_columns(distance).where(
        Event.latitude.is_not(None), _bounding_box(near), distance <= near.radius_km
    )
    rows = (await session.execute(ordering.apply(stmt, cursor, limit))).all()
    items, next_cursor = ordering.page(rows, limit)
    return [(event, float(km)) for event, km in items], next_cursor


async def taken_refs(
    session: AsyncSession, pairs: Sequence[tuple[str, str]], exclude: uuid.UUID | None
) -> list[EventExternalRef]:
    """Which of these (system, id) pairs already name an event other than `exclude`."""
    if not pairs:
        return []
    stmt = select(EventExternalRef).where(
        or_(
            *(
                and_(EventExternalRef.system == s, EventExternalRef.external_id == i)
                for s, i in pairs
            )
        )
    )
    if exclude is not None:
        stmt = stmt.where(EventExternalRef.event_id != exclude)
    return list((await session.scalars(stmt)).all())


# ---------------------------------------------------------------------------------------------
# Products at an event

BY_PRODUCT_NAME = Ordering(
    "product_name", (SortKey(Product.sort_name, str), SortKey(Product.id, uuid.UUID))
)


def _with_product() -> Any:
    return selectinload(EventProduct.product).selectinload(Product.owner)


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> Product | None:
    stmt = select(Product).where(Product.id == product_id).options(selectinload(Product.owner))
    return await session.scalar(stmt)


async def get_entry(
    session: AsyncSession, event_id: uuid.UUID, product_id: uuid.UUID, *, for_update: bool = False
) -> EventProduct | None:
    stmt = (
        select(EventProduct)
        .where(EventProduct.event_id == event_id, EventProduct.product_id == product_id)
        .options(_with_product())
    )
    if for_update:
        stmt = stmt.with_for_update(of=EventProduct)
    return await session.scalar(stmt)


async def entries_page(
    session: AsyncSession,
    event_id: uuid.UUID,
    *,
    owner_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[EventProduct], str | None]:
    """An event's entries of active products, by product name, with product and owner loaded."""
    stmt = (
        select(EventProduct)
        .join(Product, Product.id == EventProduct.product_id)
        .where(EventProduct.event_id == event_id, Product.status == ProductStatus.active)
        .options(_with_product())
    )
    if owner_id is not None:
        stmt = stmt.where(Product.owner_id == owner_id)
    rows = (await session.execute(BY_PRODUCT_NAME.apply(stmt, cursor, limit))).all()
    return BY_PRODUCT_NAME.page(rows, limit)


async def seller_ids(session: AsyncSession, event_id: uuid.UUID) -> set[uuid.UUID]:
    """The owners whose products are entered in the event."""
    rows = await session.scalars(
        select(Product.owner_id)
        .join(EventProduct, EventProduct.product_id == Product.id)
        .where(EventProduct.event_id == event_id)
        .distinct()
    )
    return set(rows)
