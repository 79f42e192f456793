"""Webhooks: endpoints partners register, the outbox of messages, and their deliveries.

A *message* is one thing that happened (`order.created`...), written to the outbox in the
transaction of the change; the worker makes one *delivery* of it to each endpoint that may hear
it, and each delivery has its *attempts*. The webhook side never says "event": in this API an
event is a festival or a fair (`event_id`), and only the type vocabulary (`event_types`, as
Standard Webhooks calls it) keeps the word.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.orm import Base, TimestampedMixin, utcnow
from app.core.types import json_document, str_enum
from app.models.api_key import Role


class EndpointStatus(StrEnum):
    active = "active"
    disabled = "disabled"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class AttemptOutcome(StrEnum):
    """What the worker made of an attempt."""

    delivered = "delivered"  # a 2xx answer
    retry = "retry"  # no 2xx; tried again later
    failed = "failed"  # no 2xx, and the delivery gave up (too many attempts)
    disabled = "disabled"  # no 2xx, and the endpoint was disabled (410, or too many failures)


class WebhookEndpoint(TimestampedMixin, Base):
    """A URL a key registered to hear about what happens. It sees what its key may see: an
    admin key everything, an owner key its owner's, a partner key its own orders'."""

    __tablename__ = "webhook_endpoints"

    api_key_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role, "webhook_endpoint_role"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("owners.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(300))
    event_types: Mapped[list[str]] = mapped_column(json_document())
    # Kept readable (not hashed): it signs every delivery. `whsec_` + base64 of 32 bytes.
    secret: Mapped[str] = mapped_column(String(100))
    # The secret before the last rotation, which also signs deliveries until its expiry so
    # that receivers can switch without rejecting anything; the worker forgets it after.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    status: Mapped[EndpointStatus] = mapped_column(
        str_enum(EndpointStatus, "webhook_endpoint_status"), default=EndpointStatus.active
    )
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    failure_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("failure_count >= 0", name="failure_count_not_negative"),
        CheckConstraint("(role = 'owner') = (owner_id IS NOT NULL)", name="owner_role_has_owner"),
        CheckConstraint(
            "(previous_secret IS NULL) = (previous_secret_expires_at IS NULL)",
            name="previous_secret_has_expiry",
        ),
    )


class OutboxMessage(Base):
    """A message, written in the transaction of the change that caused it. Its audience says
    who may hear of it besides admins: these owners, this partner key, and the partner keys
    granted this (festival) event; `app.webhooks.catalogue` says which of them hear each type.
    Its id is the `webhook-id` every delivery of it carries (`msg_` + hex)."""

    __tablename__ = "outbox_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(json_document())
    owner_ids: Mapped[list[str]] = mapped_column(json_document())
    partner_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    # The festival or fair the message is about (the API's sense of "event"), if any.
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set once the worker has made this message's deliveries (at once for a ping, which goes
    # to one endpoint only).
    dispatched_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_outbox_messages_dispatched_at_created_at", "dispatched_at", "created_at"),
    )


class WebhookDelivery(Base):
    """One message for one endpoint, tried until it is delivered or given up. A resend of a
    finished delivery is a new delivery of the same message (`resend_of` the first one), so
    the attempts of each stay as they were."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE")
    )
    resend_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None]

    message: Mapped[OutboxMessage] = relationship(lazy="raise")
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        lazy="raise", order_by="WebhookAttempt.attempted_at", passive_deletes=True
    )

    __table_args__ = (
        # One first delivery per message and endpoint (the fan-out's); resends add more.
        Index(
            "uq_webhook_deliveries_endpoint_id_message_id",
            "endpoint_id",
            "message_id",
            unique=True,
            sqlite_where=text("resend_of_id IS NULL"),
            postgresql_where=text("resend_of_id IS NULL"),
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at", "id"),
    )


class WebhookAttempt(Base):
    """One try at sending a delivery, and what came of it."""

    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[AttemptOutcome] = mapped_column(
        str_enum(AttemptOutcome, "webhook_attempt_outcome")
    )
