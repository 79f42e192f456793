"""Events and their entries: the calendar's filters and orders, ticketing links, sellers."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Float, and_, bindparam, case, cast, func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.base import ExecutableOption
from sqlalchemy.sql.elements import ColumnElement

from app.core import direct
from app.core.pagination import Ordering, SortKey
from app.core.repository import Repository
from app.core.text import like_pattern, search_terms
from app.events.schemas import EntryQuery, EventQuery, Near
from app.geography.schemas import PlaceFilter
from app.models.event import Event, EventExternalRef, EventProduct, EventStatus
from app.models.owner import Owner
from app.models.product import Product, ProductStatus, Unit

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180

BY_START = Ordering("start", (SortKey(Event.starts_at, datetime), SortKey(Event.id, uuid.UUID)))
BY_PRODUCT_NAME = Ordering(
    "product_name", (SortKey(Product.sort_name, str), SortKey(Product.id, uuid.UUID))
)

Located = tuple[Event, float | None]
"""An event and its distance from `near` in km (None without `near`)."""


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


def _longitude_band(west: float, east: float) -> ColumnElement[bool]:
    """Longitudes from `west` to `east`, wrapping around the antimeridian."""
    if west < -180:
        return or_(Event.longitude >= west + 360, Event.longitude <= east)
    if east > 180:
        return or_(Event.longitude >= west, Event.longitude <= east - 360)
    return Event.longitude.between(west, east)


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
            clauses.append(_longitude_band(near.longitude - dlon, near.longitude + dlon))
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


def _named_by(system: str, external_id: str) -> ColumnElement[bool]:
    return and_(EventExternalRef.system == system, EventExternalRef.external_id == external_id)


def _conditions(
    query: EventQuery, where: PlaceFilter, now: datetime
) -> Iterator[ColumnElement[bool]]:
    """The WHERE clauses of the query's filters (the events overlapping its window; its
    commune and province as `where` names them)."""
    if (starts_before := query.starts_before) is not None:
        yield Event.starts_at < starts_before
    if (ends_after := query.ends_after) is not None:
        yield Event.ends_at > ends_after
    if query.kind is not None:
        yield Event.kind == query.kind
    if where.commune_code is not None:
        yield Event.commune_code == where.commune_code
    if where.province_code is not None:
        yield Event.province_code == where.province_code
    if query.status is not None:
        yield status_is(query.status, now)
    for term in search_terms(query.q or ""):
        yield Event.search_text.like(like_pattern(term), escape="\\")
    if (ref := query.ref) is not None:
        yield Event.id.in_(select(EventExternalRef.event_id).where(_named_by(*ref)))


class EventRepository(Repository[Event]):
    model = Event
    noun = "event"

    def options(self) -> Sequence[ExecutableOption]:
        return (selectinload(Event.external_refs),)

    async def page_matching(
        self, query: EventQuery, where: PlaceFilter, now: datetime
    ) -> tuple[list[Located], str | None]:
        """A page of the events matching `query`, soonest first, or nearest first with `near`."""
        stmt = self.select().where(*_conditions(query, where, now)).options(*self.options())
        near = query.point
        if near is None:
            events, next_cursor = await self.page(stmt, BY_START, query)
            return [(event, None) for event in events], next_cursor
        distance = distance_km(near)
        ordering = Ordering("near", (SortKey(distance, float), SortKey(Event.id, uuid.UUID)))
        stmt = stmt.add_columns(distance).where(
            Event.latitude.is_not(None), _bounding_box(near), distance <= near.radius_km
        )
        rows, next_cursor = await self.page_rows(stmt, ordering, query)
        return [(event, float(km)) for event, km in rows], next_cursor

    async def changed(
        self, query: EventQuery, horizon: datetime
    ) -> tuple[list[Located], str | None]:
        """A page of the change feed of every event, cancelled ones included."""
        stmt = self.select().options(*self.options())
        events, next_cursor = await self.changes(stmt, query, horizon)
        return [(event, None) for event in events], next_cursor

    async def taken_refs(
        self, pairs: Sequence[tuple[str, str]], exclude: uuid.UUID | None
    ) -> list[tuple[str, str, uuid.UUID]]:
        """Which of these (system, id) pairs already name an event other than `exclude`: (system,
        id, event id) each."""
        if not pairs:
            return []
        ref = EventExternalRef
        stmt = select(ref.system, ref.external_id, ref.event_id).where(
            or_(*(_named_by(s, i) for s, i in pairs))
        )
        if exclude is not None:
            stmt = stmt.where(ref.event_id != exclude)
        return [(s, i, holder) for s, i, holder in await self.session.execute(stmt)]

    async def seller_ids(self, event_id: uuid.UUID) -> set[uuid.UUID]:
        """The owners whose products are entered in the event."""
        rows = await self.session.scalars(
            select(Product.owner_id)
            .join(EventProduct, EventProduct.product_id == Product.id)
            .where(EventProduct.event_id == event_id)
            .distinct()
        )
        return set(rows)

    async def named(self, names: Iterable[str]) -> list[Event]:
        """The events with these (exact) names."""
        stmt = select(Event).where(Event.name.in_(list(names))).options(*self.options())
        return list((await self.session.scalars(stmt)).all())


class EntryOwner(NamedTuple):
    id: uuid.UUID
    name: str


@dataclass(slots=True, frozen=True)
class EntryProduct:
    """What an event's page shows of an entered product."""

    id: uuid.UUID
    name: str
    translations: dict[str, Any]
    unit: Unit
    price_vnd: int
    owner: EntryOwner


@dataclass(slots=True, frozen=True)
class EntryRow:
    """An entry as an event's page reads it: the attributes of `EventProduct` a reader sees,
    with its product in brief."""

    event_id: uuid.UUID
    booth: str | None
    event_price_vnd: int | None
    created_at: datetime
    updated_at: datetime
    product: EntryProduct


_ENTRY_COLUMNS = (
    EventProduct.event_id, EventProduct.booth, EventProduct.event_price_vnd,
    EventProduct.created_at, EventProduct.updated_at, Product.id, Product.name,
    Product.translations, Product.unit, Product.price_vnd, Owner.id, Owner.name,
)  # fmt: skip
"""`EntryRow`'s columns, in its order (then its product's, then the owner's)."""


def _entry_row(row: Sequence[Any]) -> EntryRow:
    (event_id, booth, event_price, created_at, updated_at, product_id, name, translations, unit,
     price, owner_id, owner_name) = row[: len(_ENTRY_COLUMNS)]  # fmt: skip
    owner = EntryOwner(owner_id, owner_name)
    product = EntryProduct(product_id, name, translations, unit, price, owner)
    return EntryRow(event_id, booth, event_price, created_at, updated_at, product)


def _entries_page(*, by_owner: bool, after_cursor: bool) -> direct.Prepared:
    stmt = (
        select(*_ENTRY_COLUMNS)
        .join(Product, Product.id == EventProduct.product_id)
        .join(Owner, Owner.id == Product.owner_id)
        .where(
            EventProduct.event_id == bindparam("event_id"), Product.status == ProductStatus.active
        )
    )
    if by_owner:
        stmt = stmt.where(Product.owner_id == bindparam("owner_id"))
    return direct.Prepared(BY_PRODUCT_NAME.prepared(stmt, after_cursor=after_cursor))


_ENTRIES_PAGES = {
    (by_owner, after_cursor): _entries_page(by_owner=by_owner, after_cursor=after_cursor)
    for by_owner in (False, True)
    for after_cursor in (False, True)
}
"""An event's page of entries, by whether it is one owner's and whether it follows a cursor."""
_EVENT_EXISTS = direct.Prepared(select(Event.id).where(Event.id == bindparam("event_id")))


class EntryRepository(Repository[EventProduct]):
    """Products entered in events, each read with its product and the product's owner."""

    model = EventProduct
    noun = "entry"

    def options(self) -> Sequence[ExecutableOption]:
        return (selectinload(EventProduct.product).selectinload(Product.owner),)

    async def find(
        self, event_id: uuid.UUID, product_id: uuid.UUID, *, for_update: bool = False
    ) -> EventProduct | None:
        stmt = (
            select(EventProduct)
            .where(EventProduct.event_id == event_id, EventProduct.product_id == product_id)
            .options(*self.options())
        )
        if for_update:
            stmt = stmt.with_for_update(of=EventProduct)
        return await self.session.scalar(stmt)

    async def page_of(
        self, event_id: uuid.UUID, query: EntryQuery
    ) -> tuple[list[EntryRow], str | None] | None:
        """An event's entries of active products, by product name, each with its product and
        owner, in one statement whatever the page size; None if there is no such event (one
        more statement, for an empty page only)."""
        prepared = _ENTRIES_PAGES[(query.owner_id is not None, query.cursor is not None)]
        values = BY_PRODUCT_NAME.bound(query.cursor, query.limit)
        if query.owner_id is not None:
            values["owner_id"] = query.owner_id
        rows = await direct.read(self.session, prepared, event_id=event_id, **values)
        if not rows and not await direct.read(self.session, _EVENT_EXISTS, event_id=event_id):
            return None
        page, next_cursor = BY_PRODUCT_NAME.page(rows, query.limit)
        return [_entry_row(row) for row in page], next_cursor

    async def product_ids(self, event_id: uuid.UUID) -> set[uuid.UUID]:
        """The products entered in the event."""
        stmt = select(EventProduct.product_id).where(EventProduct.event_id == event_id)
        return set((await self.session.scalars(stmt)).all())

    async def product(self, product_id: uuid.UUID) -> Product | None:
        """A product to enter, with its owner."""
        stmt = select(Product).where(Product.id == product_id).options(selectinload(Product.owner))
        return await self.session.scalar(stmt)

    async def products(self) -> list[Product]:
        """Every product, archived ones too."""
        return list((await self.session.scalars(select(Product))).all())
