"""Webhooks: endpoints partners register, the outbox of events, and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
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


class WebhookEndpoint(TimestampedMixin, Base):
    """A URL a key registered to hear about events. It sees what its key may see: an admin
    key everything, an owner key its owner's, a partner key its own orders'."""

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
    status: Mapped[EndpointStatus] = mapped_column(
        str_enum(EndpointStatus, "webhook_endpoint_status"), default=EndpointStatus.active
    )
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    failure_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("failure_count >= 0", name="failure_count_not_negative"),
        CheckConstraint("(role = 'owner') = (owner_id IS NOT NULL)", name="owner_role_has_owner"),
    )


class OutboxEvent(Base):
    """An event, written in the transaction of the change that caused it. Its audience says
    who may hear of it besides admins: these owners, this partner key, and the partner keys
    granted this (festival) event; `app.webhooks.catalogue` says which of them hear each type."""

    __tablename__ = "outbox_events"

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
    # Set once the worker has made this event's deliveries.
    dispatched_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_outbox_events_dispatched_at_created_at", "dispatched_at", "created_at"),
    )


class WebhookDelivery(Base):
    """One event for one endpoint. Its id is the `webhook-id` the receiver sees, the same on
    every retry."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
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

    event: Mapped[OutboxEvent] = relationship(lazy="raise")
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        lazy="raise", order_by="WebhookAttempt.attempted_at", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
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
