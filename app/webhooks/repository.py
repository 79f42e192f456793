"""SQL for webhook endpoints, the outbox and deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.pagination import Ordering, SortKey
from app.models.webhook import (
    DeliveryStatus,
    EndpointStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)


async def backlog(session: AsyncSession) -> int:
    """Deliveries still to make (to active endpoints), and events not yet fanned out."""
    pending = (
        select(func.count())
        .select_from(WebhookDelivery)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.pending,
            WebhookEndpoint.status == EndpointStatus.active,
        )
    )
    undispatched = select(func.count()).where(OutboxEvent.dispatched_at.is_(None))
    return int(await session.scalar(pending) or 0) + int(await session.scalar(undispatched) or 0)


NEWEST_ENDPOINTS = Ordering(
    "newest",
    (
        SortKey(WebhookEndpoint.created_at, datetime, descending=True),
        SortKey(WebhookEndpoint.id, uuid.UUID, descending=True),
    ),
)
NEWEST_DELIVERIES = Ordering(
    "newest",
    (
        SortKey(WebhookDelivery.created_at, datetime, descending=True),
        SortKey(WebhookDelivery.id, uuid.UUID, descending=True),
    ),
)


async def get_endpoint(
    session: AsyncSession, endpoint_id: uuid.UUID, api_key_id: uuid.UUID, *, for_update: bool
) -> WebhookEndpoint | None:
    stmt = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.api_key_id == api_key_id
    )
    return await session.scalar(stmt.with_for_update() if for_update else stmt)


async def page_endpoints(
    session: AsyncSession, api_key_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[Sequence[WebhookEndpoint], str | None]:
    stmt: Any = select(WebhookEndpoint).where(WebhookEndpoint.api_key_id == api_key_id)
    rows = (await session.execute(NEWEST_ENDPOINTS.apply(stmt, cursor, limit))).all()
    return NEWEST_ENDPOINTS.page(rows, limit)


def _with_details(stmt: Any) -> Any:
    return stmt.options(
        selectinload(WebhookDelivery.event), selectinload(WebhookDelivery.attempt_log)
    )


async def page_deliveries(
    session: AsyncSession, endpoint_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[Sequence[WebhookDelivery], str | None]:
    stmt = _with_details(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))
    rows = (await session.execute(NEWEST_DELIVERIES.apply(stmt, cursor, limit))).all()
    return NEWEST_DELIVERIES.page(rows, limit)


async def get_delivery(
    session: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery | None:
    stmt = _with_details(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id
        )
    )
    result: WebhookDelivery | None = await session.scalar(stmt)
    return result
