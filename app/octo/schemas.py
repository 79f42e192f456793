"""OCTO's objects, as its specification names them: camelCase in JSON, its enums in capitals.

Requests ignore the fields they do not know (an OCTO client may send those of capabilities this
surface does not support, such as `currency`); an empty string counts as absent. Answers carry
every field the core specification requires, `null` where it allows.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from app.bookings.schemas import Country, Reference
from app.core.i18n import LanguageTag
from app.core.schemas import Day, Email, LongText, Name, NumberOnly, Phone, ShortText, Timestamp
from app.experiences.schemas import MAX_PER_BOOKING, MAX_TICKET_TYPES

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=100)]
"""An id a client sends (a product's, an option's, a unit's, an availability's): refused as
OCTO's INVALID_..._ID when it names nothing, so only its length is checked here."""

MAX_UNIT_ITEMS = MAX_PER_BOOKING * MAX_TICKET_TYPES
MAX_AVAILABILITY_IDS = 100


class AvailabilityType(StrEnum):
    START_TIME = "START_TIME"
    OPENING_HOURS = "OPENING_HOURS"


class AvailabilityStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    FREESALE = "FREESALE"
    SOLD_OUT = "SOLD_OUT"
    LIMITED = "LIMITED"
    CLOSED = "CLOSED"


class BookingStatus(StrEnum):
    ON_HOLD = "ON_HOLD"
    CONFIRMED = "CONFIRMED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    REDEEMED = "REDEEMED"


class UnitType(StrEnum):
    ADULT = "ADULT"
    YOUTH = "YOUTH"
    CHILD = "CHILD"
    INFANT = "INFANT"
    FAMILY = "FAMILY"
    SENIOR = "SENIOR"
    STUDENT = "STUDENT"
    MILITARY = "MILITARY"
    OTHER = "OTHER"


class OctoOut(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True
    )


class OctoIn(BaseModel):
    """An OCTO request body: camelCase, unknown fields ignored, "" taken as absent."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", regex_engine="python-re")

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: item for key, item in value.items() if item != ""}
        return value


# Requests.


class UnitQuantity(OctoIn):
    id: Identifier = Field(description="A unit's id (a ticket type's code).")
    quantity: Annotated[int, Field(ge=1, le=MAX_PER_BOOKING), NumberOnly]


class CalendarIn(OctoIn):
    product_id: Identifier
    option_id: Identifier
    local_date_start: Day
    local_date_end: Day
    units: list[UnitQuantity] | None = Field(default=None, max_length=MAX_TICKET_TYPES)


class CheckIn(OctoIn):
    """One of: `localDate`; `localDateStart` and `localDateEnd`; `availabilityIds`."""

    product_id: Identifier
    option_id: Identifier
    local_date: Day | None = None
    local_date_start: Day | None = None
    local_date_end: Day | None = None
    availability_ids: list[Identifier] | None = Field(
        default=None, min_length=1, max_length=MAX_AVAILABILITY_IDS
    )
    units: list[UnitQuantity] | None = Field(default=None, max_length=MAX_TICKET_TYPES)

    def date_range(self) -> tuple[date, date]:
        """The first and last dates asked for (when not asked by availability ids)."""
        if self.local_date_start is not None and self.local_date_end is not None:
            return self.local_date_start, self.local_date_end
        if self.local_date is None:
            raise ValueError("asked by availability ids")
        return self.local_date, self.local_date

    @model_validator(mode="after")
    def _one_way_to_ask(self) -> CheckIn:
        ranged = self.local_date_start is not None, self.local_date_end is not None
        if any(ranged) and not all(ranged):
            raise ValueError("localDateStart and localDateEnd go together")
        if self.local_date is None and not all(ranged) and self.availability_ids is None:
            raise ValueError("give localDate, localDateStart and localDateEnd, or availabilityIds")
        return self


class ContactIn(OctoIn):
    full_name: Name | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    email_address: Email | None = None
    phone_number: Phone | None = None
    locales: list[LanguageTag] = Field(default_factory=list, max_length=20)
    postal_code: ShortText | None = None
    country: Country | None = None
    notes: LongText | None = None

    @model_validator(mode="before")
    @classmethod
    def _country_in_capitals(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("country"), str):
            return {**value, "country": value["country"].upper()}
        return value

    @property
    def name(self) -> str | None:
        """The full name, or the first and last names together."""
        if self.full_name:
            return self.full_name
        return " ".join(part for part in (self.first_name, self.last_name) if part) or None


class UnitItemIn(OctoIn):
    unit_id: Identifier
    uuid: UUID | None = None
    reseller_reference: Reference | None = None


class ReserveIn(OctoIn):
    uuid: UUID | None = Field(
        default=None, description="The reseller's id for the booking: its idempotency key."
    )
    product_id: Identifier
    option_id: Identifier
    availability_id: Identifier | None = None
    expiration_minutes: Annotated[int, Field(ge=1), NumberOnly] | None = None
    notes: LongText | None = None
    unit_items: list[UnitItemIn] = Field(min_length=1, max_length=MAX_UNIT_ITEMS)
    reseller_reference: Reference | None = None
    contact: ContactIn | None = None


class ConfirmIn(OctoIn):
    contact: ContactIn
    reseller_reference: Reference | None = None
    unit_items: list[UnitItemIn] | None = Field(default=None, max_length=MAX_UNIT_ITEMS)
    email_receipt: StrictBool | None = None


class ExtendIn(OctoIn):
    expiration_minutes: Annotated[int, Field(ge=1), NumberOnly] | None = None


class CancelIn(OctoIn):
    reason: ShortText | None = None
    force: StrictBool | None = None


# Answers.


class SupplierContact(OctoOut):
    website: str | None
    email: str | None
    telephone: str | None
    address: str | None


class Supplier(OctoOut):
    id: str
    name: str
    endpoint: str
    contact: SupplierContact


class UnitRestrictions(OctoOut):
    min_age: int
    max_age: int
    id_required: bool
    min_quantity: int | None
    max_quantity: int | None
    pax_count: int
    accompanied_by: list[str]


class Unit(OctoOut):
    id: str
    internal_name: str
    reference: str | None
    type: UnitType
    restrictions: UnitRestrictions
    required_contact_fields: list[str]


class OptionRestrictions(OctoOut):
    min_units: int | None
    max_units: int | None


class Option(OctoOut):
    id: str
    default: bool
    internal_name: str
    reference: str | None
    availability_local_start_times: list[str]
    cancellation_cutoff: str
    cancellation_cutoff_amount: int
    cancellation_cutoff_unit: str
    required_contact_fields: list[str]
    restrictions: OptionRestrictions
    units: list[Unit]


class Product(OctoOut):
    id: str
    internal_name: str
    reference: str | None
    locale: str
    time_zone: str
    allow_freesale: bool
    instant_confirmation: bool
    instant_delivery: bool
    availability_required: bool
    availability_type: AvailabilityType
    delivery_formats: list[str]
    delivery_methods: list[str]
    redemption_method: str
    options: list[Option]


class OpeningHours(OctoOut):
    opens: str = Field(alias="from")
    closes: str = Field(alias="to")


class CalendarDay(OctoOut):
    local_date: str
    available: bool
    status: AvailabilityStatus
    vacancies: int | None
    capacity: int | None
    opening_hours: list[OpeningHours]


class Availability(OctoOut):
    id: str
    local_date_time_start: str
    local_date_time_end: str
    utc_cutoff_at: Timestamp
    all_day: bool
    available: bool
    status: AvailabilityStatus
    vacancies: int | None
    capacity: int | None
    max_units: int | None
    opening_hours: list[OpeningHours]


class Contact(OctoOut):
    full_name: str | None
    first_name: str | None
    last_name: str | None
    email_address: str | None
    phone_number: str | None
    locales: list[str]
    postal_code: str | None
    country: str | None
    notes: str | None


class DeliveryOption(OctoOut):
    delivery_format: str
    delivery_value: str


class Ticket(OctoOut):
    redemption_method: str
    utc_redeemed_at: Timestamp | None
    delivery_options: list[DeliveryOption]


class UnitItem(OctoOut):
    uuid: str
    reseller_reference: str | None
    supplier_reference: str | None
    unit_id: str
    status: BookingStatus
    utc_redeemed_at: Timestamp | None
    contact: Contact
    ticket: Ticket | None


class Cancellation(OctoOut):
    refund: str
    reason: str | None
    utc_cancelled_at: Timestamp


class Booking(OctoOut):
    id: str
    uuid: str
    test_mode: bool
    reseller_reference: str | None
    supplier_reference: str | None
    status: BookingStatus
    utc_created_at: Timestamp
    utc_updated_at: Timestamp
    utc_expires_at: Timestamp | None
    utc_redeemed_at: Timestamp | None
    utc_confirmed_at: Timestamp | None
    product_id: str
    option_id: str
    cancellable: bool
    cancellation: Cancellation | None
    freesale: bool
    availability_id: str | None
    availability: Availability | None
    contact: Contact
    notes: str | None
    delivery_methods: list[str]
    voucher: Ticket | None
    unit_items: list[UnitItem]


class Capability(OctoOut):
    id: str
    revision: int
    required: bool
    dependencies: list[str]
    docs: str | None
