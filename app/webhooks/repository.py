"""SQL for webhook endpoints, the outbox and deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.core.pagination import PageQuery, newest_first
from app.core.repository import Repository
from app.models.api_key import ApiKey, EventGrant, Role
from app.models.webhook import (
    DeliveryStatus,
    EndpointStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)

NEWEST_ENDPOINTS = newest_first(WebhookEndpoint.created_at, WebhookEndpoint.id)
NEWEST_DELIVERIES = newest_first(WebhookDelivery.created_at, WebhookDelivery.id)


class EndpointRepository(Repository[WebhookEndpoint]):
    model = WebhookEndpoint
    noun = "webhook endpoint"

    def _of_key(self, api_key_id: uuid.UUID) -> Select[Any]:
        return select(WebhookEndpoint).where(WebhookEndpoint.api_key_id == api_key_id)

    async def get_of_key(
        self, endpoint_id: uuid.UUID, api_key_id: uuid.UUID, *, for_update: bool = False
    ) -> WebhookEndpoint | None:
        """The endpoint if it is this key's; `for_update` locks it."""
        stmt = self._of_key(api_key_id).where(WebhookEndpoint.id == endpoint_id)
        endpoint: WebhookEndpoint | None = await self.session.scalar(
            stmt.with_for_update() if for_update else stmt
        )
        return endpoint

    async def page_of_key(
        self, api_key_id: uuid.UUID, page: PageQuery
    ) -> tuple[list[WebhookEndpoint], str | None]:
        """The key's endpoints, newest first."""
        return await self.page(self._of_key(api_key_id), NEWEST_ENDPOINTS, page)

    async def listening(self) -> Sequence[WebhookEndpoint]:
        """The active endpoints whose key is not revoked: those an event may go to."""
        stmt = (
            select(WebhookEndpoint)
            .join(ApiKey, ApiKey.id == WebhookEndpoint.api_key_id)
            .where(WebhookEndpoint.status == EndpointStatus.active, ApiKey.revoked_at.is_(None))
        )
        return (await self.session.scalars(stmt)).all()

    async def grants_of(
        self, endpoints: Sequence[WebhookEndpoint]
    ) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
        """The events granted to the partner keys of these endpoints, by key."""
        key_ids = {e.api_key_id for e in endpoints if e.role is Role.partner}
        if not key_ids:
            return {}
        stmt = select(EventGrant.api_key_id, EventGrant.event_id).where(
            EventGrant.api_key_id.in_(key_ids)
        )
        granted: dict[uuid.UUID, set[uuid.UUID]] = {}
        for key_id, event_id in await self.session.execute(stmt):
            granted.setdefault(key_id, set()).add(event_id)
        return {key_id: frozenset(events) for key_id, events in granted.items()}


class OutboxRepository(Repository[OutboxEvent]):
    model = OutboxEvent
    noun = "outbox event"

    async def undispatched(self, limit: int) -> Sequence[OutboxEvent]:
        """The oldest events not yet fanned out, locked; those another worker holds skipped."""
        stmt = (
            select(OutboxEvent)
            .where(OutboxEvent.dispatched_at.is_(None))
            .order_by(OutboxEvent.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(stmt)).all()


class DeliveryRepository(Repository[WebhookDelivery]):
    model = WebhookDelivery
    noun = "delivery"

    def _of_endpoint(self, endpoint_id: uuid.UUID) -> Select[Any]:
        """The endpoint's deliveries, each with its event and attempts."""
        return (
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .options(selectinload(WebhookDelivery.event), selectinload(WebhookDelivery.attempt_log))
        )

    async def page_of_endpoint(
        self, endpoint_id: uuid.UUID, page: PageQuery
    ) -> tuple[list[WebhookDelivery], str | None]:
        return await self.page(self._of_endpoint(endpoint_id), NEWEST_DELIVERIES, page)

    async def get_of_endpoint(
        self, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> WebhookDelivery | None:
        stmt = self._of_endpoint(endpoint_id).where(WebhookDelivery.id == delivery_id)
        delivery: WebhookDelivery | None = await self.session.scalar(stmt)
        return delivery

    async def due(
        self, now: datetime, limit: int
    ) -> Sequence[tuple[WebhookDelivery, WebhookEndpoint, OutboxEvent]]:
        """Pending deliveries to active endpoints whose time has come, soonest first, locked;
        those another worker holds are skipped."""
        stmt = (
            select(WebhookDelivery, WebhookEndpoint, OutboxEvent)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
            .where(
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.status == EndpointStatus.active,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
        rows = (await self.session.execute(stmt)).all()
        return [(delivery, endpoint, event) for delivery, endpoint, event in rows]

    async def backlog(self) -> int:
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
        return int(await self.session.scalar(pending) or 0) + int(
            await self.session.scalar(undispatched) or 0
        )
