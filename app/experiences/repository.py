"""Experience rows: settings with their calendar and ticket types, the event they are offered
at, and the people booked on each slot (what availability is computed from)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, exists, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.core import direct
from app.core.repository import Repository
from app.models.booking import Booking, BookingStatus, BookingUnit
from app.models.event import Event
from app.models.experience import (
    Experience,
    ExperienceClosure,
    ExperienceSchedule,
)
from app.models.product import Product, ProductStatus

SlotKey = tuple[date, time | None]
"""A slot of an experience: its local date and start time (None in date mode)."""


def live(now: datetime | ColumnElement[datetime]) -> Any:
    """The bookings that hold places at `now` (an instant, or a bind parameter): confirmed,
    or on hold and not yet expired. The one rule availability is computed by, whatever the
    worker has tidied."""
    return or_(
        Booking.status == BookingStatus.confirmed,
        (Booking.status == BookingStatus.on_hold) & (Booking.expires_at > now),
    )


def _with_product() -> Select[Any]:
    """Every read of settings loads their product, in the same statement."""
    return select(Experience).join(Experience.product).options(contains_eager(Experience.product))


# The reads of every availability answer and hold, built once: the settings with their product,
# then each collection of theirs by the product's id, set on them as a loader sets it. Building
# them on each request and working out their cache keys cost a calendar request 13% of its
# instructions; `selectinload`, which builds its statement (an expanding IN) on each load and
# works out its key, cost a hold more than a fifth of its instructions.
_SETTINGS = (
    _with_product()
    .where(Experience.product_id == bindparam("product_id"))
    .execution_options(populate_existing=True)
)


def _collection(name: str) -> Select[Any]:
    """The rows of the settings' collection `name` of `:product_id`, in the relationship's
    order, fresh from the database."""
    relationship: Any = getattr(Experience, name).property
    model = relationship.mapper.class_
    return (
        select(model)
        .where(model.product_id == bindparam("product_id"))
        .order_by(*relationship.order_by)
        .execution_options(populate_existing=True)
    )


_COLLECTIONS = {name: _collection(name) for name in ("schedules", "closures", "ticket_types")}
# The collections read with the settings, by whether their ticket types are asked for.
_FULL = {
    True: ("schedules", "closures", "ticket_types"),
    False: ("schedules", "closures"),
}


_PEOPLE_BY_SLOT = direct.Prepared(
    select(Booking.date, Booking.start_time, func.sum(Booking.people))
    .where(
        Booking.product_id == bindparam("product_id"),
        Booking.date >= bindparam("first"),
        Booking.date <= bindparam("last"),
        live(bindparam("now", type_=Booking.expires_at.type)),
    )
    .group_by(Booking.date, Booking.start_time)
)


class ExperienceRepository(Repository[Experience]):
    model = Experience
    noun = "experience"

    def select(self) -> Select[Any]:
        return _with_product()

    async def get_full(
        self, product_id: uuid.UUID, *, ticket_types: bool = True
    ) -> Experience | None:
        """The settings of `product_id` with its product, schedules, closures and (unless
        `ticket_types` is False) ticket types: a fixed number of statements."""
        values = {"product_id": product_id}
        experience: Experience | None = await self.session.scalar(_SETTINGS, values)
        if experience is None:
            return None
        for name in _FULL[ticket_types]:
            rows = await self.session.scalars(_COLLECTIONS[name], values)
            set_committed_value(experience, name, list(rows))
        return experience

    async def get_many_full(self, product_ids: Collection[uuid.UUID]) -> list[Experience]:
        """The settings of these products (those that have some) with their products,
        schedules and closures: a fixed number of statements whatever their number."""
        if not product_ids:
            return []
        stmt = (
            self.select()
            .where(Experience.product_id.in_(product_ids))
            .options(selectinload(Experience.schedules), selectinload(Experience.closures))
            .execution_options(populate_existing=True)
        )
        return list(await self.session.scalars(stmt))

    async def all_active_full(self) -> list[Experience]:
        """The settings of every active product, with their calendars and ticket types, by
        product name: a fixed number of statements."""
        stmt = (
            self.select()
            .where(Product.status == ProductStatus.active)
            .options(
                selectinload(Experience.schedules),
                selectinload(Experience.closures),
                selectinload(Experience.ticket_types),
            )
            .order_by(Product.name, Product.id)
        )
        return list(await self.session.scalars(stmt))

    async def event(self, event_id: uuid.UUID) -> Event | None:
        return await self.session.get(Event, event_id)

    async def events(self, event_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Event]:
        if not event_ids:
            return {}
        rows = await self.session.scalars(select(Event).where(Event.id.in_(event_ids)))
        return {event.id: event for event in rows}

    async def people_by_slot(
        self, product_id: uuid.UUID, first: date, last: date, now: datetime
    ) -> dict[SlotKey, int]:
        """The people of the live bookings (see `live`) on each slot of these dates: one
        statement whatever the number of dates."""
        rows = await direct.read(
            self.session, _PEOPLE_BY_SLOT, product_id=product_id, first=first, last=last, now=now
        )
        return {(day, start): int(people) for day, start, people in rows}

    async def people_by_product_slot(
        self, product_ids: Collection[uuid.UUID], days: Collection[date], now: datetime
    ) -> dict[uuid.UUID, dict[SlotKey, int]]:
        """As `people_by_slot`, for several products and any dates: one statement."""
        rows = await self.session.execute(
            select(Booking.product_id, Booking.date, Booking.start_time, func.sum(Booking.people))
            .where(Booking.product_id.in_(product_ids), Booking.date.in_(days), live(now))
            .group_by(Booking.product_id, Booking.date, Booking.start_time)
        )
        found: dict[uuid.UUID, dict[SlotKey, int]] = {}
        for product_id, day, start, people in rows:
            found.setdefault(product_id, {})[(day, start)] = int(people)
        return found

    async def has_live_bookings_from(
        self, product_id: uuid.UUID, first: date, now: datetime
    ) -> bool:
        """Whether any live booking is for `first` or later."""
        found = await self.session.scalar(
            select(
                exists().where(Booking.product_id == product_id, Booking.date >= first, live(now))
            )
        )
        return bool(found)

    async def booked_ticket_types(self, ticket_type_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of these ticket types some booking holds (they are kept, never deleted)."""
        if not ticket_type_ids:
            return set()
        rows = await self.session.scalars(
            select(BookingUnit.ticket_type_id)
            .where(BookingUnit.ticket_type_id.in_(ticket_type_ids))
            .distinct()
        )
        return set(rows)

    async def clear_calendar(self, product_id: uuid.UUID) -> None:
        """Delete the rules and closed dates (a `PUT` writes them anew)."""
        for model in (ExperienceSchedule, ExperienceClosure):
            await self.session.execute(
                delete(model)
                .where(model.product_id == product_id)
                .execution_options(synchronize_session=False)
            )

    async def product(self, product_id: uuid.UUID) -> Product | None:
        return await self.session.get(Product, product_id)
