"""SQL for webhook endpoints, the outbox and deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import selectinload

from app.core.pagination import PageQuery, newest_first
from app.core.repository import Repository
from app.models.api_key import ApiKey, EventGrant, Role
from app.models.webhook import (
    AttemptOutcome,
    DeliveryStatus,
    EndpointStatus,
    OutboxMessage,
    WebhookAttempt,
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
        """The active endpoints whose key is not revoked: those a message may go to."""
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

    async def forget_previous_secrets(self, *, expired_by: datetime) -> None:
        """Drop the previous secrets whose overlap has ended: nothing signs with them now."""
        await self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.previous_secret_expires_at <= expired_by)
            .values(previous_secret=None, previous_secret_expires_at=None)
            .execution_options(synchronize_session=False)
        )


class OutboxRepository(Repository[OutboxMessage]):
    model = OutboxMessage
    noun = "outbox message"

    async def undispatched(self, limit: int) -> Sequence[OutboxMessage]:
        """The oldest messages not yet fanned out, locked; those another worker holds skipped."""
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.dispatched_at.is_(None))
            .order_by(OutboxMessage.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(stmt)).all()


class DeliveryRepository(Repository[WebhookDelivery]):
    model = WebhookDelivery
    noun = "delivery"

    def _of_endpoint(self, endpoint_id: uuid.UUID) -> Select[Any]:
        """The endpoint's deliveries, each with its message and attempts."""
        return (
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .options(
                selectinload(WebhookDelivery.message), selectinload(WebhookDelivery.attempt_log)
            )
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
    ) -> Sequence[tuple[WebhookDelivery, WebhookEndpoint, OutboxMessage]]:
        """Pending deliveries to active endpoints whose time has come, soonest first, locked;
        those another worker holds are skipped."""
        stmt = (
            select(WebhookDelivery, WebhookEndpoint, OutboxMessage)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(OutboxMessage, OutboxMessage.id == WebhookDelivery.message_id)
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
        return [(delivery, endpoint, message) for delivery, endpoint, message in rows]

    async def of_message(
        self, endpoint_id: uuid.UUID, message_id: uuid.UUID
    ) -> Sequence[WebhookDelivery]:
        """Every delivery of the message to the endpoint (the first and its resends), oldest
        first, fresh from the database."""
        stmt = (
            self._of_endpoint(endpoint_id)
            .where(WebhookDelivery.message_id == message_id)
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).all()

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many deliveries are still to make (pending to active endpoints, and messages
        not yet fanned out), and since when the oldest of them waits."""
        pending = (
            select(func.count(), func.min(WebhookDelivery.created_at))
            .select_from(WebhookDelivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookEndpoint.status == EndpointStatus.active,
            )
        )
        undispatched = select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.dispatched_at.is_(None)
        )
        waiting, waiting_since = (await self.session.execute(pending)).one()
        unfanned, unfanned_since = (await self.session.execute(undispatched)).one()
        oldest = [at for at in (waiting_since, unfanned_since) if at is not None]
        return int(waiting) + int(unfanned), min(oldest, default=None)

    async def count_by_status(self) -> dict[DeliveryStatus, int]:
        """How many deliveries there are in each status (every status present, 0 if none)."""
        stmt = select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        counts = dict.fromkeys(DeliveryStatus, 0)
        for status, count in (await self.session.execute(stmt)).all():
            counts[DeliveryStatus(status)] = int(count)
        return counts

    async def count_attempts_by_outcome(self) -> dict[AttemptOutcome, int]:
        """How many attempts are stored with each outcome (every outcome present)."""
        stmt = select(WebhookAttempt.outcome, func.count()).group_by(WebhookAttempt.outcome)
        counts = dict.fromkeys(AttemptOutcome, 0)
        for outcome, count in (await self.session.execute(stmt)).all():
            counts[AttemptOutcome(outcome)] = int(count)
        return counts
