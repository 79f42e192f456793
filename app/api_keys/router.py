from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from app.api_keys import service
from app.api_keys.auth import AdminPrincipal
from app.api_keys.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    EventGrantRead,
    OwnerKeyCreate,
)
from app.core.caching import NoStore
from app.core.clock import ClockDep
from app.core.db import SessionDep, TransactionRoute
from app.core.openapi import responses
from app.core.pagination import Page, PageQuery
from app.core.query import query_model

# Keys (and, once, their secrets): never stored by a cache.
router = APIRouter(
    prefix="/v1/api-keys",
    tags=["api keys"],
    responses=responses(401, 403),
    dependencies=[NoStore],
    route_class=TransactionRoute,
)


@router.post(
    "", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED, responses=responses(404)
)
async def create_key(
    response: Response, session: SessionDep, _admin: AdminPrincipal, body: ApiKeyCreate
) -> ApiKeyCreated:
    """Issue an API key (admin); the secret is in this answer only."""
    owner_id = body.owner_id if isinstance(body, OwnerKeyCreate) else None
    key, token = await service.create_key(
        session, name=body.name, role=body.role, owner_id=owner_id
    )
    response.headers["Location"] = f"/v1/api-keys/{key.id}"
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=token)


@router.get("", response_model=Page[ApiKeyRead])
async def list_keys(
    session: SessionDep, _admin: AdminPrincipal, page: Annotated[PageQuery, query_model(PageQuery)]
) -> Page[ApiKeyRead]:
    """List API keys, newest first, without their secrets (admin)."""
    keys, next_cursor = await service.list_keys(session, page)
    return Page[ApiKeyRead](
        items=[ApiKeyRead.model_validate(k) for k in keys], next_cursor=next_cursor
    )


@router.get("/{key_id}", response_model=ApiKeyRead, responses=responses(404))
async def get_key(session: SessionDep, _admin: AdminPrincipal, key_id: uuid.UUID) -> ApiKeyRead:
    """Read one API key, without its secret (admin)."""
    return ApiKeyRead.model_validate(await service.get_key(session, key_id))


@router.post("/{key_id}/revoke", response_model=ApiKeyRead, responses=responses(404))
async def revoke_key(
    session: SessionDep, _admin: AdminPrincipal, clock: ClockDep, key_id: uuid.UUID
) -> ApiKeyRead:
    """Revoke an API key (admin): it stops working at once."""
    key = await service.revoke(session, await service.get_key(session, key_id), clock.now())
    return ApiKeyRead.model_validate(key)


# ---------------------------------------------------------------------------------------------
# A partner key's grants on events


@router.get("/{key_id}/events", response_model=Page[EventGrantRead], responses=responses(404))
async def list_grants(
    session: SessionDep,
    _admin: AdminPrincipal,
    key_id: uuid.UUID,
    page: Annotated[PageQuery, query_model(PageQuery)],
) -> Page[EventGrantRead]:
    """List the events a partner key was granted, newest grant first (admin)."""
    grants, next_cursor = await service.list_grants(session, key_id, page)
    return Page[EventGrantRead](
        items=[EventGrantRead.model_validate(g) for g in grants], next_cursor=next_cursor
    )


@router.put(
    "/{key_id}/events/{event_id}",
    response_model=EventGrantRead,
    responses={
        201: {"model": EventGrantRead, "description": "Granted now."},
        **responses(404, 409),
    },
)
async def grant_event(
    response: Response,
    session: SessionDep,
    admin: AdminPrincipal,
    clock: ClockDep,
    key_id: uuid.UUID,
    event_id: uuid.UUID,
) -> EventGrantRead:
    """Grant a partner key rights on an event (admin): link its external ids, read its sales,
    hear its changes. 201 when granted now, 200 when it already was; 422 for a key that is not
    a partner's."""
    grant, created = await service.grant_event(
        session, key_id, event_id, granted_by=admin.key_id, now=clock.now()
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = f"/v1/api-keys/{key_id}/events/{event_id}"
    return EventGrantRead.model_validate(grant)


@router.get("/{key_id}/events/{event_id}", response_model=EventGrantRead, responses=responses(404))
async def get_grant(
    session: SessionDep, _admin: AdminPrincipal, key_id: uuid.UUID, event_id: uuid.UUID
) -> EventGrantRead:
    """Read a partner key's grant on an event (admin); 404 if it holds none."""
    return EventGrantRead.model_validate(await service.get_grant(session, key_id, event_id))


@router.delete(
    "/{key_id}/events/{event_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(404),
)
async def revoke_grant(
    session: SessionDep, _admin: AdminPrincipal, key_id: uuid.UUID, event_id: uuid.UUID
) -> Response:
    """Take back a partner key's grant on an event (admin): its rights there end at once."""
    await service.revoke_grant(session, key_id, event_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
