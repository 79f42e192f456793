from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from app.api_keys.auth import AnyPrincipal
from app.core.clock import ClockDep
from app.core.db import SessionDep
from app.core.http import check_if_match, conditional_json
from app.core.openapi import responses
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.models.webhook import WebhookDelivery
from app.webhooks import service
from app.webhooks.schemas import (
    AttemptRead,
    DeliveryRead,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=responses(401, 403))


def _allow_private(request: Request) -> bool:
    allowed: bool = request.app.state.settings.webhooks_allow_private
    return allowed


def _delivery(delivery: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        webhook_id=f"msg_{delivery.id.hex}",
        event_id=delivery.event_id,
        event_type=delivery.event.type,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        attempt_log=[AttemptRead.model_validate(a) for a in delivery.attempt_log],
    )


@router.post("", response_model=WebhookWithSecret, status_code=status.HTTP_201_CREATED)
async def create_webhook(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: AnyPrincipal,
    body: WebhookCreate,
) -> WebhookWithSecret:
    """Register a webhook endpoint; its signing secret is in this answer only."""
    endpoint = await service.create(session, principal, body, allow_private=_allow_private(request))
    response.headers["Location"] = f"/v1/webhooks/{endpoint.id}"
    return WebhookWithSecret.model_validate(endpoint)


@router.get("", response_model=Page[WebhookRead])
async def list_webhooks(
    session: SessionDep, principal: AnyPrincipal, cursor: CursorQuery = None, limit: LimitQuery = 20
) -> Page[WebhookRead]:
    """List this key's webhook endpoints, newest first."""
    endpoints, next_cursor = await service.list_endpoints(session, principal, cursor, limit)
    return Page[WebhookRead](
        items=[WebhookRead.model_validate(e) for e in endpoints], next_cursor=next_cursor
    )


@router.get("/{webhook_id}", response_model=WebhookRead, responses=responses(304, 404))
async def get_webhook(
    request: Request, session: SessionDep, principal: AnyPrincipal, webhook_id: uuid.UUID
) -> Response:
    """Read one of this key's webhook endpoints."""
    endpoint = await service.get(session, principal, webhook_id)
    return conditional_json(request, WebhookRead.model_validate(endpoint))


@router.patch("/{webhook_id}", response_model=WebhookRead, responses=responses(404, 412))
async def update_webhook(
    request: Request,
    session: SessionDep,
    principal: AnyPrincipal,
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
) -> Response:
    """Change an endpoint's URL, event types, description or status; honours `If-Match`."""
    endpoint = await service.get(session, principal, webhook_id, for_update=True)
    check_if_match(request, WebhookRead.model_validate(endpoint))
    endpoint = await service.update(session, endpoint, body, allow_private=_allow_private(request))
    return conditional_json(request, WebhookRead.model_validate(endpoint))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404))
async def delete_webhook(
    session: SessionDep, principal: AnyPrincipal, webhook_id: uuid.UUID
) -> Response:
    """Delete an endpoint and its delivery history."""
    await service.delete(session, await service.get(session, principal, webhook_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret", response_model=WebhookWithSecret, responses=responses(404)
)
async def rotate_webhook_secret(
    session: SessionDep, principal: AnyPrincipal, webhook_id: uuid.UUID
) -> WebhookWithSecret:
    """Replace the signing secret; the new one is in this answer only."""
    endpoint = await service.rotate_secret(
        session, await service.get(session, principal, webhook_id)
    )
    return WebhookWithSecret.model_validate(endpoint)


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryRead], responses=responses(404))
async def list_deliveries(
    session: SessionDep,
    principal: AnyPrincipal,
    webhook_id: uuid.UUID,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[DeliveryRead]:
    """List an endpoint's deliveries, newest first, each with every attempt."""
    endpoint = await service.get(session, principal, webhook_id)
    deliveries, next_cursor = await service.list_deliveries(session, endpoint, cursor, limit)
    return Page[DeliveryRead](items=[_delivery(d) for d in deliveries], next_cursor=next_cursor)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/resend",
    response_model=DeliveryRead,
    responses=responses(404),
)
async def resend_delivery(
    session: SessionDep,
    principal: AnyPrincipal,
    clock: ClockDep,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
) -> DeliveryRead:
    """Send a delivery again, now, with the same `webhook-id`."""
    endpoint = await service.get(session, principal, webhook_id)
    return _delivery(await service.resend(session, endpoint, delivery_id, clock.now()))
