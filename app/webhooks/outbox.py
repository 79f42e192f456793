"""The outbox: events written in the transaction of the change that caused them.

A domain service calls `emit` next to its own writes; if the transaction rolls back the event
is gone too, and once it commits the worker will deliver it (nothing lost, nothing invented).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.webhook import OutboxEvent

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


async def emit(
    session: AsyncSession,
    event_type: str,
    data: Mapping[str, Any],
    *,
    owner_ids: Iterable[uuid.UUID] = (),
    partner_key_id: uuid.UUID | None = None,
) -> OutboxEvent:
    """Record an event for the webhooks of admins, of these owners and of this partner key.

    `data` must be JSON-ready (ids and timestamps as strings).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; add it to EVENT_TYPES")
    event = OutboxEvent(
        type=event_type,
        payload=dict(data),
        owner_ids=sorted({str(owner_id) for owner_id in owner_ids}),
        partner_key_id=partner_key_id,
    )
    session.add(event)
    await session.flush()
    return event
