from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.i18n import LanguageTag
from app.core.pagination import PageQuery
from app.core.schemas import (
    END,
    NO_NUL,
    Day,
    Email,
    InputModel,
    LongText,
    Name,
    NumberOnly,
    Phone,
    ShortText,
    Timestamp,
)
from app.experiences.schemas import MAX_HOLD_MINUTES, MAX_PER_BOOKING, LocalTime, TicketCode
from app.models.booking import BookingStatus

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


class BookingQuery(PageQuery):
    """`GET /v1/bookings`: filters (all combine) and the page."""

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


class TicketRead(BaseModel):
    id: uuid.UUID
    ticket_type: str = Field(description="The ticket type's code.")
    code: str = Field(description="The ticket's secret code (what the gate checks).")
    qr_payload: str = Field(description="What the ticket's QR code holds.")
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
