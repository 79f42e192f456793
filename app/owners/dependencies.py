"""The owner a write acts on: loaded FOR UPDATE (404) and, for edits, "admin, or this owner's
key" (403) and `If-Match` (412), in that order, so routers never repeat it.

An edit takes its body here too, with the owner: FastAPI validates a dependency's own
parameters before calling it, so a bad body is still 422 before any of these checks, as it
was when the route made them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.api_keys.auth import AdminOrOwner
from app.core.db import SessionDep
from app.core.http import check_if_match
from app.models.owner import Owner
from app.owners import service
from app.owners.schemas import OwnerRead, OwnerUpdate


async def owner_for_update(session: SessionDep, owner_id: uuid.UUID) -> Owner:
    return await service.get_owner(session, owner_id, for_update=True)


OwnerForUpdate = Annotated[Owner, Depends(owner_for_update)]
"""The owner, row-locked until the request's transaction ends (404)."""


@dataclass(frozen=True)
class OwnerWrite:
    """An owner the caller may edit, row-locked, and the change its request body asks."""

    owner: Owner
    body: OwnerUpdate


async def owner_update(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    owner_id: uuid.UUID,
    body: OwnerUpdate,
) -> OwnerWrite:
    owner = await service.get_owner(session, owner_id, for_update=True)
    service.ensure_can_edit(principal, owner)
    check_if_match(request, OwnerRead.model_validate(owner))
    return OwnerWrite(owner, body)


AllowedOwnerUpdate = Annotated[OwnerWrite, Depends(owner_update)]
"""`PATCH`: the body (422), the owner (404), admin or that owner's key (403), at the version
`If-Match` names (412)."""
