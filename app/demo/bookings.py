"""Demo bookings of the demo experiences, with their tickets and check-ins: visits already made
(confirmed and checked in at the gate, a group with one person who did not come, a booking
cancelled) and visits to come (confirmed, on hold, cancelled). The report gives no visitor
numbers per site: these are samples, and each booking says so in its notes.

They are placed around `now` on the dates each experience's opening calendar offers: the last
offered dates before today, and the first ones from `LEAD_DAYS` ahead that can still be booked.
(The mandarin picking, offered at the 2025 festival only, so has past visits or visits to come
depending on when the demo is seeded.) Like the demo orders they are written as records, not
through the booking service: past visits cannot be booked any more, and seeding sends no
webhook. Each slot's `taken` stays the people of its holds and confirmed bookings, within its
capacity: a demo booking that would not fit is left out. A hold lasts as any hold does
(`hold_minutes`), then expires.

An experience that has any demo booking gets none again, so seeding twice adds nothing.
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys import service as keys
from app.bookings.service import new_tickets
from app.core.references import new_reference
from app.demo.experiences import (
    BAC_LE_TEMPLE,
    DEMO_EXPERIENCES,
    MANDARIN_PICKING,
    TEA_WORKSHOP,
    ZONE,
    find_product,
)
from app.demo.orders import COUNTRIES, FAMILY_NAMES, FIRST_NAMES
from app.experiences import service as experiences
from app.experiences.rules import OpeningCalendar, Start
from app.models.api_key import ApiKey, Role
from app.models.booking import Booking, BookingStatus, BookingUnit, CheckIn, CheckInOutcome
from app.models.experience import ExperienceSlot, ExperienceTicketType

DEMO_NOTE = "Demo booking: sample data, not taken from the provincial report."
DEMO_KEY = "Demo: tourism bookings (travel app and festival ticket office)"
GATE = "demo-gate-1"
LEAD_DAYS = 2
"""Visits to come are placed from this many days after today."""
SEARCH_DAYS = 730
"""How far back and ahead the demo looks for dates an experience offers."""

confirmed, on_hold, cancelled = (
    BookingStatus.confirmed,
    BookingStatus.on_hold,
    BookingStatus.cancelled,
)


@dataclass(frozen=True)
class Visit:
    """One demo booking: its tickets by type, its status, how many of its tickets were checked
    in (a past visit), and which start of the date it takes (by position)."""

    units: tuple[tuple[str, int], ...]
    status: BookingStatus = confirmed
    came: int = 0
    start: int = 0


def _v(
    *units: tuple[str, int], status: BookingStatus = confirmed, came: int = 0, start: int = 0
) -> Visit:
    return Visit(units, status, came, start)


@dataclass(frozen=True)
class Plan:
    """The visits of each of the last offered dates before today (most recent first) and of
    each of the first dates to come."""

    past: tuple[tuple[Visit, ...], ...]
    upcoming: tuple[tuple[Visit, ...], ...]


PLANS = {
    BAC_LE_TEMPLE: Plan(
        past=(
            (
                _v(("adult", 2), ("child", 1), ("infant", 1), came=4),
                _v(("adult", 6), came=5, start=1),  # one of the group did not come
                _v(("adult", 2), status=cancelled, start=2),
            ),
            (_v(("adult", 18), ("child", 4), came=22), _v(("adult", 3), came=3, start=2)),
            (_v(("adult", 4), came=4, start=3),),
        ),
        upcoming=(
            (
                _v(("adult", 2), ("child", 2)),
                _v(("adult", 3), status=on_hold, start=1),
                _v(("adult", 1), status=cancelled, start=2),
            ),
            (_v(("adult", 12), start=1),),
        ),
    ),
    MANDARIN_PICKING: Plan(
        past=(
            (_v(("adult", 4), ("child", 2), came=6), _v(("adult", 2), came=2, start=1)),
            (_v(("adult", 8), ("child", 3), ("infant", 1), came=12),),
            (_v(("adult", 2), status=cancelled),),
        ),
        upcoming=(
            (_v(("adult", 2), ("child", 1)), _v(("adult", 2), status=on_hold, start=1)),
            (_v(("adult", 5)),),
        ),
    ),
    TEA_WORKSHOP: Plan(
        past=(
            (_v(("adult", 8), came=8), _v(("adult", 2), ("child", 1), came=3)),
            (_v(("adult", 15), came=14),),
        ),
        upcoming=(
            (
                _v(("adult", 4)),
                _v(("adult", 2), status=on_hold),
                _v(("adult", 2), status=cancelled),
            ),
        ),
    ),
}


def _past_dates(calendar: OpeningCalendar, today: date) -> Iterator[tuple[date, list[Start]]]:
    """The dates before today the calendar offers, most recent first."""
    for back in range(1, SEARCH_DAYS + 1):
        day = today - timedelta(days=back)
        starts = list(calendar.opening(day).starts)
        if starts:
            yield day, starts


def _coming_dates(
    calendar: OpeningCalendar, today: date, now: datetime
) -> Iterator[tuple[date, list[Start]]]:
    """The dates from `LEAD_DAYS` ahead whose every start can still be booked."""
    for ahead in range(LEAD_DAYS, SEARCH_DAYS + 1):
        day = today + timedelta(days=ahead)
        starts = list(calendar.opening(day).starts)
        if starts and all(start.bookable(now) for start in starts):
            yield day, starts


async def _demo_key(session: AsyncSession, now: datetime) -> uuid.UUID:
    """A partner key to have made the demo bookings, revoked at once: nobody can use it."""
    key = await session.scalar(select(ApiKey).where(ApiKey.name == DEMO_KEY))
    if key is None:
        key, _token = await keys.create_key(
            session, name=DEMO_KEY, role=Role.partner, owner_id=None
        )
        await keys.revoke(session, key, now)
    return key.id


async def _slot(
    session: AsyncSession, product_id: uuid.UUID, day: date, start: Start
) -> ExperienceSlot:
    """The slot of a start (row-locked), created if it is not there yet."""
    at = (
        ExperienceSlot.start_time.is_(None)
        if start.start_time is None
        else ExperienceSlot.start_time == start.start_time
    )
    slot = await session.scalar(
        select(ExperienceSlot)
        .where(ExperienceSlot.product_id == product_id, ExperienceSlot.date == day, at)
        .with_for_update()
    )
    if slot is None:
        slot = ExperienceSlot(
            id=uuid.uuid4(),
            product_id=product_id,
            date=day,
            start_time=start.start_time,
            capacity=start.capacity,
            taken=0,
        )
        session.add(slot)
        await session.flush()  # before its bookings: no relationship tells the ORM the order
    return slot


@dataclass
class Seeding:
    session: AsyncSession
    key_id: uuid.UUID
    now: datetime
    rng: random.Random
    bookings: int = 0
    check_ins: int = 0

    async def book(
        self,
        product_id: uuid.UUID,
        hold_minutes: int,
        types: dict[str, ExperienceTicketType],
        day: date,
        start: Start,
        visit: Visit,
        *,
        past: bool,
    ) -> None:
        """Write one demo booking (and its tickets and check-ins), if its slot has room."""
        units = [
            BookingUnit(
                id=uuid.uuid4(),
                position=position,
                ticket_type_id=types[code].id,
                code=code,
                name=types[code].name,
                places=types[code].places,
                quantity=quantity,
                unit_price_vnd=types[code].price_vnd,
                total_vnd=quantity * types[code].price_vnd,
            )
            for position, (code, quantity) in enumerate(visit.units)
        ]
        people = sum(unit.quantity * unit.places for unit in units)
        slot = await _slot(self.session, product_id, day, start)
        holds_places = visit.status is not cancelled
        if holds_places and slot.taken + people > slot.capacity:
            return
        if past:
            made = start.starts_at - timedelta(days=3, hours=self.rng.randrange(1, 48))
        elif visit.status is on_hold:
            made = self.now
        else:
            made = self.now - timedelta(hours=self.rng.randrange(2, 72))
        booking = Booking(
            id=uuid.uuid4(),
            reference=new_reference("LB", made, ZONE),
            product_id=product_id,
            slot_id=slot.id,
            date=day,
            start_time=start.start_time,
            status=visit.status,
            people=people,
            total_vnd=sum(unit.total_vnd for unit in units),
            expires_at=made + timedelta(minutes=hold_minutes),
            api_key_id=self.key_id,
            notes=DEMO_NOTE,
            # Made in the past, but written now: `updated_at` is when the row was written, so
            # that a mirror following the change feed receives the demo's bookings too.
            created_at=made,
            units=units,
            tickets=[],
        )
        self._contact(booking)
        if visit.status is not on_hold:
            booking.confirmed_at = made + timedelta(minutes=5)
            booking.tickets = new_tickets(booking)
        if visit.status is cancelled:
            booking.cancelled_at = min(made + timedelta(hours=1), start.starts_at)
            booking.cancel_reason = "Khách đổi lịch trình"  # the tourist's plans changed
        if holds_places:
            slot.taken += people
        self.session.add(booking)
        await self.session.flush()  # its tickets before their check-ins
        self._check_in(booking, start, visit.came)
        self.bookings += 1

    def _contact(self, booking: Booking) -> None:
        country = self.rng.choice(COUNTRIES)
        booking.contact_name = f"{self.rng.choice(FAMILY_NAMES)} {self.rng.choice(FIRST_NAMES)}"
        booking.contact_phone = f"09{self.rng.randrange(10**7, 10**8)}"
        booking.contact_country = country
        booking.contact_locale = "vi" if country == "VN" else "en"

    def _check_in(self, booking: Booking, start: Start, came: int) -> None:
        """The first `came` tickets scanned at the gate shortly before the start."""
        for minute, ticket in enumerate(booking.tickets[:came]):
            at = start.starts_at - timedelta(minutes=15) + timedelta(minutes=minute)
            ticket.checked_in_at = at
            ticket.checked_in_gate = GATE
            self.session.add(
                CheckIn(
                    ticket_id=ticket.id,
                    at=at,
                    received_at=at,
                    gate=GATE,
                    outcome=CheckInOutcome.accepted,
                )
            )
            self.check_ins += 1


async def _has_demo_bookings(session: AsyncSession, product_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.product_id == product_id, Booking.notes == DEMO_NOTE)
    )
    return bool(found)


async def seed_bookings(
    session: AsyncSession, now: datetime, count: Callable[[str, int], None]
) -> None:
    """Add the demo bookings of each demo experience that has none yet."""
    today = now.astimezone(ZONE).date()
    seeding: Seeding | None = None
    for demo in DEMO_EXPERIENCES:
        product = await find_product(session, demo)
        plan = PLANS[demo.product]
        if product is None or await _has_demo_bookings(session, product.id):
            continue
        offer = await experiences.find_offer(session, product.id, ZONE)
        if offer is None:
            continue
        if seeding is None:
            key_id = await _demo_key(session, now)
            seeding = Seeding(session, key_id, now, random.Random(zlib.crc32(b"tourism")))
        experience = offer.experience
        types = {t.code: t for t in experience.ticket_types if t.active}
        for past, days, dates in (
            (True, plan.past, _past_dates(offer.calendar, today)),
            (False, plan.upcoming, _coming_dates(offer.calendar, today, now)),
        ):
            for visits, (day, starts) in zip(days, dates, strict=False):
                for visit in visits:
                    if not all(code in types for code, _ in visit.units):
                        continue
                    start = starts[visit.start % len(starts)]
                    await seeding.book(
                        product.id, experience.hold_minutes, types, day, start, visit, past=past
                    )
    if seeding is None:
        return
    await session.flush()
    if seeding.bookings:
        count("bookings", seeding.bookings)
    if seeding.check_ins:
        count("check-ins", seeding.check_ins)
