from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.core.schemas import (
    END,
    InputModel,
    NumberOnly,
    Omittable,
    QuantityOut,
    ShortText,
    Timestamp,
)
from app.models.api_key import Role
from app.models.product import Unit
from app.models.webhook import AttemptOutcome, DeliveryStatus, EndpointStatus, WebhookDelivery
from app.webhooks import signing
from app.webhooks.catalogue import MessageType, Reach
from app.webhooks.outbox import EVENT_TYPES, PING, EventType
from app.webhooks.targets import MAX_URL_LENGTH

MAX_OVERLAP_S = 7 * 24 * 3600

_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
# A host name or IPv4 address, an optional port, then any path without spaces or controls.
WebhookUrl = Annotated[
    str,
    StringConstraints(
        max_length=MAX_URL_LENGTH,
        pattern=rf"^https?://[A-Za-z0-9.-]{{1,253}}(:{_PORT})?([/?#][^\x00-\x20\x7f]*)?{END}",
    ),
]


def _unique(values: list[EventType]) -> list[EventType]:
    return list(dict.fromkeys(values))


EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, max_length=len(EVENT_TYPES)),
    AfterValidator(_unique),
]


class WebhookCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://shop.example.vn/hooks/ocop",
                    "event_types": ["order.created", "order.cancelled"],
                    "description": "Đồng bộ đơn hàng cho cửa hàng trực tuyến",
                }
            ]
        }
    )

    url: WebhookUrl = Field(
        description="Where to POST events: https, on a public address; no redirects followed."
    )
    event_types: EventTypes = Field(description="The event types to receive.")
    description: ShortText | None = Field(default=None, description="A note for people.")


class WebhookUpdate(InputModel):
    """Fields to change; absent fields stay as they are, null clears the description."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"event_types": ["order.created", "order.confirmed", "order.cancelled"]}]
        }
    )

    # Required fields may be left out but not cleared: null is outside their schema.
    url: Omittable[WebhookUrl] = Field(default=None, description="A new target URL.")
    event_types: Omittable[EventTypes] = Field(
        default=None, description="The event types to receive."
    )
    description: ShortText | None = Field(default=None, description="A note for people.")
    status: Omittable[EndpointStatus] = Field(
        default=None,
        description="`disabled` pauses deliveries; `active` re-enables the endpoint and resets "
        "its failure count.",
    )

    @model_validator(mode="after")
    def _required_stay_set(self) -> WebhookUpdate:
        for field in ("url", "event_types", "status"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str = Field(description="The target URL.")
    event_types: list[str] = Field(description="The event types it receives.")
    description: str | None
    status: EndpointStatus = Field(description="`disabled` after a 410 or too many failures.")
    disabled_reason: str | None = Field(description="Why it was disabled.")
    failure_count: int = Field(description="Failed attempts since the last success.")
    previous_secret_expires_at: Timestamp | None = Field(
        description="After `rotate-secret`: until when deliveries are also signed with the "
        "secret it replaced (two signatures in `webhook-signature`); null when no previous "
        "secret signs."
    )
    created_at: Timestamp
    updated_at: Timestamp


class WebhookWithSecret(WebhookRead):
    secret: str = Field(
        description="The signing secret (`whsec_...`). Shown in this answer only; store it."
    )


OverlapSeconds = Annotated[int, Field(ge=0, le=MAX_OVERLAP_S), NumberOnly]


class SecretRotation(InputModel):
    """How long the replaced secret goes on signing; the body may be left out."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"overlap_seconds": 3600}]})

    overlap_seconds: Omittable[OverlapSeconds] = Field(
        default=None,
        description="Seconds during which deliveries carry a signature under the old secret "
        "too; 0 stops it at once. Default: the server's `OCOP_WEBHOOKS_SECRET_OVERLAP_S` "
        "(24 hours).",
    )


class WebhookMessage(BaseModel):
    """The JSON body of every webhook request (Standard Webhooks), signed as the
    `webhook-id`, `webhook-timestamp` and `webhook-signature` headers say."""

    type: str = Field(
        description="What happened: one of the event types an endpoint subscribes to (e.g. "
        f"`order.created`), or `{PING}` for a test asked with `POST /v1/webhooks/{{id}}/ping`.",
        examples=["order.created"],
    )
    timestamp: Timestamp = Field(description="When it happened.")
    data: dict[str, Any] = Field(
        description="The resource as the API reads it (an order, a product, an event...); "
        f"for `{PING}`, `endpoint_id`."
    )


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: Timestamp
    status_code: int | None = Field(description="The receiver's status; null if none came.")
    error: str | None = Field(description="What went wrong, when no 2xx came.")
    duration_ms: int
    outcome: AttemptOutcome = Field(
        description="What followed: `delivered`, `retry` (tried again later), `failed` (given "
        "up) or `disabled` (the endpoint was disabled)."
    )


class DeliveryRead(BaseModel):
    """One message sent to one endpoint, with every attempt at it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The delivery.")
    endpoint_id: uuid.UUID = Field(description="The webhook endpoint it goes to.")
    message_id: str = Field(
        description="The message's `webhook-id` header (`msg_...`): the same on every retry and "
        "resend of it, and to every endpoint that hears it; receivers drop repeats by it."
    )
    type: str = Field(description="The message's type, e.g. `order.created`.")
    resend_of: uuid.UUID | None = Field(
        description="The first delivery of this message to this endpoint, if this one is a "
        "resend of it; null otherwise."
    )
    status: DeliveryStatus
    attempts: int = Field(description="Attempts made by this delivery.")
    next_attempt_at: Timestamp | None
    last_status_code: int | None
    last_error: str | None
    created_at: Timestamp
    delivered_at: Timestamp | None
    attempt_log: list[AttemptRead] = Field(description="Every attempt, oldest first.")

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryRead:
        """The delivery with its message's type and every attempt (both loaded)."""
        return cls(
            id=delivery.id,
            endpoint_id=delivery.endpoint_id,
            message_id=signing.message_id(delivery.message_id),
            type=delivery.message.type,
            resend_of=delivery.resend_of_id,
            status=delivery.status,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
            attempt_log=[AttemptRead.model_validate(a) for a in delivery.attempt_log],
        )


class HearerRead(BaseModel):
    role: Role = Field(description="A role whose keys hear the type.")
    reach: Reach = Field(
        description="Which of them: `every` key of the role; the keys a message `named` (an "
        "order's placing partner key, the owners concerned); the partner keys `granted` the "
        "event a message is about."
    )
    who: str = Field(description="The same, for people.")


class EventTypeRead(BaseModel):
    type: EventType = Field(description="The type, as in a webhook's `event_types`.")
    description: str
    payload_schema: str = Field(description="The name of the schema of a message's `data`.")
    audience: list[HearerRead] = Field(description="Who can hear it, by role.")
    subscribable: bool = Field(
        description="Whether the calling key may subscribe to it now (a partner key hears "
        "`granted` types once an admin grants it an event)."
    )

    @classmethod
    def of(cls, kind: MessageType, subscribable: bool) -> EventTypeRead:
        return cls(
            type=kind.type,
            description=kind.description,
            payload_schema=kind.payload,
            audience=[HearerRead(role=h.role, reach=h.reach, who=h.who) for h in kind.hearers],
            subscribable=subscribable,
        )


class EventTypeCatalogue(BaseModel):
    """Every webhook message type: what it says, the schema of its `data`, who can hear it."""

    items: list[EventTypeRead]


class PingData(BaseModel):
    """`webhook.ping`: a test its endpoint's key asked for (`POST /v1/webhooks/{id}/ping`)."""

    endpoint_id: uuid.UUID = Field(description="The endpoint pinged.")


class StockLowData(BaseModel):
    """`stock.low`: an order took a product's stock down to the low-stock threshold."""

    product_id: uuid.UUID = Field(description="The product.")
    name: str = Field(description="The product's name, in Vietnamese.")
    unit: Unit = Field(description="The unit `stock` and `threshold` count in.")
    stock: QuantityOut = Field(description="What is left in stock.")
    threshold: QuantityOut = Field(
        description="The threshold it reached (`OCOP_LOW_STOCK_THRESHOLD`)."
    )
