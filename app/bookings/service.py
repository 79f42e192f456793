"""Bookings: holds on an experience's places that expire unless confirmed, confirmation (which
issues the tickets), extension and cancellation; and who may see and do what.

Who may do what (also in README):
- reserve: partner and admin keys.
- read: admins every booking; a partner those it made; an owner those of its experiences.
  Anyone else gets 404 (the rule: `repository.visible_to`).
- confirm and extend: admins and the key that made it.
- cancel: admins, the key that made it, and the experience's owner; a confirmed booking only
  before its start, unless by an admin.

Places: each slot (a local date, or a date and start time) keeps `taken`, the people of its
holds and confirmed bookings, which the database holds within capacity. Every change of
`taken` happens with the slot row locked (`SELECT ... FOR UPDATE`; SQLite: the writer's lock),
the slot always before any of its bookings, so that reserves, cancels and the worker's sweep
queue instead of deadlocking. A reserve first releases the slot's holds that expired (status
`expired`, `taken` down), then takes its places with one conditional UPDATE (`taken + n <=
capacity`). Availability does not read `taken`: it counts the live bookings themselves
(`app.experiences.repository.live`), so a hold stops counting at its expiry instant exactly.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.bookings.repository import BookingRepository, SlotRepository
from app.bookings.schemas import (
    BookingCreate,
    BookingFilter,
    BookingQuery,
    BookingRead,
    ContactIn,
    ContactRead,
    TicketRead,
    TicketStatus,
    UnitRead,
)
from app.core import locking
from app.core.errors import Conflict, Forbidden, Unprocessable
from app.core.references import new_reference
from app.core.schemas import timestamp_text
from app.experiences import service as experiences
from app.experiences.rules import Start
from app.experiences.schemas import clock
from app.models.api_key import Role
from app.models.booking import Booking, BookingStatus, BookingUnit, Ticket
from app.models.experience import BookingMode, ExperienceTicketType
from app.webhooks.outbox import emit

TICKET_CODE_BYTES = 24
"""192 random bits per ticket code (32 URL-safe characters)."""
QR_PREFIX = "OCOP-TICKET:"


# The refusals, each a 409 with its own code.


class SlotClosed(Conflict):
    code, title = "closed", "Closed"


class PastCutoff(Conflict):
    code, title = "past_cutoff", "Past the booking cut-off"


class NotEnoughPlaces(Conflict):
    """409 `sold_out` (no place left) or `insufficient_capacity` (fewer than asked), naming
    the places left."""

    code, title = "insufficient_capacity", "Not enough places"


class HoldExpired(Conflict):
    code, title = "hold_expired", "Hold expired"


class InvalidTransition(Conflict):
    code, title = "invalid_transition", "Invalid transition"


class PastStart(Conflict):
    code, title = "past_start", "Already started"


# Reading.


def ticket_status(booking: Booking, ticket: Ticket) -> TicketStatus:
    """A ticket is cancelled with its booking (tickets exist only for confirmed bookings,
    which may only become cancelled), else checked in or still valid."""
    if booking.status is not BookingStatus.confirmed:
        return TicketStatus.cancelled
    return TicketStatus.valid if ticket.checked_in_at is None else TicketStatus.checked_in


def booking_read(booking: Booking) -> BookingRead:
    """The read model of a booking loaded with its units and tickets."""
    codes = {unit.id: unit.code for unit in booking.units}
    has_contact = any((booking.contact_name, booking.contact_phone, booking.contact_email))
    return BookingRead(
        id=booking.id,
        reference=booking.reference,
        status=booking.status,
        product_id=booking.product_id,
        date=booking.date,
        start_time=booking.start_time,
        people=booking.people,
        units=[
            UnitRead(
                ticket_type_id=unit.ticket_type_id,
                ticket_type=unit.code,
                name=unit.name,
                places=unit.places,
                quantity=unit.quantity,
                unit_price_vnd=unit.unit_price_vnd,
                total_vnd=unit.total_vnd,
            )
            for unit in booking.units
        ],
        total_vnd=booking.total_vnd,
        contact=ContactRead(
            name=booking.contact_name,
            phone=booking.contact_phone,
            email=booking.contact_email,
            country=booking.contact_country,
            locale=booking.contact_locale,
        )
        if has_contact
        else None,
        reseller_reference=booking.reseller_reference,
        notes=booking.notes,
        expires_at=booking.expires_at,
        confirmed_at=booking.confirmed_at,
        cancelled_at=booking.cancelled_at,
        cancel_reason=booking.cancel_reason,
        tickets=[
            TicketRead(
                id=ticket.id,
                ticket_type=codes[ticket.booking_unit_id],
                code=ticket.code,
                qr_payload=ticket.qr_payload,
                status=ticket_status(booking, ticket),
                checked_in_at=ticket.checked_in_at,
            )
            for ticket in booking.tickets
        ],
        created_at=booking.created_at,
        updated_at=booking.updated_at,
    )


def holds_places(booking: Booking, now: datetime) -> bool:
    """Whether the booking counts against its slot at `now` (confirmed, or a live hold)."""
    return booking.status is BookingStatus.confirmed or (
        booking.status is BookingStatus.on_hold and booking.expires_at > now
    )


def cancellable(booking: Booking, starts_at: datetime, now: datetime) -> bool:
    """Whether the key that made it may cancel it at `now` (what `cancel` allows all but
    admins): a live hold, or a confirmed booking before its start (`starts_at`)."""
    if booking.status is BookingStatus.confirmed:
        return now < starts_at
    return holds_places(booking, now)


async def get_visible_booking(
    session: AsyncSession, principal: Principal, booking_id: uuid.UUID
) -> Booking:
    """The booking if this key may see it; 404 otherwise, whether or not it exists."""
    booking = await BookingRepository(session).get_visible(booking_id, principal)
    if booking is None:
        raise BookingRepository.not_found(booking_id)
    return booking


async def find_by_client_uuid(
    session: AsyncSession, principal: Principal, client_uuid: uuid.UUID
) -> Booking | None:
    """The booking this key made with this client `uuid` (OCTO's), if any."""
    return await BookingRepository(session).find_by_client_uuid(principal.key_id, client_uuid)


async def find_made_by(
    session: AsyncSession, principal: Principal, found: BookingFilter, limit: int
) -> list[Booking]:
    """Up to `limit` of the bookings this key made that match `found`, by date and start."""
    return await BookingRepository(session).find_made_by(principal.key_id, found, limit)


async def find_by_reseller_uuid(
    session: AsyncSession, principal: Principal, value: uuid.UUID
) -> Booking | None:
    """The booking this key made that a reseller calls `value`: its client `uuid`, or for a
    booking made without one, its id (fresh from the database)."""
    return await BookingRepository(session).find_by_reseller_uuid(principal.key_id, value)


async def list_bookings(
    session: AsyncSession, principal: Principal, query: BookingQuery, horizon: datetime
) -> tuple[list[Booking], str | None]:
    """A page of the bookings this key may see, newest first; with `updated_since`, a page of
    their change feed, every status, up to `horizon`."""
    bookings = BookingRepository(session)
    if query.feed:
        return await bookings.changed_visible(principal, query, horizon)
    return await bookings.page_visible(principal, query)


async def _reload(session: AsyncSession, booking_id: uuid.UUID) -> Booking:
    return await BookingRepository(session).get_or_404(booking_id)


async def _announce(
    session: AsyncSession, event_type: str, booking: Booking, owner_id: uuid.UUID | None = None
) -> None:
    """The booking's webhook event, for admins, the key that made it and the site's owner
    (read unless the caller has it at hand: `owner_id`)."""
    if owner_id is None:
        owner_id = await BookingRepository(session).owner_of(booking.product_id)
    await emit(
        session,
        event_type,
        booking_read(booking).model_dump(mode="json"),
        owner_ids=[owner_id],
        partner_key_id=booking.api_key_id,
    )


# Reserving.


Units = dict[str, int]
"""Tickets asked for by ticket type code, merged, in the order they came."""


def _merge_units(data: BookingCreate) -> Units:
    merged: Units = {}
    for unit in data.units:
        merged[unit.ticket_type] = merged.get(unit.ticket_type, 0) + unit.quantity
    return merged


def _unit_errors(
    data: BookingCreate, types: dict[str, ExperienceTicketType], merged: Units
) -> list[dict[str, Any]]:
    """Each unit of an unknown or inactive type, or off its type's bounds; each type a booking
    needs and lacks."""
    errors: list[dict[str, Any]] = []
    for i, unit in enumerate(data.units):
        loc = ["body", "units", i]
        ticket_type = types.get(unit.ticket_type)
        if ticket_type is None or not ticket_type.active:
            errors.append(
                {
                    "loc": [*loc, "ticket_type"],
                    "msg": "no such ticket type on sale for this experience",
                    "type": "unknown_ticket_type",
                }
            )
            continue
        total = merged[unit.ticket_type]
        if not ticket_type.min_per_booking <= total <= ticket_type.max_per_booking:
            errors.append(
                {
                    "loc": [*loc, "quantity"],
                    "msg": f"{ticket_type.code}: {ticket_type.min_per_booking}.."
                    f"{ticket_type.max_per_booking} per booking, not {total}",
                    "type": "quantity_range",
                }
            )
    for code, ticket_type in types.items():
        if ticket_type.active and ticket_type.min_per_booking > 0 and code not in merged:
            errors.append(
                {
                    "loc": ["body", "units"],
                    "msg": f"needs at least {ticket_type.min_per_booking} {code}",
                    "type": "quantity_range",
                }
            )
    return errors


def _priced_units(data: BookingCreate, types: dict[str, ExperienceTicketType]) -> list[BookingUnit]:
    """The booking's units, priced (422 `invalid_units` naming each unit that is wrong, or
    `no_places` if together they take no place)."""
    merged = _merge_units(data)
    errors = _unit_errors(data, types, merged)
    if errors:
        raise Unprocessable(
            "Some tickets cannot be booked as asked.", code="invalid_units", errors=errors
        )
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
        for position, (code, quantity) in enumerate(merged.items())
    ]
    if sum(unit.quantity * unit.places for unit in units) == 0:
        raise Unprocessable(
            "A booking takes at least one place (tickets of 0 places, for infants, come with "
            "others).",
            code="no_places",
            errors=[{"loc": ["body", "units"], "msg": "takes no place", "type": "no_places"}],
        )
    return units


def _start(offer: experiences.Offer, data: BookingCreate, now: datetime) -> Start:
    """The start booked: 422 if the start time does not fit the mode, 409 `closed` if the date
    (or that start time) is not offered, 409 `past_cutoff` once past its cut-off."""
    mode = offer.experience.booking_mode
    if mode is BookingMode.start_time and data.start_time is None:
        raise Unprocessable(
            "This experience is booked by start time: give `start_time`.",
            code="start_time_required",
            errors=[{"loc": ["body", "start_time"], "msg": "required", "type": "missing"}],
        )
    if mode is BookingMode.date and data.start_time is not None:
        raise Unprocessable(
            "This experience is booked by date: leave `start_time` out.",
            code="start_time_not_allowed",
            errors=[{"loc": ["body", "start_time"], "msg": "not allowed", "type": "extra"}],
        )
    opening = offer.calendar.opening(data.date)
    if opening.closed is not None:
        raise SlotClosed(f"Closed on {data.date} ({opening.closed}).", reason=opening.closed)
    start = opening.start(data.start_time)
    if start is None:
        at = clock(data.start_time) if data.start_time is not None else "any time"
        raise SlotClosed(f"No start at {at} on {data.date}.", reason="no_such_start_time")
    if not start.bookable(now):
        raise PastCutoff(
            f"Bookings closed at {timestamp_text(start.cutoff_at)}.",
            cutoff_at=timestamp_text(start.cutoff_at),
        )
    return start


async def reserve(
    session: AsyncSession,
    principal: Principal,
    data: BookingCreate,
    *,
    now: datetime,
    zone: ZoneInfo,
    client_uuid: uuid.UUID | None = None,
    hold: timedelta | None = None,
) -> Booking:
    """Hold places on one start of an experience for `hold` from now (default: the
    experience's own `hold_minutes`).

    `client_uuid`: the reseller's id for the booking (OCTO's `uuid`), unique per key: if this
    key already made a booking with it, that booking is returned and nothing is held again.
    """
    if client_uuid is not None:
        # One at a time per (key, uuid): two at once would each find none and each hold.
        await locking.take_turns(session, f"booking-uuid:{principal.key_id}:{client_uuid}")
        existing = await find_by_client_uuid(session, principal, client_uuid)
        if existing is not None:
            return existing
    offer = await _bookable_offer(session, data, zone)
    units = _priced_units(data, {t.code: t for t in offer.experience.ticket_types})
    start = _start(offer, data, now)
    people = sum(unit.quantity * unit.places for unit in units)
    slot_id = await _take_places(session, offer, start, data, people, now)
    booking = Booking(
        id=uuid.uuid4(),
        reference=new_reference("LB", now, zone),
        product_id=data.product_id,
        slot_id=slot_id,
        date=data.date,
        start_time=start.start_time,
        status=BookingStatus.on_hold,
        people=people,
        total_vnd=sum(unit.total_vnd for unit in units),
        expires_at=now + (hold or timedelta(minutes=offer.experience.hold_minutes)),
        api_key_id=principal.key_id,
        client_uuid=client_uuid,
        reseller_reference=data.reseller_reference,
        notes=data.notes,
        # When it was made (the clock of the request); `updated_at` is stamped as it is
        # written, as every row's is, for the change feed (app.core.changes).
        created_at=now,
        units=units,
        tickets=[],
    )
    _set_contact(booking, data.contact)
    await BookingRepository(session).insert_new(booking)
    # Read as written: every column it has was set here or stamped as it was written.
    await _announce(session, "booking.created", booking, owner_id=offer.product.owner_id)
    return booking


async def _bookable_offer(
    session: AsyncSession, data: BookingCreate, zone: ZoneInfo
) -> experiences.Offer:
    """The experience booked: 422 `unknown_experience` if the product has no settings."""
    offer = await experiences.find_offer(session, data.product_id, zone)
    if offer is None:
        raise Unprocessable(
            f"Product {data.product_id} does not exist or cannot be booked.",
            code="unknown_experience",
            errors=[
                {"loc": ["body", "product_id"], "msg": "no such experience", "type": "unknown"}
            ],
        )
    return offer


async def _take_places(
    session: AsyncSession,
    offer: experiences.Offer,
    start: Start,
    data: BookingCreate,
    people: int,
    now: datetime,
) -> uuid.UUID:
    """Take `people` places on the start's slot (created on first demand), after releasing
    its expired holds; 409 naming the places left if they do not fit."""
    slots = SlotRepository(session)
    slot = await slots.lock(data.product_id, data.date, start.start_time, start.capacity)
    released = await _release_expired(session, slot.id, now)
    if not await slots.take(slot.id, people, start.capacity):
        left = max(0, start.capacity - (slot.taken - released))
        raise NotEnoughPlaces(
            f"{left} place(s) left; {people} asked.",
            code="sold_out" if left == 0 else None,
            places_left=left,
            people=people,
        )
    return slot.id


async def _release_expired(session: AsyncSession, slot_id: uuid.UUID, now: datetime) -> int:
    """Mark the holds of a slot (locked by the caller) that expired by `now` `expired` and
    give their places back; the people released."""
    expired = await BookingRepository(session).expire_holds(slot_id, now)
    if not expired:
        return 0
    people = sum(n for _, n in expired)
    await SlotRepository(session).give_back(slot_id, people)
    for booking in await BookingRepository(session).get_many([id_ for id_, _ in expired]):
        await _announce(session, "booking.expired", booking)
    return people


async def release_expired_slot(session: AsyncSession, slot_id: uuid.UUID, now: datetime) -> int:
    """Lock a slot and release its holds that expired by `now` (the worker's sweep); the
    people released."""
    await SlotRepository(session).lock_by_id(slot_id)
    return await _release_expired(session, slot_id, now)


async def slots_with_expired_holds(
    session: AsyncSession, now: datetime, limit: int
) -> list[uuid.UUID]:
    """Slots holding holds that expired by `now` yet still marked on hold."""
    return await BookingRepository(session).slots_with_expired_holds(now, limit)


def _set_contact(booking: Booking, contact: ContactIn | None) -> None:
    if contact is None:
        return
    booking.contact_name = contact.name
    booking.contact_phone = contact.phone
    booking.contact_email = contact.email
    booking.contact_country = contact.country
    booking.contact_locale = contact.locale


# Moving a booking: who may, and the moves.


Action = Literal["confirm", "extend", "cancel"]


def ensure_may(principal: Principal, booking: Booking, action: Action) -> None:
    """403 unless this key may `action` a booking it can see: admins all; the key that made
    it all; an owner (seeing it, the experience is its own) only cancel."""
    if principal.role is Role.admin or booking.api_key_id == principal.key_id:
        return
    if principal.role is Role.owner and action == "cancel":
        return
    raise Forbidden(
        f"Only the key that made this booking (or an admin) may {action} it.",
        code="not_your_booking",
    )


def _refusal(status: BookingStatus, expires_at: datetime, now: datetime, to: str) -> Conflict:
    if status is BookingStatus.expired or (status is BookingStatus.on_hold and expires_at <= now):
        return HoldExpired(
            f"The hold expired at {timestamp_text(expires_at)}; book again.",
            expired_at=timestamp_text(expires_at),
        )
    return InvalidTransition(
        f"A booking that is {status} cannot be {to}.", current_status=status.value
    )


@dataclass(frozen=True)
class Confirmation:
    contact: ContactIn | None = None
    reseller_reference: str | None = None
    notes: str | None = None


def _contact_values(booking: Booking, contact: ContactIn | None) -> dict[str, Any]:
    """The contact columns a confirmation writes (none if it keeps the hold's own); 422
    `contact_required` unless there is a name and a phone number or e-mail address."""
    if contact is None:
        name, reachable = booking.contact_name, booking.contact_phone or booking.contact_email
        values: dict[str, Any] = {}
    else:
        name, reachable = contact.name, contact.phone or contact.email
        values = {
            "contact_name": contact.name,
            "contact_phone": contact.phone,
            "contact_email": contact.email,
            "contact_country": contact.country,
            "contact_locale": contact.locale,
        }
    if not name or not reachable:
        raise Unprocessable(
            "Confirming needs the tourist's name and a phone number or e-mail address.",
            code="contact_required",
            errors=[
                {"loc": ["body", "contact"], "msg": "name and phone or email", "type": "missing"}
            ],
        )
    return values


def new_tickets(booking: Booking) -> list[Ticket]:
    """One ticket per person: each unit's quantity of them, each with an unguessable code."""
    tickets: list[Ticket] = []
    for unit in booking.units:
        for _ in range(unit.quantity):
            code = secrets.token_urlsafe(TICKET_CODE_BYTES)
            tickets.append(
                Ticket(
                    booking_id=booking.id,
                    booking_unit_id=unit.id,
                    position=len(tickets),
                    code=code,
                    qr_payload=QR_PREFIX + code,
                )
            )
    return tickets


async def confirm(
    session: AsyncSession, booking: Booking, data: Confirmation, *, now: datetime
) -> Booking:
    """Confirm a hold before it expires, with the tourist's contact; issues the tickets.
    409 `hold_expired` past its expiry, `invalid_transition` unless on hold."""
    bookings = BookingRepository(session)
    contact = _contact_values(booking, data.contact)
    # No place changes hands, so the slot is not locked: the booking's row lock orders this
    # with a reserve or sweep releasing the same hold (whichever comes second sees the other's
    # status), and this transaction waits for nothing they hold.
    status, expires_at = await bookings.status_for_update(booking.id)
    if status is not BookingStatus.on_hold or expires_at <= now:
        raise _refusal(status, expires_at, now, "confirmed")
    values: dict[str, Any] = {
        **contact,
        "status": BookingStatus.confirmed,
        "confirmed_at": now,
    }
    if data.reseller_reference is not None:
        values["reseller_reference"] = data.reseller_reference
    if data.notes is not None:
        values["notes"] = data.notes
    await bookings.set_values(booking.id, values)
    session.add_all(new_tickets(booking))
    await session.flush()
    confirmed = await _reload(session, booking.id)
    await _announce(session, "booking.confirmed", confirmed)
    return confirmed


async def extend(
    session: AsyncSession, booking: Booking, minutes: int | None, *, now: datetime
) -> Booking:
    """Push a live hold's expiry to `minutes` (default: the experience's `hold_minutes`) from
    now. 409 `hold_expired` past its expiry, `invalid_transition` unless on hold."""
    bookings = BookingRepository(session)
    if minutes is None:
        experience = await experiences.get_experience(session, booking.product_id)
        minutes = experience.hold_minutes
    status, expires_at = await bookings.status_for_update(booking.id)
    if status is not BookingStatus.on_hold or expires_at <= now:
        raise _refusal(status, expires_at, now, "extended")
    await bookings.set_values(booking.id, {"expires_at": now + timedelta(minutes=minutes)})
    return await _reload(session, booking.id)


async def cancel(
    session: AsyncSession,
    booking: Booking,
    by: Principal,
    reason: str | None,
    *,
    now: datetime,
    zone: ZoneInfo,
) -> Booking:
    """Cancel a live hold, or a confirmed booking (before its start unless by an admin), and
    give its places back, exactly once however many cancels race: the slot is locked first,
    then the booking's status is read and moved under that lock."""
    bookings = BookingRepository(session)
    await SlotRepository(session).lock_by_id(booking.slot_id)
    status, expires_at = await bookings.status_for_update(booking.id)
    live_hold = status is BookingStatus.on_hold and expires_at > now
    if not live_hold and status is not BookingStatus.confirmed:
        raise _refusal(status, expires_at, now, "cancelled")
    if status is BookingStatus.confirmed and by.role is not Role.admin:
        starts_at = await _starts_at(session, booking, zone)
        if now >= starts_at:
            raise PastStart(
                f"It started at {timestamp_text(starts_at)}; only an admin may cancel it now.",
                starts_at=timestamp_text(starts_at),
            )
    await bookings.set_values(
        booking.id,
        {
            "status": BookingStatus.cancelled,
            "cancelled_at": now,
            "cancel_reason": reason,
        },
    )
    await SlotRepository(session).give_back(booking.slot_id, booking.people)
    cancelled = await _reload(session, booking.id)
    await _announce(session, "booking.cancelled", cancelled)
    return cancelled


async def _starts_at(session: AsyncSession, booking: Booking, zone: ZoneInfo) -> datetime:
    """When the booking starts: its start time, or (date mode) the date's opening as the
    rules say now (midnight if they offer the date no more)."""
    if booking.start_time is not None:
        return datetime.combine(booking.date, booking.start_time, tzinfo=zone)
    offer = await experiences.find_offer(session, booking.product_id, zone)
    start = offer.calendar.opening(booking.date).start(None) if offer is not None else None
    if start is not None:
        return start.starts_at
    return datetime.combine(booking.date, time.min, tzinfo=zone)
