from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api_keys import service
from app.api_keys.auth import AdminPrincipal
from app.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, OwnerKeyCreate
from app.core.caching import NoStore
from app.core.clock import ClockDep
from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.pagination import Page, PageQuery

# Keys (and, once, their secrets): never stored by a cache.
router = APIRouter(
    prefix="/v1/api-keys",
    tags=["api keys"],
    responses=responses(401, 403),
    dependencies=[NoStore],
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
    session: SessionDep, _admin: AdminPrincipal, page: Annotated[PageQuery, Query()]
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
