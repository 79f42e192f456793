from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.i18n import LanguageTag
from app.core.pagination import ChangesQuery
from app.core.schemas import (
    END,
    NFC,
    NO_NUL,
    NOT_BLANK,
    Day,
    Email,
    InputModel,
    LongText,
    Name,
    NumberOnly,
    Phone,
    ShortText,
    Timestamp,
    TimestampIn,
)
from app.experiences.schemas import MAX_HOLD_MINUTES, MAX_PER_BOOKING, LocalTime, TicketCode
from app.models.booking import BookingStatus, CheckInOutcome

MAX_UNITS = 20

EXAMPLE_EXPERIENCE_ID = "3f6b1c2e-8d4a-4e5f-9a7b-2c1d0e9f8a76"
"""The experience the booking example names (the Bắc Lệ temple's guided visits, say)."""

Country = Annotated[str, StringConstraints(pattern=rf"^[A-Z]{{2}}{END}")]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_NUL)]


class ContactIn(InputModel):
    """The tourist: a name, and a phone number or an e-mail address (or both)."""

    name: Name = Field(description="The tourist's full name.")
    phone: Phone | None = Field(default=None, description="Phone number.")
    email: Email | None = Field(default=None, description="E-mail address.")
    country: Country | None = Field(
        default=None, description="ISO 3166-1 alpha-2 country code, e.g. `VN`, `CN`, `KR`."
    )
    locale: LanguageTag | None = Field(
        default=None, description="The tourist's language, e.g. `vi`, `en`, `zh-Hans`."
    )


class UnitIn(InputModel):
    ticket_type: TicketCode = Field(description="A ticket type's code: `adult`, `child`...")
    quantity: Annotated[int, Field(ge=1, le=MAX_PER_BOOKING), NumberOnly] = Field(
        description=f"How many tickets of that type, 1..{MAX_PER_BOOKING}."
    )


class BookingCreate(InputModel):
    """A hold on places of one date (and start time) of an experience."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "product_id": EXAMPLE_EXPERIENCE_ID,
                    "date": "2025-11-08",
                    "start_time": "09:30",
                    "units": [
                        {"ticket_type": "adult", "quantity": 2},
                        {"ticket_type": "child", "quantity": 1},
                    ],
                    "reseller_reference": "TB-2025-0042",
                }
            ]
        }
    )

    product_id: uuid.UUID = Field(description="The experience (a tourism product).")
    date: Day = Field(description="The local date.")
    start_time: LocalTime | None = Field(
        default=None,
        description="The local start time (`HH:MM`): required in start_time mode, "
        "refused in date mode.",
    )
    units: list[UnitIn] = Field(
        min_length=1,
        max_length=MAX_UNITS,
        description="Tickets by type; a type listed twice is merged.",
    )
    contact: ContactIn | None = Field(
        default=None, description="The tourist, if known already (required to confirm)."
    )
    reseller_reference: Reference | None = Field(
        default=None, description="The seller's own reference for this booking."
    )
    notes: LongText | None = Field(default=None, description="Free text for the site.")


class BookingConfirm(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "contact": {
                        "name": "Nguyễn Văn An",
                        "phone": "0912 345 678",
                        "country": "VN",
                        "locale": "vi",
                    }
                }
            ]
        }
    )

    contact: ContactIn | None = Field(
        default=None,
        description="The tourist; required unless the hold already has a contact.",
    )
    reseller_reference: Reference | None = Field(
        default=None, description="Sets the seller's reference."
    )
    notes: LongText | None = Field(default=None, description="Sets the notes.")


class BookingExtend(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"minutes": 10}]})

    minutes: Annotated[int, Field(ge=1, le=MAX_HOLD_MINUTES), NumberOnly] | None = Field(
        default=None,
        description=f"The hold then ends this many minutes from now, 1..{MAX_HOLD_MINUTES} "
        "(default: the experience's `hold_minutes`).",
    )


class BookingCancel(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Khách đổi lịch trình"}]})

    reason: ShortText | None = Field(default=None, description="Why, for the record.")


class BookingQuery(ChangesQuery):
    """The query string of `GET /v1/bookings`: filters (all combine) and the page; or, with
    `updated_since`, the change feed of the bookings the key may see, in every status (a
    booking's experience and date never change, so `product_id` and `date` may narrow it)."""

    feed_parameters: ClassVar[frozenset[str]] = frozenset({"product_id", "date"})

    product_id: uuid.UUID | None = Field(default=None, description="Only this experience's.")
    status: BookingStatus | None = Field(default=None, description="Only this status.")
    date: Day | None = Field(default=None, description="Only for this local date.")


@dataclass(frozen=True)
class BookingFilter:
    """What a reseller looks its bookings up by (OCTO's `GET /bookings`); all combine."""

    reseller_reference: str | None = None
    reference: str | None = None
    first: dt.date | None = None
    last: dt.date | None = None
    product_id: uuid.UUID | None = None


class ContactRead(BaseModel):
    name: str | None
    phone: str | None
    email: str | None
    country: str | None
    locale: str | None


class UnitRead(BaseModel):
    ticket_type_id: uuid.UUID
    ticket_type: str = Field(description="The ticket type's code.")
    name: str = Field(description="The ticket type's name when booked.")
    places: int = Field(description="Places one ticket takes.")
    quantity: int
    unit_price_vnd: int
    total_vnd: int = Field(description="quantity times unit price.")


class TicketStatus(StrEnum):
    """valid (not yet checked in), checked_in, or cancelled (its booking was)."""

    valid = "valid"
    checked_in = "checked_in"
    cancelled = "cancelled"


class TicketRead(BaseModel):
    id: uuid.UUID
    ticket_type: str = Field(description="The ticket type's code.")
    code: str = Field(description="The ticket's secret code (what the gate checks).")
    qr_payload: str = Field(description="What the ticket's QR code holds.")
    status: TicketStatus = Field(
        description="valid, checked_in, or cancelled (its booking was: no gate admits it)."
    )
    checked_in_at: Timestamp | None = Field(description="Its first accepted check-in.")


class BookingRead(BaseModel):
    """A booking as its readers (and webhooks) see it."""

    id: uuid.UUID
    reference: str = Field(description="Human-readable unique reference, e.g. LB251108-7K3F9QXA.")
    status: BookingStatus = Field(
        description="on_hold (until `expires_at`), confirmed, expired or cancelled. A hold past "
        "`expires_at` no longer holds places, even before its status says `expired`."
    )
    product_id: uuid.UUID
    date: dt.date = Field(description="The local date.")
    start_time: LocalTime | None = Field(description="The local start time (null in date mode).")
    people: int = Field(description="Places taken: each unit's quantity times its places.")
    units: list[UnitRead]
    total_vnd: int
    contact: ContactRead | None
    reseller_reference: str | None
    notes: str | None
    expires_at: Timestamp = Field(description="When the hold ends unless confirmed.")
    confirmed_at: Timestamp | None
    cancelled_at: Timestamp | None
    cancel_reason: str | None
    tickets: list[TicketRead] = Field(description="One per person, issued at confirmation.")
    created_at: Timestamp
    updated_at: Timestamp


# At the gate: tickets read by the site's staff, check-ins online and offline, the day's list.

MAX_UPLOAD = 500
"""The most check-ins one offline upload may carry."""

TICKET_CODE = r"[A-Za-z0-9_-]{1,64}"
TicketSecret = Annotated[str, StringConstraints(pattern=rf"^{TICKET_CODE}{END}")]
"""A ticket's code as a gate read it (the QR payload without its `OCOP-TICKET:` prefix)."""
TicketSecretPath = Annotated[
    str,
    # Path parameters are checked by pydantic's default (Rust) engine: `$` is end of input.
    StringConstraints(pattern=rf"^{TICKET_CODE}$"),
]
GateId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), NFC]


class CheckInCreate(InputModel):
    """A ticket scanned at a gate: now, or (`at`) earlier, by a gate that was offline."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"gate": "cổng-1"}]})

    gate: GateId | None = Field(default=None, description="The gate or device, e.g. `cổng-1`.")
    at: TimestampIn | None = Field(
        default=None,
        description="When an offline gate scanned it (RFC 3339 with offset); default now. "
        "Then the earliest check-in of the ticket wins, and the same (`at`, `gate`) sent again "
        "is answered as the first time, recording nothing.",
    )
    product_id: uuid.UUID | None = Field(
        default=None,
        description="The experience this gate admits to: a ticket of another one of the "
        "owner's experiences is then refused `not_this_site` too.",
    )


class OfflineCheckIn(InputModel):
    code: TicketSecret = Field(description="The ticket's code.")
    at: TimestampIn = Field(description="When the gate scanned it (RFC 3339 with offset).")
    gate: GateId = Field(description="The gate or device that scanned it.")


class CheckInUpload(InputModel):
    """What an offline gate scanned, uploaded once it is back online."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "check_ins": [
                        {
                            "code": "wOr6ynjZTTk2qLzonQO3fvgIvAqPN4pJ",
                            "at": "2025-11-08T09:02:11+07:00",
                            "gate": "cổng-3",
                        }
                    ]
                }
            ]
        }
    )

    check_ins: list[OfflineCheckIn] = Field(
        min_length=1,
        max_length=MAX_UPLOAD,
        description=f"1..{MAX_UPLOAD} scans, in any order.",
    )


class CheckInRead(BaseModel):
    """One check-in attempt of a ticket as recorded."""

    at: Timestamp = Field(description="When the gate scanned the ticket.")
    received_at: Timestamp = Field(description="When the server heard of it.")
    gate: str | None
    api_key_id: uuid.UUID | None = Field(description="The key that checked it in.")
    key_name: str | None = Field(description="That key's name, e.g. `Cổng chính`.")
    offline: bool = Field(description="Uploaded later by a gate that was offline.")
    outcome: CheckInOutcome = Field(
        description="accepted (the ticket's first check-in; one at most), duplicate, or the "
        "reason it was refused: not_this_site, booking_cancelled, wrong_day."
    )


class TicketBooking(BaseModel):
    id: uuid.UUID
    reference: str
    status: BookingStatus
    name: str | None = Field(description="The tourist's name.")
    people: int


class TicketDetail(BaseModel):
    """A ticket as the site's staff see it: what it admits, and every check-in attempt."""

    code: str
    qr_payload: str
    ticket_type: str = Field(description="The ticket type's code.")
    ticket_type_name: str = Field(description="The ticket type's name when booked.")
    status: TicketStatus
    product_id: uuid.UUID = Field(description="The experience it admits to.")
    date: dt.date = Field(description="The local date it is valid on.")
    start_time: LocalTime | None = Field(description="The local start time (null in date mode).")
    booking: TicketBooking
    check_in: CheckInRead | None = Field(description="Its first check-in, the one that counts.")
    check_ins: list[CheckInRead] = Field(description="Every recorded attempt, earliest scan first.")


class CheckInResult(StrEnum):
    accepted = "accepted"
    duplicate = "duplicate"
    refused = "refused"


class CheckInRefusal(StrEnum):
    """Why an uploaded check-in was refused."""

    unknown_ticket = "unknown_ticket"
    not_this_site = "not_this_site"
    booking_cancelled = "booking_cancelled"
    wrong_day = "wrong_day"
    at_in_future = "at_in_future"
    at_before_confirmation = "at_before_confirmation"


class UploadedCheckIn(BaseModel):
    """What became of one uploaded scan, in the order they were sent."""

    code: str
    at: Timestamp
    gate: str
    result: CheckInResult = Field(
        description="accepted: it is the ticket's first check-in; duplicate: the ticket was "
        "checked in earlier (`first_check_in`); refused: see `reason`."
    )
    reason: CheckInRefusal | None = Field(description="Why it was refused.")
    first_check_in: CheckInRead | None = Field(
        description="For a duplicate: the check-in that counts (when, which gate, which key)."
    )
    displaced_check_in: CheckInRead | None = Field(
        default=None,
        description="For an accepted scan earlier than the ticket's check-in recorded before "
        "it (online, or uploaded by another gate): the check-in it displaced (when, which "
        "gate, which key), which no longer counts (`outcome`: duplicate). Null otherwise.",
    )
    replay: bool = Field(
        description="This key uploaded this very scan before: nothing new was recorded."
    )


class CheckInUploadRead(BaseModel):
    """What became of an upload's scans. In the example, gate 3 scanned a ticket offline at
    09:02, before the main gate checked it in online at 09:15: the offline scan counts, and
    names the online check-in it displaced."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "code": "wOr6ynjZTTk2qLzonQO3fvgIvAqPN4pJ",
                            "at": "2025-11-08T02:02:11Z",
                            "gate": "cổng-3",
                            "result": "accepted",
                            "reason": None,
                            "first_check_in": None,
                            "displaced_check_in": {
                                "at": "2025-11-08T02:15:40Z",
                                "received_at": "2025-11-08T02:15:40Z",
                                "gate": "cổng-chính",
                                "api_key_id": "5c0e7a9b-2f14-4d3e-8b6a-9e1f0c2d3a4b",
                                "key_name": "Cổng chính",
                                "offline": False,
                                "outcome": "duplicate",
                            },
                            "replay": False,
                        }
                    ],
                    "accepted": 1,
                    "duplicate": 0,
                    "refused": 0,
                }
            ]
        }
    )

    results: list[UploadedCheckIn] = Field(description="One per scan, in the order sent.")
    accepted: int
    duplicate: int
    refused: int


class GateListQuery(BaseModel):
    """`GET /v1/experiences/{id}/gate-list`: the local date the gate works on."""

    date: Day | None = Field(default=None, description="The local date (default: today).")


class GateTicket(BaseModel):
    code_sha256: str = Field(
        description="The SHA-256 of the ticket's code (its UTF-8 bytes), in lowercase hex: the "
        "gate hashes the code it scans and looks it up."
    )
    ticket_type: str = Field(description="The ticket type's code.")
    ticket_type_name: str
    start_time: LocalTime | None
    booking_reference: str
    name: str | None = Field(description="The tourist's name, as booked.")
    checked_in_at: Timestamp | None
    checked_in_gate: str | None


class GateList(BaseModel):
    """The tickets a gate admits on one local date: those of the experience's confirmed
    bookings, checked in already or not. Its `ETag` changes whenever one of them does."""

    product_id: uuid.UUID
    date: dt.date
    tickets: list[GateTicket] = Field(description="By start time, then booking.")
