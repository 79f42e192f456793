"""The outbox: messages written in the transaction of the change that caused them.

A domain service calls `emit` next to its own writes; if the transaction rolls back the message
is gone too, and once it commits the worker will deliver it (nothing lost, nothing invented).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import direct
from app.core.orm import utcnow
from app.models.webhook import OutboxMessage

EventType = Literal[
    "order.created",
    "order.confirmed",
    "order.fulfilled",
    "order.cancelled",
    "product.updated",
    "stock.low",
    "event.updated",
    "booking.created",
    "booking.confirmed",
    "booking.cancelled",
    "booking.expired",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
# Sent to one endpoint when its key asks (`POST /v1/webhooks/{id}/ping`); never subscribed to.
PING = "webhook.ping"

_messages: Any = OutboxMessage.__table__
_INSERT = direct.Prepared(insert(_messages).values(direct.bound_columns(_messages)))


async def emit(
    session: AsyncSession,
    message_type: str,
    data: Mapping[str, Any],
    *,
    owner_ids: Iterable[uuid.UUID] = (),
    partner_key_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
) -> None:
    """Record a message for the webhooks that may hear it: admins', and those of these owners,
    of this partner key and of the partner keys granted the (festival) event `event_id`, as
    far as `app.webhooks.catalogue` lets each role hear its type.

    `data` must be JSON-ready (ids and timestamps as strings).
    """
    if message_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {message_type!r}; add it to EVENT_TYPES")
    if session.new or session.dirty or session.deleted:
        await session.flush()  # what the caller wrote first: the message may refer to it
    await direct.rows(
        session,
        _INSERT,
        id=uuid.uuid4(),
        type=message_type,
        payload=dict(data),
        owner_ids=sorted({str(owner_id) for owner_id in owner_ids}),
        partner_key_id=partner_key_id,
        event_id=event_id,
        created_at=utcnow(),
        dispatched_at=None,
    )
