"""The webhook endpoint a route acts on: one of the calling key's own, or 404."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Body, Depends, Request

from app.api_keys.auth import AnyPrincipal
from app.core.db import SessionDep
from app.core.http import check_if_match
from app.models.webhook import WebhookEndpoint
from app.webhooks import service
from app.webhooks.schemas import SecretRotation, WebhookRead, WebhookUpdate


async def own_endpoint(
    session: SessionDep, principal: AnyPrincipal, webhook_id: uuid.UUID
) -> WebhookEndpoint:
    return await service.get(session, principal, webhook_id)


OwnEndpoint = Annotated[WebhookEndpoint, Depends(own_endpoint)]
"""One of the calling key's endpoints; 404 for anyone else's (their existence does not leak)."""


async def _locked_endpoint(
    session: SessionDep, principal: AnyPrincipal, webhook_id: uuid.UUID
) -> WebhookEndpoint:
    return await service.get(session, principal, webhook_id, for_update=True)


LockedEndpoint = Annotated[WebhookEndpoint, Depends(_locked_endpoint)]


@dataclass(frozen=True)
class EndpointChange:
    """One of the calling key's endpoints, locked, and the change the request's body asks."""

    endpoint: WebhookEndpoint
    body: WebhookUpdate


async def own_endpoint_for_change(
    request: Request, endpoint: LockedEndpoint, body: WebhookUpdate
) -> EndpointChange:
    check_if_match(request, WebhookRead.model_validate(endpoint))
    return EndpointChange(endpoint, body)


OwnEndpointForChange = Annotated[EndpointChange, Depends(own_endpoint_for_change)]
"""One of the calling key's endpoints, locked, if `If-Match` names its current version, and the
change. The body is validated first (a dependency's own parameter): 422 whatever the tag."""


@dataclass(frozen=True)
class EndpointRotation:
    """One of the calling key's endpoints, locked, and how its secret is to be rotated."""

    endpoint: WebhookEndpoint
    body: SecretRotation


async def own_endpoint_for_rotation(
    request: Request,
    endpoint: LockedEndpoint,
    body: Annotated[SecretRotation, Body(default_factory=SecretRotation)],
) -> EndpointRotation:
    check_if_match(request, WebhookRead.model_validate(endpoint))
    return EndpointRotation(endpoint, body)


OwnEndpointForRotation = Annotated[EndpointRotation, Depends(own_endpoint_for_rotation)]
"""As `OwnEndpointForChange`, for a secret rotation (whose body is optional)."""
