"""OCTO for resellers: the core specification's supplier, products, availability and bookings,
on the very experiences, capacity, bookings and tickets of `/v1`. Every rule is the services'
of `app.experiences` and `app.bookings`; this module checks OCTO's ids and translates.

Who: partner keys only (`dependencies.Reseller`). A partner finds, sees and moves only the
bookings it made, by the `uuid` it gave them (or the one given to it at reserve).

How OCTO's objects stand for this API's (also in README):
- a product is an active tourism product with booking settings (its id: the product's); it has
  one option, `DEFAULT`; its units are the active ticket types (a unit's id: the type's code,
  `adult`), each counting `paxCount` = the places one ticket takes;
- an availability is a start time (`START_TIME`) or, for a product booked by date, the date
  (`OPENING_HOURS`, `allDay`); its id is its local start with the zone's offset,
  `2025-11-08T09:00:00+07:00` (a date: its midnight);
- statuses as OCTO defines them: `LIMITED` below half of the places left, `CLOSED` past the
  cut-off or on a closed date; a hold past its expiry is `EXPIRED` at once, whatever the worker
  did; a confirmed booking whose tickets are all checked in is `REDEEMED`;
- a booking's unit items are its tickets, one per person, with its QR payload once confirmed.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.bookings import schemas as booking_schemas
from app.bookings import service as bookings
from app.core.config import Settings
from app.core.errors import Conflict
from app.core.schemas import EARLIEST_DAY, LATEST_DAY
from app.experiences import schemas as experience_schemas
from app.experiences import service as experiences
from app.experiences.schemas import MAX_CALENDAR_DAYS, MAX_HOLD_MINUTES, MAX_PER_BOOKING, clock
from app.models.booking import Booking, BookingStatus, Ticket
from app.models.experience import BookingMode, ExperienceTicketType
from app.octo import errors
from app.octo.errors import OctoError
from app.octo.schemas import (
    Availability,
    AvailabilityStatus,
    AvailabilityType,
    CalendarDay,
    CalendarIn,
    Cancellation,
    CheckIn,
    ConfirmIn,
    Contact,
    ContactIn,
    DeliveryOption,
    ExtendIn,
    OpeningHours,
    Option,
    OptionRestrictions,
    Product,
    ReserveIn,
    Supplier,
    SupplierContact,
    Unit,
    UnitItem,
    UnitQuantity,
    UnitRestrictions,
    UnitType,
)
from app.octo.schemas import Booking as OctoBooking
from app.octo.schemas import BookingStatus as OctoStatus
from app.octo.schemas import Ticket as OctoTicket

OPTION_ID = "DEFAULT"
LOCALE = "vi"
"""The language of the products' names (Vietnamese)."""
END_OF_DAY = "23:59"
"""The closing time OCTO is told for opening hours that end at midnight."""
MAX_LISTED = 500
"""The most bookings `GET /octo/bookings` answers (OCTO has no pages): narrow the dates past it."""
REQUIRED_CONTACT_FIELDS = ["firstName", "emailAddress"]
"""What a reseller must give to confirm: a name, and a way to reach the tourist (a phone
number does too; OCTO's list cannot say "one of")."""
NO_AGE_LIMIT = (0, 99)
UNIT_TYPES = {member.value.lower(): member for member in UnitType}


# The supplier and its products.


def supplier(settings: Settings, endpoint: str) -> Supplier:
    """Who sells: the operator of this API, as its settings name it."""
    return Supplier(
        id=settings.octo_supplier_id,
        name=settings.octo_supplier_name,
        endpoint=endpoint,
        contact=SupplierContact(
            website=settings.octo_supplier_website,
            email=settings.octo_supplier_email,
            telephone=settings.octo_supplier_telephone,
            address=settings.octo_supplier_address,
        ),
    )


def _unit(ticket_type: ExperienceTicketType) -> Unit:
    min_age, max_age = NO_AGE_LIMIT
    return Unit(
        id=ticket_type.code,
        internal_name=ticket_type.name,
        reference=None,
        type=UNIT_TYPES.get(ticket_type.code, UnitType.OTHER),
        restrictions=UnitRestrictions(
            min_age=min_age,
            max_age=max_age,
            id_required=False,
            min_quantity=ticket_type.min_per_booking or None,
            max_quantity=ticket_type.max_per_booking,
            pax_count=ticket_type.places,
            accompanied_by=[],
        ),
        required_contact_fields=[],
    )


def _start_times(offer: experiences.Offer) -> list[str]:
    """Every start time the rules give (by date: each opening time), `HH:MM`."""
    rules = offer.experience.schedules
    if offer.experience.booking_mode is BookingMode.start_time:
        times = {text for rule in rules for text in rule.start_times}
    else:
        times = {clock(rule.opening_from or time.min) for rule in rules}
    return sorted(times) or [clock(time.min)]


def _product(offer: experiences.Offer, zone: ZoneInfo) -> Product:
    experience = offer.experience
    by_start = experience.booking_mode is BookingMode.start_time
    return Product(
        id=str(offer.product.id),
        internal_name=offer.product.name,
        reference=None,
        locale=LOCALE,
        time_zone=zone.key,
        allow_freesale=False,
        instant_confirmation=True,
        instant_delivery=True,
        availability_required=True,
        availability_type=AvailabilityType.START_TIME
        if by_start
        else AvailabilityType.OPENING_HOURS,
        delivery_formats=["QRCODE"],
        delivery_methods=["TICKET"],
        redemption_method="DIGITAL",
        options=[
            Option(
                id=OPTION_ID,
                default=True,
                internal_name=OPTION_ID,
                reference=None,
                availability_local_start_times=_start_times(offer),
                # A confirmed booking may be cancelled until it starts (`bookings.cancellable`).
                cancellation_cutoff="0 minutes",
                cancellation_cutoff_amount=0,
                cancellation_cutoff_unit="minute",
                required_contact_fields=REQUIRED_CONTACT_FIELDS,
                restrictions=OptionRestrictions(min_units=1, max_units=None),
                units=[_unit(t) for t in experience.ticket_types if t.active],
            )
        ],
    )


async def list_products(session: AsyncSession, zone: ZoneInfo) -> list[Product]:
    """Every bookable experience, by name."""
    return [_product(offer, zone) for offer in await experiences.active_offers(session, zone)]


async def _offer(session: AsyncSession, product_id: str, zone: ZoneInfo) -> experiences.Offer:
    """The experience `product_id` names: INVALID_PRODUCT_ID unless it is an active product
    with booking settings."""
    try:
        key = uuid.UUID(product_id)
    except ValueError:
        key = None
    offer = await experiences.find_offer(session, key, zone) if key is not None else None
    if offer is None or not offer.calendar.available:
        raise OctoError(
            f"No bookable product {product_id!r}.",
            code=errors.INVALID_PRODUCT_ID,
            productId=product_id,
        )
    return offer


async def get_product(session: AsyncSession, product_id: str, zone: ZoneInfo) -> Product:
    return _product(await _offer(session, product_id, zone), zone)


def _check_option(option_id: str) -> None:
    if option_id != OPTION_ID:
        raise OctoError(
            f"No option {option_id!r}; every product has one, {OPTION_ID!r}.",
            code=errors.INVALID_OPTION_ID,
            optionId=option_id,
        )


def _ticket_type(offer: experiences.Offer, unit_id: str) -> ExperienceTicketType:
    """The active ticket type `unit_id` names, else INVALID_UNIT_ID."""
    for ticket_type in offer.experience.ticket_types:
        if ticket_type.code == unit_id and ticket_type.active:
            return ticket_type
    raise OctoError(
        f"No unit {unit_id!r} on sale for this product.",
        code=errors.INVALID_UNIT_ID,
        unitId=unit_id,
    )


def _places_asked(offer: experiences.Offer, units: Sequence[UnitQuantity] | None) -> int:
    """The places the units asked about take (at least 1: what "available" is judged by)."""
    if not units:
        return 1
    return max(1, sum(u.quantity * _ticket_type(offer, u.id).places for u in units))


# Availability.


def availability_id(day: date, start_time: time | None, zone: ZoneInfo) -> str:
    """An availability's id: its local start with the zone's offset (a date: its midnight)."""
    return datetime.combine(day, start_time or time.min, tzinfo=zone).isoformat()


def _parse_availability_id(text: str, zone: ZoneInfo) -> tuple[date, time] | None:
    """The local date and time an availability id names, if it is one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    local = moment.astimezone(zone)
    day, at = local.date(), local.time()
    if not EARLIEST_DAY <= day <= LATEST_DAY or availability_id(day, at, zone) != text:
        return None
    return day, at


def _status(bookable: bool, left: int, capacity: int) -> AvailabilityStatus:
    """OCTO's status of places: LIMITED below half of them left."""
    if not bookable:
        return AvailabilityStatus.CLOSED
    if left <= 0:
        return AvailabilityStatus.SOLD_OUT
    if left * 2 < capacity:
        return AvailabilityStatus.LIMITED
    return AvailabilityStatus.AVAILABLE


def _is_available(status: AvailabilityStatus, left: int, asked: int) -> bool:
    return status in (AvailabilityStatus.AVAILABLE, AvailabilityStatus.LIMITED) and left >= asked


def _opening_hours(detail: experience_schemas.DateAvailability) -> list[OpeningHours]:
    hours = detail.opening_hours
    if hours is None:
        return []
    closes = clock(hours.closes) if hours.closes is not None else END_OF_DAY
    return [OpeningHours.model_validate({"from": clock(hours.opens), "to": closes})]


def _availability(
    detail: experience_schemas.DateAvailability,
    slot: experience_schemas.SlotAvailability,
    zone: ZoneInfo,
    asked: int,
) -> Availability:
    bookable = slot.status is not experience_schemas.AvailabilityStatus.closed
    status = _status(bookable, slot.places_left, slot.capacity)
    left = slot.places_left if bookable else 0
    if slot.start_time is None:  # a date, open all day
        start = datetime.combine(detail.date, time.min, tzinfo=zone)
        end = start + timedelta(days=1)
    else:
        start, end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
    return Availability(
        id=availability_id(detail.date, slot.start_time, zone),
        local_date_time_start=start.isoformat(),
        local_date_time_end=end.isoformat(),
        utc_cutoff_at=slot.cutoff_at,
        all_day=slot.start_time is None,
        available=_is_available(status, left, asked),
        status=status,
        vacancies=left,
        capacity=slot.capacity,
        max_units=None,
        opening_hours=_opening_hours(detail),
    )


def _calendar_day(day: experiences.AvailabilityDay, asked: int) -> CalendarDay:
    summary = day.summary
    bookable = summary.status is not experience_schemas.AvailabilityStatus.closed
    status = _status(bookable, summary.places_left, summary.capacity)
    return CalendarDay(
        local_date=summary.date.isoformat(),
        available=_is_available(status, summary.places_left, asked),
        status=status,
        vacancies=summary.places_left,
        capacity=summary.capacity,
        opening_hours=_opening_hours(day.detail),
    )


async def calendar(
    session: AsyncSession, body: CalendarIn, *, now: datetime, zone: ZoneInfo
) -> list[CalendarDay]:
    """Each local date of the range, summed up: whether `units` (default: one place) fit."""
    offer = await _offer(session, body.product_id, zone)
    _check_option(body.option_id)
    asked = _places_asked(offer, body.units)
    days = await experiences.availability_days(
        session, offer.product.id, body.local_date_start, body.local_date_end, now=now, zone=zone
    )
    return [_calendar_day(day, asked) for day in days]


async def check(
    session: AsyncSession, body: CheckIn, *, now: datetime, zone: ZoneInfo
) -> list[Availability]:
    """Each start (by date: each date) of a date, a range of dates or the ids asked for, with
    its places; the ids are what a reserve names."""
    offer = await _offer(session, body.product_id, zone)
    _check_option(body.option_id)
    asked = _places_asked(offer, body.units)
    wanted = set(body.availability_ids or ())
    if wanted:
        days = sorted(_day_of(text, zone) for text in wanted)
        first, last = days[0], days[-1]
    else:
        first, last = body.date_range()
    days_found = await experiences.availability_days(
        session, offer.product.id, first, last, now=now, zone=zone
    )
    found = [
        _availability(day.detail, slot, zone, asked)
        for day in days_found
        for slot in day.detail.slots
    ]
    return [a for a in found if not wanted or a.id in wanted]


def _invalid_availability(text: str) -> OctoError:
    return OctoError(
        f"No availability {text!r} for this product; ask POST /octo/availability for ids.",
        code=errors.INVALID_AVAILABILITY_ID,
        availabilityId=text,
    )


def _day_of(text: str, zone: ZoneInfo) -> date:
    parsed = _parse_availability_id(text, zone)
    if parsed is None:
        raise _invalid_availability(text)
    return parsed[0]


def _start(offer: experiences.Offer, text: str | None, zone: ZoneInfo) -> tuple[date, time | None]:
    """The local date and start time an availability id names, if the product offers them
    (past their cut-off or not: the booking service refuses those), else
    INVALID_AVAILABILITY_ID."""
    if text is None:
        raise OctoError(
            "This product needs an `availabilityId`.",
            code=errors.INVALID_AVAILABILITY_ID,
            availabilityId="",
        )
    parsed = _parse_availability_id(text, zone)
    if parsed is None:
        raise _invalid_availability(text)
    day, at = parsed
    start_time: time | None = at
    if offer.experience.booking_mode is BookingMode.date:
        if at != time.min:
            raise _invalid_availability(text)
        start_time = None
    if offer.calendar.opening(day).start(start_time) is None:
        raise _invalid_availability(text)
    return day, start_time


# Bookings.


def _contact(given: ContactIn | None) -> booking_schemas.ContactIn | None:
    """The tourist as the booking service takes them (none without a name)."""
    if given is None or given.name is None:
        return None
    try:
        return booking_schemas.ContactIn.model_validate(
            {
                "name": given.name,
                "phone": given.phone_number,
                "email": given.email_address,
                "country": given.country,
                "locale": given.locales[0] if given.locales else None,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise OctoError(f"The contact cannot be used: {problems}.") from exc


def _units(offer: experiences.Offer, body: ReserveIn) -> list[booking_schemas.UnitIn]:
    """One unit per ticket type, from one unit item per ticket (INVALID_UNIT_ID if one names
    no type on sale)."""
    counts = Counter(_ticket_type(offer, item.unit_id).code for item in body.unit_items)
    for code, quantity in counts.items():
        if quantity > MAX_PER_BOOKING:
            raise OctoError(
                f"At most {MAX_PER_BOOKING} {code!r} per booking.",
                code=errors.UNPROCESSABLE_ENTITY,
            )
    return [booking_schemas.UnitIn(ticket_type=code, quantity=n) for code, n in counts.items()]


async def reserve(
    session: AsyncSession,
    principal: Principal,
    body: ReserveIn,
    *,
    now: datetime,
    zone: ZoneInfo,
    hold_override: timedelta | None = None,
) -> Booking:
    """Hold the places of the unit items on an availability, for `expirationMinutes` (at most
    `MAX_HOLD_MINUTES`; default: the product's hold; `hold_override`, if given, whatever they
    say). A `uuid` this key used before gives that booking back, and holds nothing more."""
    client_uuid = body.uuid or uuid.uuid4()
    existing = await bookings.find_by_client_uuid(session, principal, client_uuid)
    if existing is not None:
        return existing
    offer = await _offer(session, body.product_id, zone)
    _check_option(body.option_id)
    day, start_time = _start(offer, body.availability_id, zone)
    data = booking_schemas.BookingCreate(
        product_id=offer.product.id,
        date=day,
        start_time=start_time,
        units=_units(offer, body),
        contact=_contact(body.contact),
        reseller_reference=body.reseller_reference,
        notes=body.notes,
    )
    minutes = min(body.expiration_minutes, MAX_HOLD_MINUTES) if body.expiration_minutes else None
    hold = hold_override or (timedelta(minutes=minutes) if minutes else None)
    return await bookings.reserve(
        session, principal, data, now=now, zone=zone, client_uuid=client_uuid, hold=hold
    )


def reseller_uuid(booking: Booking) -> uuid.UUID:
    """What OCTO calls a booking by: the `uuid` its reseller gave it (or was given at reserve);
    a booking made through `/v1`, which has none, by its id."""
    return booking.client_uuid or booking.id


def _invalid_uuid(text: str, why: str) -> OctoError:
    return OctoError(why, code=errors.INVALID_BOOKING_UUID, uuid=text)


async def get_booking(session: AsyncSession, principal: Principal, uuid_text: str) -> Booking:
    """The booking this key made that OCTO calls `uuid` (`reseller_uuid`), else
    INVALID_BOOKING_UUID."""
    try:
        key = uuid.UUID(uuid_text)
    except ValueError:
        key = None
    booking = (
        await bookings.find_by_reseller_uuid(session, principal, key) if key is not None else None
    )
    if booking is None:
        raise _invalid_uuid(uuid_text, f"No booking of yours has the uuid {uuid_text!r}.")
    return booking


async def confirm(
    session: AsyncSession,
    principal: Principal,
    uuid_text: str,
    body: ConfirmIn,
    *,
    now: datetime,
) -> Booking:
    """Confirm a hold with the tourist's contact (issuing the tickets); a confirmed booking is
    given back as it is, so that a retried confirmation is harmless."""
    booking = await get_booking(session, principal, uuid_text)
    if booking.status is BookingStatus.confirmed:
        return booking
    if body.unit_items is not None:
        asked = Counter(item.unit_id for item in body.unit_items)
        if asked != Counter({unit.code: unit.quantity for unit in booking.units}):
            raise OctoError(
                "The unit items cannot change at confirmation; cancel and reserve again.",
                code=errors.UNPROCESSABLE_ENTITY,
            )
    confirmation = bookings.Confirmation(
        contact=_contact(body.contact), reseller_reference=body.reseller_reference
    )
    try:
        return await bookings.confirm(session, booking, confirmation, now=now)
    except bookings.HoldExpired as exc:
        raise _invalid_uuid(uuid_text, f"The booking expired: {exc.detail}") from exc


async def extend(
    session: AsyncSession, principal: Principal, uuid_text: str, body: ExtendIn, *, now: datetime
) -> Booking:
    """Hold a live hold's places `expirationMinutes` more from now (at most
    `MAX_HOLD_MINUTES`; default: the product's hold)."""
    booking = await get_booking(session, principal, uuid_text)
    minutes = min(body.expiration_minutes, MAX_HOLD_MINUTES) if body.expiration_minutes else None
    try:
        return await bookings.extend(session, booking, minutes, now=now)
    except bookings.HoldExpired as exc:
        raise _invalid_uuid(uuid_text, f"The booking expired: {exc.detail}") from exc


async def cancel(
    session: AsyncSession,
    principal: Principal,
    uuid_text: str,
    reason: str | None,
    *,
    now: datetime,
    zone: ZoneInfo,
) -> Booking:
    """Cancel a hold, or a confirmed booking before it starts; its places return once. A
    cancelled booking is given back as it is (a retried, or racing, cancellation)."""
    booking = await get_booking(session, principal, uuid_text)
    if booking.status is BookingStatus.cancelled:
        return booking
    try:
        return await bookings.cancel(session, booking, principal, reason, now=now, zone=zone)
    except Conflict:
        # Another cancellation may have won the booking's lock: then it is cancelled.
        again = await get_booking(session, principal, uuid_text)
        if again.status is BookingStatus.cancelled:
            return again
        raise


async def list_bookings(
    session: AsyncSession,
    principal: Principal,
    *,
    reseller_reference: str | None,
    supplier_reference: str | None,
    local_date: date | None,
    local_date_start: date | None,
    local_date_end: date | None,
    product_id: str | None,
    option_id: str | None,
) -> list[Booking]:
    """The bookings this key made, by one of: `resellerReference`, `supplierReference`,
    `localDate`, `localDateStart` and `localDateEnd` (at most `MAX_CALENDAR_DAYS` days);
    `productId` and `optionId` narrow them. At most `MAX_LISTED`."""
    first, last = local_date, local_date
    if local_date_start is not None or local_date_end is not None:
        if local_date_start is None or local_date_end is None or local_date is not None:
            raise OctoError("Give localDateStart and localDateEnd together (or localDate).")
        first, last = local_date_start, local_date_end
        if last < first or (last - first).days >= MAX_CALENDAR_DAYS:
            raise OctoError(f"localDateEnd must be 0 to {MAX_CALENDAR_DAYS - 1} days on.")
    if reseller_reference is None and supplier_reference is None and first is None:
        raise OctoError(
            "Give resellerReference, supplierReference, localDate, or localDateStart and "
            "localDateEnd."
        )
    if option_id is not None:
        _check_option(option_id)
    product_key = None
    if product_id is not None:
        try:
            product_key = uuid.UUID(product_id)
        except ValueError:
            raise OctoError(
                f"No product {product_id!r}.", code=errors.INVALID_PRODUCT_ID, productId=product_id
            ) from None
    found = await bookings.find_made_by(
        session,
        principal,
        booking_schemas.BookingFilter(
            reseller_reference=reseller_reference,
            reference=supplier_reference,
            first=first,
            last=last,
            product_id=product_key,
        ),
        limit=MAX_LISTED + 1,
    )
    if len(found) > MAX_LISTED:
        raise OctoError(f"More than {MAX_LISTED} bookings match; ask for fewer dates.")
    return found


# A booking as OCTO shows it.


def _booking_status(booking: Booking, now: datetime) -> OctoStatus:
    if booking.status is BookingStatus.on_hold:
        return OctoStatus.ON_HOLD if booking.expires_at > now else OctoStatus.EXPIRED
    if booking.status is BookingStatus.confirmed:
        redeemed = bool(booking.tickets) and all(t.checked_in_at for t in booking.tickets)
        return OctoStatus.REDEEMED if redeemed else OctoStatus.CONFIRMED
    if booking.status is BookingStatus.expired:
        return OctoStatus.EXPIRED
    return OctoStatus.CANCELLED


def _contact_out(booking: Booking) -> Contact:
    return Contact(
        full_name=booking.contact_name,
        first_name=None,
        last_name=None,
        email_address=booking.contact_email,
        phone_number=booking.contact_phone,
        locales=[booking.contact_locale] if booking.contact_locale else [],
        postal_code=None,
        country=booking.contact_country,
        notes=None,
    )


_NO_CONTACT = Contact(
    full_name=None,
    first_name=None,
    last_name=None,
    email_address=None,
    phone_number=None,
    locales=[],
    postal_code=None,
    country=None,
    notes=None,
)


def _ticket(ticket: Ticket) -> OctoTicket:
    return OctoTicket(
        redemption_method="DIGITAL",
        utc_redeemed_at=ticket.checked_in_at,
        delivery_options=[
            DeliveryOption(delivery_format="QRCODE", delivery_value=ticket.qr_payload)
        ],
    )


def _unit_items(booking: Booking, status: OctoStatus) -> list[UnitItem]:
    """One per ticket (per person): its id is stable from the hold on (derived from the
    booking's unit and its rank), its ticket is there once confirmed."""
    tickets: dict[uuid.UUID, list[Ticket]] = defaultdict(list)
    for issued_ticket in booking.tickets:
        tickets[issued_ticket.booking_unit_id].append(issued_ticket)
    items = []
    for unit in booking.units:
        issued = tickets[unit.id]
        for rank in range(unit.quantity):
            ticket = issued[rank] if rank < len(issued) else None
            redeemed = ticket is not None and ticket.checked_in_at is not None
            in_force = status in (OctoStatus.CONFIRMED, OctoStatus.REDEEMED)
            items.append(
                UnitItem(
                    uuid=str(uuid.uuid5(booking.id, f"{unit.id}/{rank}")),
                    reseller_reference=None,
                    supplier_reference=None,
                    unit_id=unit.code,
                    status=OctoStatus.REDEEMED if redeemed and in_force else status,
                    utc_redeemed_at=ticket.checked_in_at if ticket is not None else None,
                    contact=_NO_CONTACT,
                    ticket=_ticket(ticket) if ticket is not None else None,
                )
            )
    return items


def _view(
    booking: Booking,
    detail: experience_schemas.DateAvailability | None,
    *,
    now: datetime,
    zone: ZoneInfo,
) -> OctoBooking:
    slot = None
    if detail is not None:
        slot = next((s for s in detail.slots if s.start_time == booking.start_time), None)
    # The start as the rules say now; a start they no longer offer, as it was booked.
    starts_at = (
        slot.starts_at
        if slot is not None
        else datetime.combine(booking.date, booking.start_time or time.min, tzinfo=zone)
    )
    status = _booking_status(booking, now)
    on_hold = status in (OctoStatus.ON_HOLD, OctoStatus.EXPIRED)
    redeemed = [t.checked_in_at for t in booking.tickets if t.checked_in_at is not None]
    return OctoBooking(
        id=str(booking.id),
        uuid=str(reseller_uuid(booking)),
        test_mode=False,
        reseller_reference=booking.reseller_reference,
        supplier_reference=booking.reference,
        status=status,
        utc_created_at=booking.created_at,
        utc_updated_at=booking.updated_at,
        utc_expires_at=booking.expires_at if on_hold else None,
        utc_redeemed_at=max(redeemed) if status is OctoStatus.REDEEMED else None,
        utc_confirmed_at=booking.confirmed_at,
        product_id=str(booking.product_id),
        option_id=OPTION_ID,
        cancellable=bookings.cancellable(booking, starts_at, now),
        cancellation=Cancellation(
            # Nothing is kept for a cancellation: what was paid is owed back whole.
            refund="FULL",
            reason=booking.cancel_reason,
            utc_cancelled_at=booking.cancelled_at,
        )
        if booking.cancelled_at is not None
        else None,
        freesale=False,
        availability_id=availability_id(booking.date, booking.start_time, zone),
        availability=_availability(detail, slot, zone, 1)
        if detail is not None and slot is not None
        else None,
        contact=_contact_out(booking),
        notes=booking.notes,
        delivery_methods=["TICKET"],
        voucher=None,
        unit_items=_unit_items(booking, status),
    )


async def views(
    session: AsyncSession, found: Iterable[Booking], *, now: datetime, zone: ZoneInfo
) -> list[OctoBooking]:
    """These bookings as OCTO shows them, each with its availability: a fixed number of
    statements whatever their number."""
    listed = list(found)
    details = await experiences.availability_of_dates(
        session, {(b.product_id, b.date) for b in listed}, now=now, zone=zone
    )
    return [_view(b, details.get((b.product_id, b.date)), now=now, zone=zone) for b in listed]


async def view(
    session: AsyncSession, booking: Booking, *, now: datetime, zone: ZoneInfo
) -> OctoBooking:
    [shown] = await views(session, [booking], now=now, zone=zone)
    return shown
