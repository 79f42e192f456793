"""Experiences: a tourism product's booking settings, and its availability.

Who may do what (also in README): anyone reads settings and availability; an owner key writes
the settings of its own tourism products, admins of any.

Availability is computed from the bookings themselves (`repository.live`): places left on a
start = its capacity - the people of its confirmed bookings and of its holds not yet expired,
so an expired hold frees its places at its expiry instant, whether or not a worker ran. A
calendar of any length (up to `MAX_CALENDAR_DAYS`) costs the same few statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound, Unprocessable
from app.experiences.repository import ExperienceRepository, SlotKey
from app.experiences.rules import Opening, OpeningCalendar, Start, start_times
from app.experiences.schemas import (
    MAX_CALENDAR_DAYS,
    AvailabilityStatus,
    CalendarDay,
    ClosedReason,
    ClosureRead,
    DateAvailability,
    ExperienceRead,
    ExperienceWrite,
    OpeningHours,
    ScheduleRead,
    SlotAvailability,
    TicketTypeRead,
    TicketTypeTranslationRead,
    clock,
    weekday_mask,
    weekdays_of,
)
from app.models.event import Event
from app.models.experience import (
    BookingMode,
    Experience,
    ExperienceClosure,
    ExperienceSchedule,
    ExperienceTicketType,
)
from app.models.product import Product, ProductGroup, ProductStatus

LIMITED_SHARE = 5
"""A date or start is `limited` when at most 1/LIMITED_SHARE (20%) of its places are left."""


def read(experience: Experience) -> ExperienceRead:
    """The settings as every reader sees them (one representation: it is also the version)."""
    return ExperienceRead(
        product_id=experience.product_id,
        booking_mode=experience.booking_mode,
        duration_minutes=experience.duration_minutes,
        cutoff_minutes=experience.cutoff_minutes,
        hold_minutes=experience.hold_minutes,
        event_id=experience.event_id,
        schedules=[
            ScheduleRead(
                valid_from=s.valid_from,
                valid_to=s.valid_to,
                weekdays=weekdays_of(s.weekdays),
                start_times=list(start_times(s)),
                opening_from=s.opening_from,
                opening_to=s.opening_to,
                capacity=s.capacity,
            )
            for s in experience.schedules
        ],
        closures=[ClosureRead(date=c.date, reason=c.reason) for c in experience.closures],
        ticket_types=[ticket_type_read(t) for t in experience.ticket_types],
        created_at=experience.created_at,
        updated_at=experience.updated_at,
    )


def ticket_type_read(ticket_type: ExperienceTicketType) -> TicketTypeRead:
    return TicketTypeRead(
        id=ticket_type.id,
        code=ticket_type.code,
        name=ticket_type.name,
        translations={
            tag: TicketTypeTranslationRead(name=text["name"])
            for tag, text in (ticket_type.translations or {}).items()
        },
        price_vnd=ticket_type.price_vnd,
        places=ticket_type.places,
        min_per_booking=ticket_type.min_per_booking,
        max_per_booking=ticket_type.max_per_booking,
        active=ticket_type.active,
    )


def _missing(product_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"Product {product_id} has no experience settings (or does not exist).",
        code="experience_not_found",
    )


async def get_experience(session: AsyncSession, product_id: uuid.UUID) -> Experience:
    """The settings of a product, with its calendar and ticket types; 404 without."""
    experience = await ExperienceRepository(session).get_full(product_id)
    if experience is None:
        raise _missing(product_id)
    return experience


async def find_experience(session: AsyncSession, product_id: uuid.UUID) -> Experience | None:
    """The settings of a product, if it has any."""
    return await ExperienceRepository(session).get_full(product_id)


# Writing the settings.


def _error(loc: list[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": msg, "type": kind}


def _check(data: ExperienceWrite) -> None:
    """422 `invalid_experience` naming every rule the document breaks that its schema cannot
    say: date ranges, start times against the mode, opening hours, repeated dates or codes."""
    errors: list[dict[str, Any]] = []
    start_time_mode = data.booking_mode is BookingMode.start_time
    for i, rule in enumerate(data.schedules):
        if rule.valid_from and rule.valid_to and rule.valid_to < rule.valid_from:
            errors.append(_error(["schedules", i, "valid_to"], "before valid_from", "range"))
        if start_time_mode and not rule.start_times:
            errors.append(
                _error(["schedules", i, "start_times"], "required in start_time mode", "missing")
            )
        if not start_time_mode and rule.start_times:
            errors.append(
                _error(["schedules", i, "start_times"], "not allowed in date mode", "extra")
            )
        opens = rule.opening_from or time.min
        if rule.opening_to is not None and rule.opening_to <= opens:
            errors.append(
                _error(["schedules", i, "opening_to"], "must be after opening_from", "range")
            )
    seen_dates: set[date] = set()
    for i, closure in enumerate(data.closures):
        if closure.date in seen_dates:
            errors.append(_error(["closures", i, "date"], "listed twice", "duplicate"))
        seen_dates.add(closure.date)
    seen_codes: set[str] = set()
    for i, ticket_type in enumerate(data.ticket_types):
        if ticket_type.code in seen_codes:
            errors.append(_error(["ticket_types", i, "code"], "listed twice", "duplicate"))
        seen_codes.add(ticket_type.code)
        if ticket_type.min_per_booking > ticket_type.max_per_booking:
            errors.append(
                _error(["ticket_types", i, "max_per_booking"], "below min_per_booking", "range")
            )
    if not any(t.active and t.places > 0 for t in data.ticket_types):
        errors.append(
            _error(["ticket_types"], "needs an active ticket type taking a place", "missing")
        )
    if errors:
        raise Unprocessable(
            f"{len(errors)} problem(s) in the experience settings.",
            code="invalid_experience",
            errors=errors,
        )


async def _check_references(
    experiences: ExperienceRepository, product: Product, data: ExperienceWrite
) -> None:
    if product.group is not ProductGroup.tourism:
        raise Unprocessable(
            f"Only tourism products have booking settings; this one is {product.group}.",
            code="not_tourism",
        )
    if data.event_id is not None and await experiences.event(data.event_id) is None:
        raise Unprocessable(
            f"No event {data.event_id}.",
            code="unknown_event",
            errors=[_error(["event_id"], "no such event", "unknown_event")],
        )


async def put_experience(
    session: AsyncSession,
    product: Product,
    current: Experience | None,
    data: ExperienceWrite,
    *,
    now: datetime,
    zone: tzinfo,
) -> Experience:
    """Create or replace the settings of `product` (row-locked by the caller, who checked
    who may): 422 unless it is a tourism product and the document holds together; 409 to
    change the booking mode while bookings for today or later hold places."""
    experiences = ExperienceRepository(session)
    _check(data)
    await _check_references(experiences, product, data)
    existing: dict[str, ExperienceTicketType] = {}
    if current is None:
        current = Experience(product_id=product.id, created_at=now)
        session.add(current)
    else:
        existing = {t.code: t for t in current.ticket_types}
        if current.booking_mode is not data.booking_mode:
            today = now.astimezone(zone).date()
            if await experiences.has_live_bookings_from(product.id, today, now):
                raise Conflict(
                    "The booking mode cannot change while bookings for today or later hold "
                    "places; cancel them first.",
                    code="booking_mode_locked",
                )
    current.booking_mode = data.booking_mode
    current.duration_minutes = data.duration_minutes
    current.cutoff_minutes = data.cutoff_minutes
    current.hold_minutes = data.hold_minutes
    current.event_id = data.event_id
    current.updated_at = now
    await session.flush()
    # The rules and closed dates are written anew (deleted first: a date kept would otherwise
    # meet itself in the unique constraint).
    await experiences.clear_calendar(product.id)
    session.add_all(_schedules(product.id, data))
    session.add_all(
        ExperienceClosure(product_id=product.id, date=c.date, reason=c.reason)
        for c in data.closures
    )
    await _write_ticket_types(experiences, product.id, existing, data)
    await session.flush()
    return await get_experience(session, product.id)


def _schedules(product_id: uuid.UUID, data: ExperienceWrite) -> Iterator[ExperienceSchedule]:
    for position, rule in enumerate(data.schedules):
        yield ExperienceSchedule(
            product_id=product_id,
            position=position,
            valid_from=rule.valid_from,
            valid_to=rule.valid_to,
            weekdays=weekday_mask(rule.weekdays),
            start_times=[clock(t) for t in sorted(rule.start_times)],
            opening_from=rule.opening_from,
            opening_to=rule.opening_to,
            capacity=rule.capacity,
        )


async def _write_ticket_types(
    experiences: ExperienceRepository,
    product_id: uuid.UUID,
    existing: dict[str, ExperienceTicketType],
    data: ExperienceWrite,
) -> None:
    """Ticket types are matched by code, so their ids (which bookings name) stay. Those left
    out are deleted, or kept inactive if some booking holds them."""
    session = experiences.session
    for position, given in enumerate(data.ticket_types):
        row = existing.pop(given.code, None)
        if row is None:
            row = ExperienceTicketType(product_id=product_id, code=given.code)
            session.add(row)
        row.position = position
        row.name = given.name
        row.translations = {
            tag: text.model_dump() for tag, text in sorted(given.translations.items())
        }
        row.price_vnd = given.price_vnd
        row.places = given.places
        row.min_per_booking = given.min_per_booking
        row.max_per_booking = given.max_per_booking
        row.active = given.active
    booked = await experiences.booked_ticket_types([t.id for t in existing.values()])
    kept = len(data.ticket_types)
    for row in existing.values():
        if row.id in booked:
            row.position = kept
            row.active = False
            kept += 1
        else:
            await session.delete(row)


# Availability.


@dataclass(frozen=True)
class Offer:
    """What a product offers for booking: its settings (with ticket types) and its calendar."""

    product: Product
    experience: Experience
    calendar: OpeningCalendar


async def find_offer(
    session: AsyncSession, product_id: uuid.UUID, zone: tzinfo, *, ticket_types: bool = True
) -> Offer | None:
    """The product's settings and opening calendar (None without settings), in a fixed number
    of statements: the settings with the product, their rules, closed dates, ticket types
    (unless `ticket_types` is False) and event."""
    experiences = ExperienceRepository(session)
    experience = await experiences.get_full(product_id, ticket_types=ticket_types)
    if experience is None:
        return None
    event = await experiences.event(experience.event_id) if experience.event_id else None
    return _offer(experience, event, zone)


async def active_offers(session: AsyncSession, zone: tzinfo) -> list[Offer]:
    """What every active product with settings offers, with its ticket types, by name: a
    fixed number of statements."""
    experiences = ExperienceRepository(session)
    found = await experiences.all_active_full()
    events = await experiences.events({e.event_id for e in found if e.event_id is not None})
    return [_offer(e, events.get(e.event_id) if e.event_id else None, zone) for e in found]


def _offer(experience: Experience, event: Event | None, zone: tzinfo) -> Offer:
    product = experience.product
    calendar = OpeningCalendar.of(
        experience, event, zone, available=product.status is ProductStatus.active
    )
    return Offer(product, experience, calendar)


async def load_offer(
    session: AsyncSession, product_id: uuid.UUID, zone: tzinfo, *, ticket_types: bool = True
) -> Offer:
    """As `find_offer`; 404 `experience_not_found` without settings."""
    offer = await find_offer(session, product_id, zone, ticket_types=ticket_types)
    if offer is None:
        raise _missing(product_id)
    return offer


def status_of(places_left: int, capacity: int) -> AvailabilityStatus:
    """available, limited (at most 20% left) or sold_out, for places still bookable."""
    if places_left <= 0:
        return AvailabilityStatus.sold_out
    if places_left * LIMITED_SHARE <= capacity:
        return AvailabilityStatus.limited
    return AvailabilityStatus.available


def places_left(start: Start, day: date, people: dict[SlotKey, int]) -> int:
    return max(0, start.capacity - people.get((day, start.start_time), 0))


def _calendar_day_json(
    opening: Opening, people: dict[SlotKey, int], now: datetime
) -> dict[str, Any]:
    """A date summed up: `CalendarDay`'s fields, JSON-ready, as the model writes them (dates
    ISO, start times `HH:MM`, enums for their values). The calendar is written from these
    without building a model per date and per start (`calendar`); the one date's summary is
    the model made of them (`_calendar_day`)."""
    bookable = [s for s in opening.starts if s.bookable(now)]
    closed = opening.closed or (None if bookable else ClosedReason.past_cutoff)
    if closed is not None:
        return {
            "date": opening.date.isoformat(),
            "status": AvailabilityStatus.closed,
            "closed_reason": closed,
            "places_left": 0,
            "capacity": 0,
            "start_times": [],
        }
    lefts = [(start, places_left(start, opening.date, people)) for start in bookable]
    capacity = sum(start.capacity for start in bookable)
    left = sum(n for _, n in lefts)
    return {
        "date": opening.date.isoformat(),
        "status": status_of(left, capacity),
        "closed_reason": None,
        "places_left": left,
        "capacity": capacity,
        "start_times": [
            {
                "start_time": clock(start.start_time),
                "places_left": n,
                "status": status_of(n, start.capacity),
            }
            for start, n in lefts
            if start.start_time is not None
        ],
    }


def _calendar_day(opening: Opening, people: dict[SlotKey, int], now: datetime) -> CalendarDay:
    return CalendarDay.model_validate(_calendar_day_json(opening, people, now))


def _dates(first: date, last: date) -> Iterator[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _check_range(first: date, last: date) -> None:
    if last < first or (last - first).days >= MAX_CALENDAR_DAYS:
        raise Unprocessable(
            f"`to` must not be before `from`, and at most {MAX_CALENDAR_DAYS} days are "
            "answered at once.",
            code="invalid_range",
            errors=[{"loc": ["query", "to"], "msg": "out of range", "type": "range"}],
        )


async def calendar(
    session: AsyncSession,
    product_id: uuid.UUID,
    first: date,
    last: date,
    *,
    now: datetime,
    zone: tzinfo,
) -> dict[str, Any]:
    """Each local date from `first` to `last` (at most `MAX_CALENDAR_DAYS`): its status,
    places left and starts. A fixed number of statements, whatever the number of dates.

    `Calendar`'s fields, JSON-ready (`app.core.jsontext.dumps` writes them): a month's
    calendar is 31 dates and up to a hundred and more starts, and building a model for each
    only to write it cost a calendar 14% of its instructions. tests/experiences/
    test_availability.py holds every calendar it asks for to the bytes the models write."""
    _check_range(first, last)
    offer = await load_offer(session, product_id, zone, ticket_types=False)
    people = await ExperienceRepository(session).people_by_slot(product_id, first, last, now)
    return {
        "product_id": product_id,
        "booking_mode": offer.experience.booking_mode,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days": [
            _calendar_day_json(offer.calendar.opening(d), people, now) for d in _dates(first, last)
        ],
    }


def slot_availability(
    start: Start, day: date, people: dict[SlotKey, int], now: datetime
) -> SlotAvailability:
    """A start's places, `closed` once past its cut-off."""
    left = places_left(start, day, people)
    return SlotAvailability(
        start_time=start.start_time,
        starts_at=start.starts_at,
        ends_at=start.ends_at,
        cutoff_at=start.cutoff_at,
        capacity=start.capacity,
        places_left=left,
        status=status_of(left, start.capacity)
        if start.bookable(now)
        else AvailabilityStatus.closed,
    )


@dataclass(frozen=True)
class AvailabilityDay:
    """A local date's availability twice: summed up as the calendar gives it, and in detail."""

    summary: CalendarDay
    detail: DateAvailability


def _availability_day(
    offer: Offer, day: date, people: dict[SlotKey, int], now: datetime
) -> AvailabilityDay:
    opening = offer.calendar.opening(day)
    summary = _calendar_day(opening, people, now)
    mode = offer.experience.booking_mode
    hours = None
    rule = opening.schedule
    if rule is not None and (mode is BookingMode.date or rule.opening_from or rule.opening_to):
        hours = OpeningHours(opens=rule.opening_from or time.min, closes=rule.opening_to)
    detail = DateAvailability(
        product_id=offer.product.id,
        booking_mode=mode,
        date=day,
        status=summary.status,
        closed_reason=summary.closed_reason,
        opening_hours=hours,
        slots=[slot_availability(s, day, people, now) for s in opening.starts],
    )
    return AvailabilityDay(summary, detail)


async def availability_days(
    session: AsyncSession,
    product_id: uuid.UUID,
    first: date,
    last: date,
    *,
    now: datetime,
    zone: tzinfo,
) -> list[AvailabilityDay]:
    """Each local date from `first` to `last` (at most `MAX_CALENDAR_DAYS`), summed up and in
    detail; a fixed number of statements (404 `experience_not_found`, 422 `invalid_range`)."""
    _check_range(first, last)
    offer = await load_offer(session, product_id, zone, ticket_types=False)
    people = await ExperienceRepository(session).people_by_slot(product_id, first, last, now)
    return [_availability_day(offer, day, people, now) for day in _dates(first, last)]


async def availability_range(
    session: AsyncSession,
    product_id: uuid.UUID,
    first: date,
    last: date,
    *,
    now: datetime,
    zone: tzinfo,
) -> list[DateAvailability]:
    """Each local date from `first` to `last` (at most `MAX_CALENDAR_DAYS`) in detail, as
    `date_availability`; a fixed number of statements."""
    days = await availability_days(session, product_id, first, last, now=now, zone=zone)
    return [day.detail for day in days]


async def availability_of_dates(
    session: AsyncSession,
    dates: Collection[tuple[uuid.UUID, date]],
    *,
    now: datetime,
    zone: tzinfo,
) -> dict[tuple[uuid.UUID, date], DateAvailability]:
    """The detailed availability of each (experience, local date) asked for, those of
    products without settings left out: the same few statements whatever their number (the
    settings with their calendars, their events, the people booked), for answers that show
    many bookings with their starts."""
    if not dates:
        return {}
    experiences = ExperienceRepository(session)
    product_ids = {product_id for product_id, _ in dates}
    found = await experiences.get_many_full(product_ids)
    events = await experiences.events({e.event_id for e in found if e.event_id is not None})
    offers = {
        e.product_id: _offer(e, events.get(e.event_id) if e.event_id else None, zone) for e in found
    }
    people = await experiences.people_by_product_slot(product_ids, {day for _, day in dates}, now)
    answers: dict[tuple[uuid.UUID, date], DateAvailability] = {}
    for product_id, day in dates:
        offer = offers.get(product_id)
        if offer is not None:
            booked = people.get(product_id, {})
            answers[(product_id, day)] = _availability_day(offer, day, booked, now).detail
    return answers


async def date_availability(
    session: AsyncSession, product_id: uuid.UUID, day: date, *, now: datetime, zone: tzinfo
) -> DateAvailability:
    """A local date in detail: its opening hours and each start with its places left."""
    [found] = await availability_range(session, product_id, day, day, now=now, zone=zone)
    return found
