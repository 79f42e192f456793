"""Every read model accepts what its columns may hold: a nullable column is an optional field.

Each read schema is built, by the very code the API uses, from rows whose nullable columns are
all NULL. A required field behind a nullable column would fail here, as it failed at run time
(a certificate without a score answered 500).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel
from sqlalchemy import JSON, Boolean, Date, Enum, Float, Integer, String, Text, Time, Uuid
from sqlalchemy.orm import DeclarativeBase

import app
from app.api_keys.schemas import ApiKeyRead, EventGrantRead
from app.bookings import gate
from app.bookings.repository import ScannedTicket
from app.bookings.schemas import (
    BookingRead,
    CheckInResult,
    CheckInUploadRead,
    OfflineCheckIn,
    TicketDetail,
)
from app.bookings.service import booking_read
from app.certificates.schemas import CertificateRead
from app.core.i18n import LanguagePreference
from app.core.types import Quantity, UTCDateTime
from app.events.schemas import EventProductRead, EventRead
from app.experiences import service as experiences
from app.experiences.schemas import ExperienceRead
from app.geography.schemas import CommuneRead, ProvinceRead
from app.models import (
    ApiKey,
    Booking,
    BookingUnit,
    Certificate,
    CheckIn,
    Commune,
    Event,
    EventExternalRef,
    EventGrant,
    EventProduct,
    Experience,
    ExperienceClosure,
    ExperienceSchedule,
    ExperienceTicketType,
    Order,
    OrderLine,
    OrderStatusChange,
    OutboxMessage,
    Owner,
    Product,
    Province,
    Ticket,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.orders.schemas import OrderRead, order_read
from app.owners.schemas import OwnerRead
from app.products import service as products
from app.products.schemas import ProductRead
from app.reports import service as reports
from app.reports.schemas import ExpiringCertificate
from app.webhooks import catalogue
from app.webhooks.schemas import DeliveryRead, EventTypeRead, WebhookRead

M = TypeVar("M", bound=DeclarativeBase)
NOW = datetime(2025, 11, 3, tzinfo=UTC)


def _filler(column: Any) -> Any:
    """A value for a NOT NULL column of this type."""
    kind = column.type
    if isinstance(kind, Enum):
        return next(iter(kind.enum_class))  # type: ignore[arg-type]
    for sql_type, value in (
        (Quantity, Decimal(1)),
        (UTCDateTime, NOW),
        (Uuid, uuid.uuid4()),
        (Date, date(2025, 11, 3)),
        (Time, time(9)),
        (Boolean, True),
        (JSON, {}),
        (Float, 1.0),
        (Integer, 1),
        (String, "x"),
        (Text, "x"),
    ):
        if isinstance(kind, sql_type):
            return value
    raise AssertionError(f"no filler for {column}")


def null_row(model: type[M], **given: Any) -> M:
    """A row of `model` whose nullable columns are all NULL (and the others filled in)."""
    values: dict[str, Any] = {}
    for prop in model.__mapper__.column_attrs:
        [column] = prop.columns
        values[prop.key] = None if column.nullable else _filler(column)
    values.update(given)
    return model(**values)


def owner() -> Owner:
    return null_row(Owner)


def product() -> Product:
    row = null_row(Product, translations={})
    row.owner = owner()
    return row


def certificate() -> CertificateRead:
    return CertificateRead.model_validate(null_row(Certificate))


def owner_read() -> OwnerRead:
    return OwnerRead.model_validate(owner())


def product_read() -> ProductRead:
    return products.read(product(), None, LanguagePreference.parse("en"))


def event_read() -> EventRead:
    event = null_row(Event, translations={})
    event.external_refs = [null_row(EventExternalRef)]
    return EventRead.of(
        event, now=NOW, tz="Asia/Ho_Chi_Minh", languages=LanguagePreference.parse("en")
    )


def event_product_read() -> EventProductRead:
    entry = null_row(EventProduct)
    entry.product = product()
    return EventProductRead.of(entry, languages=LanguagePreference.parse("en"))


def order() -> OrderRead:
    row = null_row(Order)
    row.lines = [null_row(OrderLine)]
    row.history = [null_row(OrderStatusChange)]
    return order_read(row)


def province_read() -> ProvinceRead:
    return ProvinceRead.model_validate(null_row(Province))


def commune_read() -> CommuneRead:
    return CommuneRead.model_validate(null_row(Commune))


def api_key_read() -> ApiKeyRead:
    return ApiKeyRead.model_validate(null_row(ApiKey))


def event_grant_read() -> EventGrantRead:
    return EventGrantRead.model_validate(null_row(EventGrant))


def event_type_read() -> EventTypeRead:
    """Not built from a row: from the catalogue, which every entry of must fit."""
    [read, *_] = [EventTypeRead.of(kind, True) for kind in catalogue.CATALOGUE.values()]
    return read


def webhook_read() -> WebhookRead:
    return WebhookRead.model_validate(null_row(WebhookEndpoint, event_types=[]))


def delivery_read() -> DeliveryRead:
    delivery = null_row(WebhookDelivery)
    delivery.message = null_row(OutboxMessage, owner_ids=[])
    delivery.attempt_log = [null_row(WebhookAttempt)]
    return DeliveryRead.of(delivery)


def expiring_certificate() -> ExpiringCertificate:
    [read] = reports._expiring(
        [(null_row(Certificate), null_row(Product, translations={}), owner())], date(2025, 11, 3)
    )
    return read


def experience_read() -> ExperienceRead:
    row = null_row(Experience)
    row.schedules = [null_row(ExperienceSchedule, start_times=["09:00"])]
    row.closures = [null_row(ExperienceClosure)]
    row.ticket_types = [null_row(ExperienceTicketType, translations={})]
    return experiences.read(row)


def booking() -> BookingRead:
    row = null_row(Booking, contact_name="Nguyễn Văn An")  # a contact of a name alone
    unit = null_row(BookingUnit)
    row.units = [unit]
    row.tickets = [null_row(Ticket, booking_unit_id=unit.id)]
    return booking_read(row)


def ticket_detail() -> TicketDetail:
    scanned = ScannedTicket(
        null_row(Ticket), null_row(Booking), null_row(BookingUnit), uuid.uuid4()
    )
    return gate._detail(scanned, [(null_row(CheckIn), None)])


def upload_read() -> CheckInUploadRead:
    scan = OfflineCheckIn(code="x", at=NOW, gate="x")
    first = gate.check_in_read((null_row(CheckIn), None))
    return gate.upload_read([scan], [gate.Verdict(CheckInResult.duplicate, first=first)])


BUILDERS: dict[type[BaseModel], Callable[[], BaseModel]] = {
    CertificateRead: certificate,
    OwnerRead: owner_read,
    ProductRead: product_read,
    EventRead: event_read,
    EventProductRead: event_product_read,
    OrderRead: order,
    ApiKeyRead: api_key_read,
    ProvinceRead: province_read,
    CommuneRead: commune_read,
    EventGrantRead: event_grant_read,
    EventTypeRead: event_type_read,
    WebhookRead: webhook_read,
    DeliveryRead: delivery_read,
    ExpiringCertificate: expiring_certificate,
    ExperienceRead: experience_read,
    BookingRead: booking,
    TicketDetail: ticket_detail,
    CheckInUploadRead: upload_read,
}


def _nested(model: type[BaseModel]) -> set[type[BaseModel]]:
    """`model` and every model its fields hold, however deep."""
    found = {model}
    for field in model.model_fields.values():
        for arg in _types(field.annotation):
            if inspect.isclass(arg) and issubclass(arg, BaseModel) and arg not in found:
                found |= _nested(arg)
    return found


def _types(annotation: Any) -> list[Any]:
    args = getattr(annotation, "__args__", ())
    return [annotation, *(t for arg in args for t in _types(arg))]


def _read_schemas() -> set[type[BaseModel]]:
    """Every `*Read` model of the app: what it answers with, built from rows."""
    found: set[type[BaseModel]] = set()
    for info in pkgutil.walk_packages(app.__path__, "app."):
        if not info.name.endswith(".schemas"):
            continue
        for _name, value in vars(importlib.import_module(info.name)).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseModel)
                and value.__module__ == info.name
                and value.__name__.endswith("Read")
            ):
                found.add(value)
    return found


def test_every_read_schema_is_built_here_from_a_row_of_nulls() -> None:
    covered = set().union(*(_nested(model) for model in BUILDERS))
    assert _read_schemas() - covered == set()


@pytest.mark.parametrize("model", list(BUILDERS), ids=lambda model: model.__name__)
def test_the_read_schema_takes_a_row_whose_nullable_columns_are_null(
    model: type[BaseModel],
) -> None:
    assert isinstance(BUILDERS[model](), model)


def test_a_certificate_without_a_score_reads_as_null() -> None:
    read = CertificateRead.model_validate(null_row(Certificate))

    assert read.model_dump(mode="json")["score"] is None
    assert read.level is None
