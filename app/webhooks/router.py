from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from app.api_keys.auth import AnyPrincipal
from app.core.caching import NoStore
from app.core.clock import ClockDep
from app.core.config import SettingsDep
from app.core.db import SessionDep, TransactionRoute
from app.core.http import conditional_json
from app.core.openapi import responses
from app.core.pagination import Page, PageQuery
from app.core.query import query_model
from app.webhooks import service
from app.webhooks.dependencies import OwnEndpoint, OwnEndpointForChange, OwnEndpointForRotation
from app.webhooks.schemas import (
    DeliveryRead,
    EventTypeCatalogue,
    EventTypeRead,
    WebhookCreate,
    WebhookRead,
    WebhookWithSecret,
)

# Endpoints (and, once, their signing secrets): never stored by a cache.
router = APIRouter(
    prefix="/v1/webhooks",
    tags=["webhooks"],
    responses=responses(401, 403),
    dependencies=[NoStore],
    route_class=TransactionRoute,
)


@router.post("", response_model=WebhookWithSecret, status_code=status.HTTP_201_CREATED)
async def create_webhook(
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: AnyPrincipal,
    body: WebhookCreate,
) -> WebhookWithSecret:
    """Register a webhook endpoint; its signing secret is in this answer only."""
    endpoint = await service.create(
        session, principal, body, allow_private=settings.webhooks_allow_private
    )
    response.headers["Location"] = f"/v1/webhooks/{endpoint.id}"
    return WebhookWithSecret.model_validate(endpoint)


@router.get("", response_model=Page[WebhookRead])
async def list_webhooks(
    session: SessionDep, principal: AnyPrincipal, page: Annotated[PageQuery, query_model(PageQuery)]
) -> Page[WebhookRead]:
    """List this key's webhook endpoints, newest first."""
    endpoints, next_cursor = await service.list_endpoints(session, principal, page)
    return Page[WebhookRead](
        items=[WebhookRead.model_validate(e) for e in endpoints], next_cursor=next_cursor
    )


@router.get("/event-types", response_model=EventTypeCatalogue)
async def list_event_types(principal: AnyPrincipal) -> EventTypeCatalogue:
    """The webhook message types: what each says, its payload schema, who can hear it, and
    whether this key may subscribe to it."""
    return EventTypeCatalogue(
        items=[EventTypeRead.of(kind, ok) for kind, ok in service.event_types(principal)]
    )


@router.get("/{webhook_id:uuid}", response_model=WebhookRead, responses=responses(304, 404))
async def get_webhook(request: Request, endpoint: OwnEndpoint) -> Response:
    """Read one of this key's webhook endpoints."""
    return conditional_json(request, WebhookRead.model_validate(endpoint))


@router.patch("/{webhook_id:uuid}", response_model=WebhookRead, responses=responses(404, 412))
async def update_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: AnyPrincipal,
    change: OwnEndpointForChange,
) -> Response:
    """Change an endpoint's URL, event types, description or status; honours `If-Match`."""
    endpoint = await service.update(
        session,
        principal,
        change.endpoint,
        change.body,
        allow_private=settings.webhooks_allow_private,
    )
    return conditional_json(request, WebhookRead.model_validate(endpoint))


@router.delete(
    "/{webhook_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404)
)
async def delete_webhook(session: SessionDep, endpoint: OwnEndpoint) -> Response:
    """Delete an endpoint and its delivery history."""
    await service.delete(session, endpoint)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id:uuid}/rotate-secret",
    response_model=WebhookWithSecret,
    responses=responses(404, 412),
)
async def rotate_webhook_secret(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    rotation: OwnEndpointForRotation,
) -> WebhookWithSecret:
    """Replace the signing secret; the old one goes on signing beside it for the overlap."""
    overlap_s = rotation.body.overlap_seconds
    if overlap_s is None:
        overlap_s = settings.webhooks_secret_overlap_s
    endpoint = await service.rotate_secret(
        session, rotation.endpoint, clock.now(), timedelta(seconds=overlap_s)
    )
    return WebhookWithSecret.model_validate(endpoint)


@router.post(
    "/{webhook_id:uuid}/ping",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(404, 409),
)
async def ping_webhook(session: SessionDep, clock: ClockDep, endpoint: OwnEndpoint) -> DeliveryRead:
    """Queue a signed `webhook.ping` to the endpoint; its delivery is in this answer."""
    return DeliveryRead.of(await service.ping(session, endpoint, clock.now()))


@router.get(
    "/{webhook_id:uuid}/deliveries", response_model=Page[DeliveryRead], responses=responses(404)
)
async def list_deliveries(
    session: SessionDep, endpoint: OwnEndpoint, page: Annotated[PageQuery, query_model(PageQuery)]
) -> Page[DeliveryRead]:
    """List an endpoint's deliveries, newest first, each with every attempt."""
    deliveries, next_cursor = await service.list_deliveries(session, endpoint, page)
    return Page[DeliveryRead](
        items=[DeliveryRead.of(d) for d in deliveries], next_cursor=next_cursor
    )


@router.post(
    "/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/resend",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(404, 409),
)
async def resend_delivery(
    session: SessionDep, clock: ClockDep, endpoint: OwnEndpoint, delivery_id: uuid.UUID
) -> DeliveryRead:
    """Send a delivery's message again now (same `webhook-id`); earlier attempts stay."""
    return DeliveryRead.of(await service.resend(session, endpoint, delivery_id, clock.now()))
