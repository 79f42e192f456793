from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.api_keys.auth import AdminOrOwner, AdminPrincipal
from app.core.db import SessionDep
from app.core.http import check_if_match, conditional_json
from app.core.openapi import responses
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.core.schemas import QUERY_TEXT
from app.models.owner import OwnerKind, OwnerStatus
from app.owners import service
from app.owners.schemas import OwnerCreate, OwnerRead, OwnerUpdate

router = APIRouter(prefix="/v1/owners", tags=["owners"])


@router.get("", response_model=Page[OwnerRead])
async def list_owners(
    session: SessionDep,
    kind: Annotated[OwnerKind | None, Query(description="Only owners of this kind.")] = None,
    commune: Annotated[
        str | None,
        Query(max_length=100, pattern=QUERY_TEXT, description="Commune, accents optional."),
    ] = None,
    province: Annotated[
        str | None,
        Query(max_length=100, pattern=QUERY_TEXT, description="Province, accents optional."),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=QUERY_TEXT,
            description="Words in the name or representative; accents optional.",
        ),
    ] = None,
    status_: Annotated[
        OwnerStatus, Query(alias="status", description="active (the default) or inactive.")
    ] = OwnerStatus.active,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[OwnerRead]:
    """List owners by name."""
    owners, next_cursor = await service.list_owners(
        session,
        kind=kind,
        commune=commune,
        province=province,
        q=q,
        status=status_,
        cursor=cursor,
        limit=limit,
    )
    return Page[OwnerRead](
        items=[OwnerRead.model_validate(o) for o in owners], next_cursor=next_cursor
    )


@router.post(
    "",
    response_model=OwnerRead,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403),
)
async def create_owner(
    request: Request, session: SessionDep, _admin: AdminPrincipal, body: OwnerCreate
) -> Response:
    """Create an owner (admin)."""
    owner = await service.create_owner(session, body)
    return conditional_json(
        request,
        OwnerRead.model_validate(owner),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/v1/owners/{owner.id}"},
    )


@router.get("/{owner_id}", response_model=OwnerRead, responses=responses(304, 404))
async def get_owner(request: Request, session: SessionDep, owner_id: uuid.UUID) -> Response:
    """Read one owner."""
    owner = await service.get_owner(session, owner_id)
    return conditional_json(request, OwnerRead.model_validate(owner))


@router.patch("/{owner_id}", response_model=OwnerRead, responses=responses(401, 403, 404, 412))
async def update_owner(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    owner_id: uuid.UUID,
    body: OwnerUpdate,
) -> Response:
    """Update an owner (admin, or the owner's own key); honours `If-Match`."""
    owner = await service.get_owner(session, owner_id, for_update=True)
    service.ensure_can_edit(principal, owner)
    check_if_match(request, OwnerRead.model_validate(owner))
    owner = await service.update_owner(session, owner, body)
    return conditional_json(request, OwnerRead.model_validate(owner))


@router.post("/{owner_id}/deactivate", response_model=OwnerRead, responses=responses(401, 403, 404))
async def deactivate_owner(
    request: Request, session: SessionDep, _admin: AdminPrincipal, owner_id: uuid.UUID
) -> Response:
    """Deactivate an owner (admin): it leaves public lists but stays readable by id."""
    owner = await service.get_owner(session, owner_id, for_update=True)
    owner = await service.set_status(session, owner, OwnerStatus.inactive)
    return conditional_json(request, OwnerRead.model_validate(owner))


@router.post("/{owner_id}/reactivate", response_model=OwnerRead, responses=responses(401, 403, 404))
async def reactivate_owner(
    request: Request, session: SessionDep, _admin: AdminPrincipal, owner_id: uuid.UUID
) -> Response:
    """Reactivate a deactivated owner (admin)."""
    owner = await service.get_owner(session, owner_id, for_update=True)
    owner = await service.set_status(session, owner, OwnerStatus.active)
    return conditional_json(request, OwnerRead.model_validate(owner))
