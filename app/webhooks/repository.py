"""SQL for webhook endpoints, the outbox and deliveries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.webhook import DeliveryStatus, OutboxEvent, WebhookDelivery


async def backlog(session: AsyncSession) -> int:
    """Deliveries still to make, counting events not yet fanned out to their endpoints."""
    pending = select(func.count()).where(WebhookDelivery.status == DeliveryStatus.pending)
    undispatched = select(func.count()).where(OutboxEvent.dispatched_at.is_(None))
    return int(await session.scalar(pending) or 0) + int(await session.scalar(undispatched) or 0)
