"""Booking rows (the bookings a key may see, their pages and status moves) and slot rows (the
places the database keeps within capacity)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Select, bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.base import ExecutableOption
from sqlalchemy.sql.elements import ColumnElement

from app.api_keys.auth import Principal
from app.bookings.schemas import BookingFilter, BookingQuery
from app.core import changes, direct, upsert
from app.core.orm import utcnow
from app.core.pagination import newest_first
from app.core.repository import Repository
from app.models.api_key import ApiKey, Role
from app.models.booking import Booking, BookingStatus, BookingUnit, CheckIn, CheckInOutcome, Ticket
from app.models.experience import Experience, ExperienceSlot
from app.models.product import Product

NEWEST = newest_first(Booking.created_at, Booking.id)

_bookings: Any = Booking.__table__
_units: Any = BookingUnit.__table__
_BOOKING = direct.columns_of(Booking)
_UNIT = direct.columns_of(BookingUnit)
_INSERT_BOOKING = direct.Prepared(insert(_bookings).values(direct.bound_columns(_bookings)))
_INSERT_UNITS = direct.Prepared(insert(_units).values(direct.bound_columns(_units)))


def visible_to(principal: Principal) -> list[ColumnElement[bool]]:
    """Who sees which bookings, the one rule: admins all; a partner those it made; an owner
    those of its experiences."""
    if principal.role is Role.admin:
        return []
    if principal.role is Role.partner:
        return [Booking.api_key_id == principal.key_id]
    return [
        exists().where(Product.id == Booking.product_id, Product.owner_id == principal.owner_id)
    ]


class BookingRepository(Repository[Booking]):
    model = Booking
    noun = "booking"

    def options(self) -> Sequence[ExecutableOption]:
        return (selectinload(Booking.units), selectinload(Booking.tickets))

    async def get_visible(self, booking_id: uuid.UUID, principal: Principal) -> Booking | None:
        """The booking with its units and tickets if `principal` may see it, else None."""
        stmt = (
            self.select()
            .where(Booking.id == booking_id, *visible_to(principal))
            .options(*self.options())
            .execution_options(populate_existing=True)
        )
        booking: Booking | None = await self.session.scalar(stmt)
        return booking

    def _matching(self, principal: Principal, query: BookingQuery) -> Select[Booking]:
        """The bookings `principal` may see that match `query`'s filters."""
        clauses: list[Any] = visible_to(principal)
        if query.product_id is not None:
            clauses.append(Booking.product_id == query.product_id)
        if query.status is not None:
            clauses.append(Booking.status == query.status)
        if query.date is not None:
            clauses.append(Booking.date == query.date)
        return self.select().where(*clauses).options(*self.options())

    async def page_visible(
        self, principal: Principal, query: BookingQuery
    ) -> tuple[list[Booking], str | None]:
        """One page of the bookings `principal` may see that match `query`, newest first."""
        return await self.page(self._matching(principal, query), NEWEST, query)

    async def changed_visible(
        self, principal: Principal, query: BookingQuery, horizon: datetime
    ) -> tuple[list[Booking], str | None]:
        """One page of the change feed of the bookings `principal` may see, every status."""
        return await self.changes(self._matching(principal, query), query, horizon)

    async def find_made_by(
        self, api_key_id: uuid.UUID, found: BookingFilter, limit: int
    ) -> list[Booking]:
        """Up to `limit` of the bookings this key made that match `found`, by local date and
        start, then as they were made."""
        clauses: list[Any] = [Booking.api_key_id == api_key_id]
        if found.reseller_reference is not None:
            clauses.append(Booking.reseller_reference == found.reseller_reference)
        if found.reference is not None:
            clauses.append(Booking.reference == found.reference)
        if found.first is not None:
            clauses.append(Booking.date >= found.first)
        if found.last is not None:
            clauses.append(Booking.date <= found.last)
        if found.product_id is not None:
            clauses.append(Booking.product_id == found.product_id)
        stmt = (
            self.select()
            .where(*clauses)
            .options(*self.options())
            .order_by(
                Booking.date, Booking.start_time.asc().nulls_first(), Booking.created_at, Booking.id
            )
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def find_by_reseller_uuid(
        self, api_key_id: uuid.UUID, value: uuid.UUID
    ) -> Booking | None:
        """The booking of this key whose client uuid is `value`, or without one, whose id is."""
        stmt = (
            self.select()
            .where(
                Booking.api_key_id == api_key_id,
                or_(
                    Booking.client_uuid == value,
                    Booking.client_uuid.is_(None) & (Booking.id == value),
                ),
            )
            .options(*self.options())
            .order_by(Booking.client_uuid.is_(None))
            .limit(1)
            .execution_options(populate_existing=True)
        )
        booking: Booking | None = await self.session.scalar(stmt)
        return booking

    async def find_by_client_uuid(
        self, api_key_id: uuid.UUID, client_uuid: uuid.UUID
    ) -> Booking | None:
        stmt = (
            self.select()
            .where(Booking.api_key_id == api_key_id, Booking.client_uuid == client_uuid)
            .options(*self.options())
        )
        booking: Booking | None = await self.session.scalar(stmt)
        return booking

    async def get_many(self, booking_ids: Sequence[uuid.UUID]) -> list[Booking]:
        """These bookings, with units and tickets, fresh."""
        if not booking_ids:
            return []
        stmt = (
            self.select()
            .where(Booking.id.in_(booking_ids))
            .options(*self.options())
            .order_by(Booking.created_at, Booking.id)
            .execution_options(populate_existing=True)
        )
        return list(await self.session.scalars(stmt))

    async def status_for_update(self, booking_id: uuid.UUID) -> tuple[BookingStatus, datetime]:
        """The booking's status and expiry, row-locked until the transaction ends."""
        row = (
            await self.session.execute(
                select(Booking.status, Booking.expires_at)
                .where(Booking.id == booking_id)
                .with_for_update()
            )
        ).one()
        return row[0], row[1]

    async def set_values(self, booking_id: uuid.UUID, values: dict[str, Any]) -> None:
        """Write these columns of the booking (its row locked by `status_for_update`);
        `onupdate` stamps its `updated_at`."""
        await self.session.execute(
            update(Booking)
            .where(Booking.id == booking_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def owner_of(self, product_id: uuid.UUID) -> uuid.UUID:
        owner_id = await self.session.scalar(
            select(Product.owner_id).where(Product.id == product_id)
        )
        assert owner_id is not None  # a booked product is never deleted (RESTRICT)
        return owner_id

    async def insert_new(self, booking: Booking) -> None:
        """Write a new booking and its units, every column given (the units' ids too), its
        `updated_at` stamped now: two statements, on the driver (`app.core.direct`). The
        booking stays out of the session: it is what was written, and answers as it is."""
        changes.note_write(self.session)
        booking.updated_at = utcnow()
        row = {name: getattr(booking, key) for name, key in _BOOKING}
        await direct.rows(self.session, _INSERT_BOOKING, **row)
        units = [
            {**{name: getattr(unit, key) for name, key in _UNIT}, "booking_id": booking.id}
            for unit in booking.units
        ]
        await direct.many(self.session, _INSERT_UNITS, units)

    async def expire_holds(self, slot_id: uuid.UUID, now: datetime) -> list[tuple[uuid.UUID, int]]:
        """Mark the slot's holds that expired by `now` `expired`: their ids and people."""
        changes.note_write(self.session)
        rows = await direct.rows(
            self.session, _EXPIRE_HOLDS, slot=slot_id, now=now, stamped=utcnow()
        )
        return [(row[0], row[1]) for row in rows]

    async def slots_with_expired_holds(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Slots with holds that expired by `now` but are still marked on hold."""
        rows = await self.session.scalars(
            select(Booking.slot_id)
            .where(Booking.status == BookingStatus.on_hold, Booking.expires_at <= now)
            .group_by(Booking.slot_id)
            .order_by(Booking.slot_id)
            .limit(limit)
        )
        return list(rows)


_slots: Any = ExperienceSlot.__table__


def _slot_upsert(*, timed: bool) -> direct.Prepared:
    """Create a slot unless it exists, and row-lock it either way until the transaction ends;
    its id and places taken. `timed`: a start time's slot, else a date's (`start_time` null),
    each with its own unique index to conflict on. The update changes no value (`taken`
    stays): ON CONFLICT DO UPDATE is what locks and returns the row that was there. Two
    transactions creating it at once both go on, one row results, the later waiting for the
    earlier to end."""
    stmt = upsert.insert(_slots).values(direct.bound_columns(_slots))
    start_time = _slots.c.start_time
    key = ["product_id", "date", "start_time"] if timed else ["product_id", "date"]
    return direct.Prepared(
        stmt.on_conflict_do_update(
            index_elements=key,
            index_where=start_time.is_not(None) if timed else start_time.is_(None),
            set_={"taken": _slots.c.taken},
        ).returning(_slots.c.id, _slots.c.taken)
    )


_SLOT = {timed: _slot_upsert(timed=timed) for timed in (True, False)}
# Take places if they fit in the rule's capacity, which the slot then keeps.
_TAKE = direct.Prepared(
    update(_slots)
    .where(
        _slots.c.id == bindparam("slot"),
        _slots.c.taken + bindparam("people") <= bindparam("places"),
    )
    .values(taken=_slots.c.taken + bindparam("people"), capacity=bindparam("places"))
    .returning(_slots.c.id)
)
# A slot's holds that expired by `now` marked expired (`updated_at` stamped as it is written).
_EXPIRE_HOLDS = direct.Prepared(
    update(_bookings)
    .where(
        _bookings.c.slot_id == bindparam("slot"),
        _bookings.c.status == BookingStatus.on_hold,
        _bookings.c.expires_at <= bindparam("now"),
    )
    .values(status=BookingStatus.expired, updated_at=bindparam("stamped"))
    .returning(_bookings.c.id, _bookings.c.people)
)


@dataclass(frozen=True, slots=True)
class LockedSlot:
    """A slot row-locked until the transaction ends: its id and the places it had taken."""

    id: uuid.UUID
    taken: int


class SlotRepository(Repository[ExperienceSlot]):
    model = ExperienceSlot
    noun = "slot"

    async def lock(
        self, product_id: uuid.UUID, day: date, start_time: time | None, capacity: int
    ) -> LockedSlot:
        """The slot of this date (and start time), created on first demand with `capacity`,
        row-locked until the transaction ends (SQLite: the writer's lock does): one statement
        (`_slot_upsert`)."""
        rows = await direct.rows(
            self.session,
            _SLOT[start_time is not None],
            id=uuid.uuid4(),
            product_id=product_id,
            date=day,
            start_time=start_time,
            capacity=capacity,
            taken=0,
        )
        slot_id, taken = rows[0]
        return LockedSlot(slot_id, taken)

    async def lock_by_id(self, slot_id: uuid.UUID) -> ExperienceSlot:
        slot = await self.get(slot_id, for_update=True)
        assert slot is not None  # a booking's slot is never deleted (RESTRICT)
        return slot

    async def take(self, slot_id: uuid.UUID, people: int, capacity: int) -> bool:
        """Take `people` places if they fit in `capacity` (the rule's, which the slot then
        keeps): one conditional UPDATE, atomic whatever the number of processes."""
        taken = await direct.rows(self.session, _TAKE, slot=slot_id, people=people, places=capacity)
        return bool(taken)

    async def give_back(self, slot_id: uuid.UUID, people: int) -> None:
        if people:
            await self.session.execute(
                update(ExperienceSlot)
                .where(ExperienceSlot.id == slot_id)
                .values(taken=ExperienceSlot.taken - people)
                .execution_options(synchronize_session=False)
            )


@dataclass(frozen=True)
class ScannedTicket:
    """A ticket with what a gate judges it by: its booking, its unit (type) and the owner of
    the experience it admits to."""

    ticket: Ticket
    booking: Booking
    unit: BookingUnit
    owner_id: uuid.UUID


LoggedCheckIn = tuple[CheckIn, str | None]
"""A recorded check-in and the name of the key that made it (None once that key is gone)."""


class TicketRepository(Repository[Ticket]):
    model = Ticket
    noun = "ticket"

    async def find_by_codes(
        self, codes: Sequence[str], *, lock_bookings: bool = False
    ) -> dict[str, ScannedTicket]:
        """The tickets with these codes, by code. `lock_bookings`: their bookings are
        row-locked until the transaction ends, in id order, so that a cancel waits for the
        check-in (and a check-in for a cancel, or for another check-in of the booking, which
        may write it too) instead of crossing it."""
        if not codes:
            return {}
        stmt = (
            select(Ticket, Booking, BookingUnit, Product.owner_id)
            .join(Booking, Booking.id == Ticket.booking_id)
            .join(BookingUnit, BookingUnit.id == Ticket.booking_unit_id)
            .join(Product, Product.id == Booking.product_id)
            .where(Ticket.code.in_(codes))
            .order_by(Booking.id)
            .execution_options(populate_existing=True)
        )
        if lock_bookings:
            stmt = stmt.with_for_update(of=Booking)
        rows = await self.session.execute(stmt)
        return {
            ticket.code: ScannedTicket(ticket, booking, unit, owner_id)
            for ticket, booking, unit, owner_id in rows
        }

    async def lock(self, ticket_ids: Sequence[uuid.UUID]) -> None:
        """Row-lock these tickets until the transaction ends, in id order (two transactions
        locking overlapping sets queue instead of deadlocking)."""
        if ticket_ids:
            await self.session.execute(
                select(Ticket.id)
                .where(Ticket.id.in_(ticket_ids))
                .order_by(Ticket.id)
                .with_for_update()
            )

    async def check_in(
        self,
        ticket_id: uuid.UUID,
        at: datetime,
        gate: str | None,
        api_key_id: uuid.UUID,
        *,
        earliest_wins: bool,
    ) -> bool:
        """Make this the ticket's first check-in, if it has none (or, `earliest_wins`, only
        a later one): one conditional UPDATE, so of any number of check-ins racing, in any
        number of processes, one alone finds the ticket not checked in."""
        not_yet = Ticket.checked_in_at.is_(None)
        result = await self.session.execute(
            update(Ticket)
            .where(
                Ticket.id == ticket_id,
                or_(not_yet, Ticket.checked_in_at > at) if earliest_wins else not_yet,
            )
            .values(checked_in_at=at, checked_in_gate=gate, checked_in_by_key_id=api_key_id)
            .returning(Ticket.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def of_day(
        self, product_id: uuid.UUID, day: date
    ) -> list[tuple[Ticket, Booking, BookingUnit]]:
        """The tickets of the experience's confirmed bookings on this local date, with their
        booking and unit, by start time, booking and position: one statement."""
        rows = await self.session.execute(
            select(Ticket, Booking, BookingUnit)
            .join(Booking, Booking.id == Ticket.booking_id)
            .join(BookingUnit, BookingUnit.id == Ticket.booking_unit_id)
            .where(
                Booking.product_id == product_id,
                Booking.date == day,
                Booking.status == BookingStatus.confirmed,
            )
            .order_by(Booking.start_time, Booking.reference, Ticket.position)
            .execution_options(populate_existing=True)
        )
        return [(ticket, booking, unit) for ticket, booking, unit in rows]

    async def site_owner(self, product_id: uuid.UUID) -> uuid.UUID | None:
        """The owner of the experience (a product with booking settings), if it is one."""
        owner_id: uuid.UUID | None = await self.session.scalar(
            select(Product.owner_id)
            .join(Experience, Experience.product_id == Product.id)
            .where(Product.id == product_id)
        )
        return owner_id


class CheckInRepository(Repository[CheckIn]):
    model = CheckIn
    noun = "check-in"

    def _logged(self) -> Select[CheckIn, str | None]:
        return select(CheckIn, ApiKey.name).outerjoin(ApiKey, ApiKey.id == CheckIn.api_key_id)

    async def recorded(
        self, ticket_id: uuid.UUID, at: datetime, gate: str | None, api_key_id: uuid.UUID
    ) -> CheckIn | None:
        """The offline check-in this key already recorded for this ticket, time and gate."""
        found: CheckIn | None = await self.session.scalar(
            select(CheckIn)
            .where(
                CheckIn.ticket_id == ticket_id,
                CheckIn.at == at,
                CheckIn.gate.is_not_distinct_from(gate),
                CheckIn.api_key_id == api_key_id,
                CheckIn.offline.is_(True),
            )
            .order_by(CheckIn.received_at)
            .limit(1)
            .execution_options(populate_existing=True)
        )
        return found

    async def accepted(self, ticket_id: uuid.UUID) -> LoggedCheckIn | None:
        """The ticket's accepted check-in (its first), with its key's name."""
        return await self._one(
            CheckIn.ticket_id == ticket_id, CheckIn.outcome == CheckInOutcome.accepted
        )

    async def logged(self, check_in_id: uuid.UUID) -> LoggedCheckIn | None:
        """One check-in, with its key's name."""
        return await self._one(CheckIn.id == check_in_id)

    async def _one(self, *where: ColumnElement[bool]) -> LoggedCheckIn | None:
        row = (
            await self.session.execute(
                self._logged().where(*where).execution_options(populate_existing=True)
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    async def demote_accepted(self, ticket_id: uuid.UUID) -> None:
        """The ticket's accepted check-in becomes a duplicate (an earlier one replaces it)."""
        await self.session.execute(
            update(CheckIn)
            .where(CheckIn.ticket_id == ticket_id, CheckIn.outcome == CheckInOutcome.accepted)
            .values(outcome=CheckInOutcome.duplicate)
            .execution_options(synchronize_session=False)
        )

    async def log(self, ticket_id: uuid.UUID) -> list[LoggedCheckIn]:
        """Every recorded check-in of the ticket, earliest scan first."""
        rows = await self.session.execute(
            self._logged()
            .where(CheckIn.ticket_id == ticket_id)
            .order_by(CheckIn.at, CheckIn.received_at, CheckIn.id)
            .execution_options(populate_existing=True)
        )
        return [(check_in, name) for check_in, name in rows]
