"""Experience settings (the document `PUT /v1/products/{id}/experience` writes and `GET` reads)
and the availability answers."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)

from app.core.i18n import LanguageTag, translations_field
from app.core.schemas import (
    END,
    Day,
    InputModel,
    Name,
    NumberOnly,
    PriceVnd,
    ShortText,
    Timestamp,
)
from app.models.experience import MAX_CAPACITY, BookingMode

MAX_SCHEDULES = 50
MAX_CLOSURES = 500
MAX_TICKET_TYPES = 20
MAX_START_TIMES = 48
MAX_PER_BOOKING = 100
MAX_DURATION_MINUTES = 7 * 24 * 60
MAX_CUTOFF_MINUTES = 7 * 24 * 60
MAX_HOLD_MINUTES = 120
DEFAULT_HOLD_MINUTES = 15
MAX_CALENDAR_DAYS = 92
"""The longest calendar answered at once: three months."""

_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]"
CLOCK_SCHEMA: dict[str, Any] = {"type": "string", "pattern": f"^{_CLOCK}$", "example": "09:30"}


def _clock_text(value: object) -> object:
    if isinstance(value, dt.time):
        return value
    if not isinstance(value, str) or re.fullmatch(_CLOCK, value) is None:
        raise ValueError("must be a local time HH:MM (00:00..23:59)")
    return dt.time(int(value[:2]), int(value[3:]))


def clock(value: dt.time) -> str:
    """A local time as the API writes it: `HH:MM`."""
    return f"{value.hour:02d}:{value.minute:02d}"


LocalTime = Annotated[
    dt.time,
    BeforeValidator(_clock_text),
    PlainSerializer(clock, return_type=str),
    WithJsonSchema(CLOCK_SCHEMA),
]
"""A local time of day in the province's zone, `HH:MM`, in requests and answers."""


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"

    @property
    def bit(self) -> int:
        """Its bit in a schedule's `weekdays` mask (Monday 1 ... Sunday 64)."""
        return 1 << list(Weekday).index(self)


ALL_WEEKDAYS = tuple(Weekday)


def weekday_mask(days: list[Weekday]) -> int:
    mask = 0
    for day in days:
        mask |= day.bit
    return mask


def weekdays_of(mask: int) -> list[Weekday]:
    return [day for day in Weekday if mask & day.bit]


def _unique(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return values


Capacity = Annotated[int, Field(ge=1, le=MAX_CAPACITY), NumberOnly]
TicketCode = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=rf"^[a-z0-9][a-z0-9_-]*{END}")
]
"""A ticket type's code, a slug: `adult`, `child`, `senior`, `infant`."""


class ScheduleIn(InputModel):
    """One rule of the opening calendar."""

    valid_from: Day | None = Field(
        default=None, description="First local date it applies (null: since always)."
    )
    valid_to: Day | None = Field(
        default=None, description="Last local date it applies, inclusive (null: for ever)."
    )
    weekdays: Annotated[list[Weekday], AfterValidator(_unique)] = Field(
        default_factory=lambda: list(ALL_WEEKDAYS),
        min_length=1,
        max_length=7,
        description="The weekdays it applies on (default: every day).",
    )
    start_times: Annotated[list[LocalTime], AfterValidator(_unique)] = Field(
        default_factory=list,
        max_length=MAX_START_TIMES,
        description="start_time mode: the local start times (`HH:MM`); required there, "
        "refused in date mode.",
    )
    opening_from: LocalTime | None = Field(
        default=None,
        description="The opening hours' start (date mode: the cut-off counts back from it; "
        "null: midnight).",
    )
    opening_to: LocalTime | None = Field(
        default=None, description="The opening hours' end, after `opening_from` (null: midnight)."
    )
    capacity: Capacity = Field(
        description=f"People each start time (start_time mode) or each date (date mode) takes, "
        f"1..{MAX_CAPACITY}."
    )


class ClosureIn(InputModel):
    date: Day = Field(description="A local date on which it is closed, whatever the rules say.")
    reason: ShortText | None = Field(default=None, description="Why, for the tourist.")


class TicketTypeTranslation(InputModel):
    name: Name = Field(description="The ticket type's name in this language.")


class TicketTypeIn(InputModel):
    code: TicketCode = Field(description="Stable code, a slug: `adult`, `child`, `senior`...")
    name: Name = Field(description="Name in Vietnamese, e.g. `Người lớn`.")
    translations: Annotated[
        dict[LanguageTag, TicketTypeTranslation],
        translations_field('By language tag: `{"en": {"name": "Adult"}}`.'),
    ] = Field(default_factory=dict)
    price_vnd: PriceVnd = Field(description="Price of one ticket, whole VND.")
    places: Annotated[int, Field(ge=0, le=50), NumberOnly] = Field(
        default=1, description="Places one ticket takes: 1, or 0 for an infant on a lap."
    )
    min_per_booking: Annotated[int, Field(ge=0, le=MAX_PER_BOOKING), NumberOnly] = Field(
        default=0, description="Each booking holds at least this many (1: an adult is required)."
    )
    max_per_booking: Annotated[int, Field(ge=1, le=MAX_PER_BOOKING), NumberOnly] = Field(
        default=MAX_PER_BOOKING, description="Each booking holds at most this many."
    )
    active: StrictBool = Field(default=True, description="Inactive types cannot be booked.")


class ExperienceWrite(InputModel):
    """The whole booking settings of a tourism product; `PUT` creates or replaces them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "booking_mode": "start_time",
                    "duration_minutes": 60,
                    "cutoff_minutes": 30,
                    "hold_minutes": 15,
                    "schedules": [
                        {"start_times": ["08:00", "09:30", "14:00", "15:30"], "capacity": 25},
                        {
                            "valid_from": "2026-02-14",
                            "valid_to": "2026-02-22",
                            "start_times": ["08:00", "09:30"],
                            "capacity": 40,
                        },
                    ],
                    "closures": [{"date": "2026-02-16", "reason": "Lễ hội đình làng"}],
                    "ticket_types": [
                        {
                            "code": "adult",
                            "name": "Người lớn",
                            "translations": {"en": {"name": "Adult"}},
                            "price_vnd": 30000,
                            "min_per_booking": 1,
                        },
                        {"code": "child", "name": "Trẻ em", "price_vnd": 15000},
                        {"code": "infant", "name": "Em bé", "price_vnd": 0, "places": 0},
                    ],
                }
            ]
        }
    )

    booking_mode: BookingMode = Field(
        description="`date` (by local date, within opening hours) or `start_time` (by local "
        "date and start time)."
    )
    duration_minutes: Annotated[int, Field(ge=1, le=MAX_DURATION_MINUTES), NumberOnly] = Field(
        description="How long it lasts, in minutes."
    )
    cutoff_minutes: Annotated[int, Field(ge=0, le=MAX_CUTOFF_MINUTES), NumberOnly] = Field(
        default=0,
        description="No booking later than this many minutes before the start (date mode: "
        "before the day's opening).",
    )
    hold_minutes: Annotated[int, Field(ge=1, le=MAX_HOLD_MINUTES), NumberOnly] = Field(
        default=DEFAULT_HOLD_MINUTES,
        description=f"How long a hold lasts unless confirmed, 1..{MAX_HOLD_MINUTES} minutes.",
    )
    event_id: uuid.UUID | None = Field(
        default=None, description="Offered at this event: bookable only on its local dates."
    )
    schedules: list[ScheduleIn] = Field(
        min_length=1,
        max_length=MAX_SCHEDULES,
        description="The opening rules. On each date the most specific rule that applies "
        "governs: the shortest date range, then the fewest weekdays, then the first listed.",
    )
    closures: list[ClosureIn] = Field(
        default_factory=list, max_length=MAX_CLOSURES, description="Closed local dates."
    )
    ticket_types: list[TicketTypeIn] = Field(
        min_length=1,
        max_length=MAX_TICKET_TYPES,
        description="The kinds of ticket, each code once. Types booked before and left out are "
        "kept, inactive.",
    )


class ScheduleRead(BaseModel):
    valid_from: dt.date | None
    valid_to: dt.date | None
    weekdays: list[Weekday]
    start_times: list[LocalTime]
    opening_from: LocalTime | None
    opening_to: LocalTime | None
    capacity: int


class ClosureRead(BaseModel):
    date: dt.date
    reason: str | None


class TicketTypeTranslationRead(BaseModel):
    name: str


class TicketTypeRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str = Field(description="The name in Vietnamese.")
    translations: dict[str, TicketTypeTranslationRead]
    price_vnd: int
    places: int = Field(description="Places one ticket takes (0: an infant on a lap).")
    min_per_booking: int
    max_per_booking: int
    active: bool


class ExperienceRead(BaseModel):
    """A tourism product's booking settings."""

    product_id: uuid.UUID
    booking_mode: BookingMode
    duration_minutes: int
    cutoff_minutes: int
    hold_minutes: int
    event_id: uuid.UUID | None
    schedules: list[ScheduleRead]
    closures: list[ClosureRead]
    ticket_types: list[TicketTypeRead]
    created_at: Timestamp
    updated_at: Timestamp


# Availability.


class AvailabilityStatus(StrEnum):
    available = "available"
    limited = "limited"
    sold_out = "sold_out"
    closed = "closed"


class ClosedReason(StrEnum):
    closure = "closure"  # a closed date
    no_schedule = "no_schedule"  # no rule applies on that date
    outside_event = "outside_event"  # not one of the event's dates
    event_cancelled = "event_cancelled"
    unavailable = "unavailable"  # the product is archived
    past_cutoff = "past_cutoff"  # every start is past its cut-off


class CalendarQuery(BaseModel):
    """`GET /v1/experiences/{id}/availability/calendar`: the local dates asked for."""

    first: Day = Field(alias="from", description="First local date (YYYY-MM-DD).")
    last: Day = Field(
        alias="to",
        description=f"Last local date, inclusive; at most {MAX_CALENDAR_DAYS} days in all.",
    )


class DateQuery(BaseModel):
    """`GET /v1/experiences/{id}/availability`: the local date asked for."""

    date: Day = Field(description="The local date (YYYY-MM-DD).")


class StartTimeLeft(BaseModel):
    start_time: LocalTime
    places_left: int
    status: AvailabilityStatus


class CalendarDay(BaseModel):
    date: dt.date
    status: AvailabilityStatus = Field(
        description="available; limited (20% or less of its places left); sold_out; closed "
        "(closed date, no rule, outside the event, or past the cut-off)."
    )
    closed_reason: ClosedReason | None = Field(description="Why it is closed; null otherwise.")
    places_left: int = Field(description="Places left over the starts still bookable.")
    capacity: int = Field(description="Places of the starts still bookable.")
    start_times: list[StartTimeLeft] = Field(
        description="start_time mode: each start still bookable, with its places left."
    )


class Calendar(BaseModel):
    model_config = {"populate_by_name": True, "serialize_by_alias": True}

    product_id: uuid.UUID
    booking_mode: BookingMode
    first: dt.date = Field(alias="from")
    last: dt.date = Field(alias="to")
    days: list[CalendarDay]


class OpeningHours(BaseModel):
    model_config = {"populate_by_name": True, "serialize_by_alias": True}

    opens: LocalTime = Field(alias="from", description="Local opening time.")
    closes: LocalTime | None = Field(alias="to", description="Local closing time; null: midnight.")


class SlotAvailability(BaseModel):
    """One start time (start_time mode) or the date itself (date mode, `start_time` null)."""

    start_time: LocalTime | None
    starts_at: Timestamp = Field(description="The start (date mode: the opening) as an instant.")
    ends_at: Timestamp = Field(description="The end: start plus duration (date mode: the closing).")
    cutoff_at: Timestamp = Field(description="Bookable until this instant (exclusive).")
    capacity: int
    places_left: int
    status: AvailabilityStatus = Field(description="closed once past its cut-off.")


class DateAvailability(BaseModel):
    product_id: uuid.UUID
    booking_mode: BookingMode
    date: dt.date
    status: AvailabilityStatus
    closed_reason: ClosedReason | None
    opening_hours: OpeningHours | None = Field(
        description="The date's opening hours (null when closed)."
    )
    slots: list[SlotAvailability] = Field(
        description="Each start time (date mode: the date), past cut-off ones included."
    )
