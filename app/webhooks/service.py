"""Webhook endpoints: each key registers, reads and changes only its own."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.core.errors import NotFound, Unprocessable
from app.core.pagination import PageQuery
from app.models.webhook import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint
from app.webhooks import catalogue, signing, targets
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


async def rotate_secret(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new signing secret; the old one stops signing at once."""
    endpoint.secret = signing.generate_secret()
    await session.flush()
    return endpoint


async def list_deliveries(
    session: AsyncSession, endpoint: WebhookEndpoint, page: PageQuery
) -> tuple[list[WebhookDelivery], str | None]:
    """The endpoint's deliveries, newest first, each with its attempts."""
    return await DeliveryRepository(session).page_of_endpoint(endpoint.id, page)


async def resend(
    session: AsyncSession, endpoint: WebhookEndpoint, delivery_id: uuid.UUID, now: datetime
) -> WebhookDelivery:
    """Queue a delivery again, now, with a fresh retry schedule and the same `webhook-id`."""
    delivery = await DeliveryRepository(session).get_of_endpoint(endpoint.id, delivery_id)
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id} for this endpoint.")
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = now
    await session.flush()
    return delivery


async def backlog(session: AsyncSession) -> int:
    """Deliveries still to make (to active endpoints), and events not yet fanned out."""
    return await DeliveryRepository(session).backlog()
