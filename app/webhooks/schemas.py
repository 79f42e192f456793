from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from app.core.schemas import END, InputModel, ShortText, Timestamp
from app.models.api_key import Role
from app.models.webhook import DeliveryStatus, EndpointStatus, WebhookDelivery
from app.webhooks import signing
from app.webhooks.catalogue import MessageType, Reach
from app.webhooks.outbox import EVENT_TYPES, EventType
from app.webhooks.targets import MAX_URL_LENGTH

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
    url: WebhookUrl = Field(
        description="Where to POST events: https, on a public address; no redirects followed."
    )
    event_types: EventTypes = Field(description="The event types to receive.")
    description: ShortText | None = Field(default=None, description="A note for people.")


class WebhookUpdate(InputModel):
    """Fields to change; absent fields stay as they are, null clears the description."""

    # Required fields may be left out but not cleared: null is outside their schema.
    url: WebhookUrl | SkipJsonSchema[None] = Field(default=None, description="A new target URL.")
    event_types: EventTypes | SkipJsonSchema[None] = Field(
        default=None, description="The event types to receive."
    )
    description: ShortText | None = Field(default=None, description="A note for people.")
    status: EndpointStatus | SkipJsonSchema[None] = Field(
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
    created_at: Timestamp
    updated_at: Timestamp


class WebhookWithSecret(WebhookRead):
    secret: str = Field(
        description="The signing secret (`whsec_...`). Shown in this answer only; store it."
    )


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: Timestamp
    status_code: int | None = Field(description="The receiver's status; null if none came.")
    error: str | None = Field(description="What went wrong, when no 2xx came.")
    duration_ms: int


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The delivery id; the `webhook-id` is `msg_` + its hex.")
    webhook_id: str = Field(description="The `webhook-id` header, the same on every retry.")
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: Timestamp | None
    last_status_code: int | None
    last_error: str | None
    created_at: Timestamp
    delivered_at: Timestamp | None
    attempt_log: list[AttemptRead] = Field(description="Every attempt, oldest first.")

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryRead:
        """The delivery with its event's type and every attempt (both loaded)."""
        return cls(
            id=delivery.id,
            webhook_id=signing.webhook_id(delivery.id),
            event_id=delivery.event_id,
            event_type=delivery.event.type,
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
