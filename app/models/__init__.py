"""Every ORM model, imported here so Alembic and the mappers see them all."""

from app.core.orm import Base
from app.models.api_key import ApiKey, EventGrant, Role
from app.models.event import Event, EventExternalRef, EventKind, EventProduct, EventStatus
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
    "Certificate",
    "CertificateLevel",
    "DeliveryStatus",
    "EndpointStatus",
    "Event",
    "EventExternalRef",
    "EventGrant",
    "EventKind",
    "EventProduct",
    "EventStatus",
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
    "Role",
    "Unit",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
