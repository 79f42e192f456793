"""Webhook endpoints: each key registers, reads and changes only its own."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.metrics import WebhookFigures
from app.core.pagination import PageQuery
from app.models.webhook import (
    DeliveryStatus,
    EndpointStatus,
    OutboxMessage,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.webhooks import catalogue, signing, targets
from app.webhooks.outbox import PING
from app.webhooks.repository import DeliveryRepository, EndpointRepository
from app.webhooks.schemas import WebhookCreate, WebhookUpdate


async def _check_target(url: str, allow_private: bool) -> None:
    try:
        await targets.check(url, allow_private=allow_private)
    except targets.UnsafeTarget as exc:
        raise Unprocessable(f"Refused webhook URL: {exc}.", code="unsafe_webhook_url") from None


def _check_audible(principal: Principal, event_types: list[str]) -> None:
    """Refuse the types the key cannot hear, rather than accept a subscription that would
    never deliver anything."""
    unheard = catalogue.unheard(principal, event_types)
    if unheard:
        raise Unprocessable(
            f"A {principal.role} key cannot hear: {', '.join(unheard)} (who hears what: "
            "GET /v1/webhooks/event-types; a partner key hears an event's changes once an "
            "admin grants it the event).",
            code="inaudible_event_types",
            event_types=unheard,
            errors=[
                {
                    "loc": ["body", "event_types", event_types.index(t)],
                    "msg": f"a {principal.role} key cannot hear {t}",
                    "type": "inaudible_event_type",
                }
                for t in unheard
            ],
        )


def event_types(principal: Principal) -> list[tuple[catalogue.MessageType, bool]]:
    """Every message type, and whether the key may subscribe to it."""
    return [(kind, catalogue.can_hear(principal, t)) for t, kind in catalogue.CATALOGUE.items()]


async def create(
    session: AsyncSession, principal: Principal, body: WebhookCreate, *, allow_private: bool
) -> WebhookEndpoint:
    """Register an endpoint for the calling key, with a new signing secret."""
    _check_audible(principal, list(body.event_types))
    await _check_target(body.url, allow_private)
    endpoint = WebhookEndpoint(
        api_key_id=principal.key_id,
        role=principal.role,
        owner_id=principal.owner_id,
        url=body.url,
        event_types=list(body.event_types),
        description=body.description,
        secret=signing.generate_secret(),
        failure_count=0,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def get(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint:
    """One of the key's own endpoints; 404 for anyone else's (their existence does not leak)."""
    endpoint = await EndpointRepository(session).get_of_key(
        endpoint_id, principal.key_id, for_update=for_update
    )
    if endpoint is None:
        raise EndpointRepository.not_found(endpoint_id)
    return endpoint


async def list_endpoints(
    session: AsyncSession, principal: Principal, page: PageQuery
) -> tuple[list[WebhookEndpoint], str | None]:
    """The key's own endpoints, newest first."""
    return await EndpointRepository(session).page_of_key(principal.key_id, page)


async def update(
    session: AsyncSession,
    principal: Principal,
    endpoint: WebhookEndpoint,
    body: WebhookUpdate,
    *,
    allow_private: bool,
) -> WebhookEndpoint:
    changes = body.model_dump(exclude_unset=True)
    if "event_types" in changes:
        _check_audible(principal, list(changes["event_types"]))
    if "url" in changes:
        await _check_target(changes["url"], allow_private)
    if changes.get("status") is EndpointStatus.active:
        endpoint.failure_count = 0
        endpoint.disabled_reason = None
    elif changes.get("status") is EndpointStatus.disabled:
        endpoint.disabled_reason = "disabled by its key"
    for field, value in changes.items():
        setattr(endpoint, field, list(value) if field == "event_types" else value)
    await session.flush()
    return endpoint


async def delete(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, endpoint: WebhookEndpoint, now: datetime, overlap: timedelta
) -> WebhookEndpoint:
    """A new signing secret. The one it replaces goes on signing beside it for `overlap`
    (every delivery then carries both signatures), so a receiver can switch without refusing
    anything; a secret from an earlier rotation stops at once, as does the old one if
    `overlap` is zero."""
    if overlap > timedelta(0):
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + overlap
    else:
        endpoint.previous_secret = None
        endpoint.previous_secret_expires_at = None
    endpoint.secret = signing.generate_secret()
    await session.flush()
    return endpoint


def _check_active(endpoint: WebhookEndpoint) -> None:
    if endpoint.status is not EndpointStatus.active:
        raise Conflict(
            "The webhook endpoint is disabled: nothing is sent to it. Enable it first "
            '(PATCH {"status": "active"}).',
            code="webhook_disabled",
        )


async def ping(session: AsyncSession, endpoint: WebhookEndpoint, now: datetime) -> WebhookDelivery:
    """Queue a `webhook.ping` message to this endpoint alone: a delivery due now, which the
    worker signs and sends like any other."""
    _check_active(endpoint)
    message = OutboxMessage(
        type=PING,
        payload={"endpoint_id": str(endpoint.id)},
        owner_ids=[],
        partner_key_id=None,
        created_at=now,
        dispatched_at=now,  # fanned out here, to this endpoint only
    )
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        message=message,
        status=DeliveryStatus.pending,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        attempt_log=[],
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def list_deliveries(
    session: AsyncSession, endpoint: WebhookEndpoint, page: PageQuery
) -> tuple[list[WebhookDelivery], str | None]:
    """The endpoint's deliveries, newest first, each with its attempts."""
    return await DeliveryRepository(session).page_of_endpoint(endpoint.id, page)


async def resend(
    session: AsyncSession, endpoint: WebhookEndpoint, delivery_id: uuid.UUID, now: datetime
) -> WebhookDelivery:
    """Send a delivery's message again, now, with the same `webhook-id`; every attempt made so
    far stays as it was.

    If a delivery of that message to this endpoint is still pending, it is made due now.
    Otherwise a new delivery of it (`resend_of` the first), with a retry schedule of its own.
    """
    deliveries = DeliveryRepository(session)
    delivery = await deliveries.get_of_endpoint(endpoint.id, delivery_id)
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id} for this endpoint.")
    _check_active(endpoint)
    first_id = delivery.resend_of_id or delivery.id
    # Every resend of the message locks its first delivery, then reads them all afresh: of
    # two resends at once, the second sees the first's new delivery and does not add another.
    await deliveries.get_for_update(first_id)
    family = await deliveries.of_message(endpoint.id, delivery.message_id)
    pending = next((d for d in family if d.status is DeliveryStatus.pending), None)
    if pending is not None:
        pending.next_attempt_at = now
        await session.flush()
        return pending
    again = WebhookDelivery(
        endpoint_id=endpoint.id,
        message=delivery.message,
        resend_of_id=first_id,
        status=DeliveryStatus.pending,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        attempt_log=[],
    )
    session.add(again)
    await session.flush()
    return again


async def figures(session: AsyncSession, now: datetime) -> WebhookFigures:
    """The delivery figures `/metrics` shows, read from the database: the same whichever
    process asks, and whichever worker made the deliveries."""
    deliveries = DeliveryRepository(session)
    backlog, waiting_since = await deliveries.backlog()
    return WebhookFigures(
        deliveries={status.value: n for status, n in (await deliveries.count_by_status()).items()},
        attempts={
            outcome.value: n
            for outcome, n in (await deliveries.count_attempts_by_outcome()).items()
        },
        backlog=backlog,
        oldest_waiting_s=max((now - waiting_since).total_seconds(), 0.0)
        if waiting_since is not None
        else 0.0,
    )
