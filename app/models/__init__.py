"""Every ORM model, imported here so Alembic and the mappers see them all."""

from app.core.orm import Base
from app.models.api_key import ApiKey, EventGrant, Role
from app.models.booking import (
    Booking,
    BookingStatus,
    BookingUnit,
    CheckIn,
    CheckInOutcome,
    Ticket,
)
from app.models.event import Event, EventExternalRef, EventKind, EventProduct, EventStatus
from app.models.experience import (
    BookingMode,
    Experience,
    ExperienceClosure,
    ExperienceSchedule,
    ExperienceSlot,
    ExperienceTicketType,
)
from app.models.geography import Commune, CommuneKind, Province, ProvinceKind
from app.models.idempotency import IdempotencyRecord, IdempotencyStatus
from app.models.order import (
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
)
from app.models.owner import Owner, OwnerKind, OwnerStatus
from app.models.product import (
    Certificate,
    CertificateLevel,
    Product,
    ProductExternalRef,
    ProductGroup,
    ProductStatus,
    Unit,
)
from app.models.sales import EventSales
from app.models.webhook import (
    AttemptOutcome,
    DeliveryStatus,
    EndpointStatus,
    OutboxMessage,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

__all__ = [
    "ApiKey",
    "AttemptOutcome",
    "Base",
    "Booking",
    "BookingMode",
    "BookingStatus",
    "BookingUnit",
    "Certificate",
    "CertificateLevel",
    "CheckIn",
    "CheckInOutcome",
    "Commune",
    "CommuneKind",
    "DeliveryStatus",
    "EndpointStatus",
    "Event",
    "EventExternalRef",
    "EventGrant",
    "EventKind",
    "EventProduct",
    "EventSales",
    "EventStatus",
    "Experience",
    "ExperienceClosure",
    "ExperienceSchedule",
    "ExperienceSlot",
    "ExperienceTicketType",
    "IdempotencyRecord",
    "IdempotencyStatus",
    "Order",
    "OrderChannel",
    "OrderLine",
    "OrderStatus",
    "OrderStatusChange",
    "OutboxMessage",
    "Owner",
    "OwnerKind",
    "OwnerStatus",
    "Product",
    "ProductExternalRef",
    "ProductGroup",
    "ProductStatus",
    "Province",
    "ProvinceKind",
    "Role",
    "Ticket",
    "Unit",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
