from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from app.api_keys.auth import AdminPrincipal
from app.core.db import SessionDep, TransactionRoute
from app.core.http import conditional_json
from app.core.openapi import responses
from app.core.pagination import Page
from app.core.query import query_model
from app.models.owner import OwnerStatus
from app.owners import service
from app.owners.dependencies import AllowedOwnerUpdate, OwnerForUpdate
from app.owners.schemas import OwnerCreate, OwnerQuery, OwnerRead

router = APIRouter(prefix="/v1/owners", tags=["owners"], route_class=TransactionRoute)


@router.get("", response_model=Page[OwnerRead])
async def list_owners(
    session: SessionDep, query: Annotated[OwnerQuery, query_model(OwnerQuery)]
) -> Page[OwnerRead]:
    """List owners by name."""
    owners, next_cursor = await service.list_owners(session, query)
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
    request: Request, session: SessionDep, write: AllowedOwnerUpdate
) -> Response:
    """Update an owner (admin, or the owner's own key); honours `If-Match`."""
    owner = await service.update_owner(session, write.owner, write.body)
    return conditional_json(request, OwnerRead.model_validate(owner))


def _status_change(new_status: OwnerStatus, summary: str) -> Callable[..., Awaitable[Response]]:
    """An admin endpoint that moves the owner to `new_status` (deactivate and reactivate)."""

    async def endpoint(
        request: Request, session: SessionDep, _admin: AdminPrincipal, owner: OwnerForUpdate
    ) -> Response:
        owner = await service.set_status(session, owner, new_status)
        return conditional_json(request, OwnerRead.model_validate(owner))

    endpoint.__doc__ = summary
    return endpoint


for _action, _status, _summary in (
    (
        "deactivate",
        OwnerStatus.inactive,
        "Deactivate an owner (admin): it leaves public lists but stays readable by id.",
    ),
    ("reactivate", OwnerStatus.active, "Reactivate a deactivated owner (admin)."),
):
    router.post(
        f"/{{owner_id}}/{_action}",
        response_model=OwnerRead,
        responses=responses(401, 403, 404),
        name=f"{_action}_owner",
    )(_status_change(_status, _summary))
