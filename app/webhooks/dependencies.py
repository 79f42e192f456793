"""The webhook endpoint a route acts on: one of the calling key's own, or 404."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.api_keys.auth import AnyPrincipal
from app.core.db import SessionDep
from app.core.http import check_if_match
from app.models.webhook import WebhookEndpoint
from app.webhooks import service
from app.webhooks.schemas import WebhookRead, WebhookUpdate


async def own_endpoint(
    session: SessionDep, principal: AnyPrincipal, webhook_id: uuid.UUID
) -> WebhookEndpoint:
    return await service.get(session, principal, webhook_id)


OwnEndpoint = Annotated[WebhookEndpoint, Depends(own_endpoint)]
"""One of the calling key's endpoints; 404 for anyone else's (their existence does not leak)."""


@dataclass(frozen=True)
class EndpointChange:
    """One of the calling key's endpoints, locked, and the change the request's body asks."""

    endpoint: WebhookEndpoint
    body: WebhookUpdate


async def own_endpoint_for_change(
    request: Request,
    session: SessionDep,
    principal: AnyPrincipal,
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
) -> EndpointChange:
    endpoint = await service.get(session, principal, webhook_id, for_update=True)
    check_if_match(request, WebhookRead.model_validate(endpoint))
    return EndpointChange(endpoint, body)


OwnEndpointForChange = Annotated[EndpointChange, Depends(own_endpoint_for_change)]
"""One of the calling key's endpoints, locked, if `If-Match` names its current version, and the
change. The body is validated first (a dependency's own parameter): 422 whatever the tag."""
