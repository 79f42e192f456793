"""The owner a write acts on: loaded FOR UPDATE (404) and, for edits, "admin, or this owner's
key" (403) and `If-Match` (412), in that order, so routers never repeat it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from app.api_keys.auth import AdminOrOwner
from app.core.db import SessionDep
from app.core.http import check_if_match
from app.models.owner import Owner
from app.owners import service
from app.owners.schemas import OwnerRead


async def owner_for_update(session: SessionDep, owner_id: uuid.UUID) -> Owner:
    return await service.get_owner(session, owner_id, for_update=True)


OwnerForUpdate = Annotated[Owner, Depends(owner_for_update)]
"""The owner, row-locked until the request's transaction ends (404)."""


async def editable_owner(request: Request, principal: AdminOrOwner, owner: OwnerForUpdate) -> Owner:
    service.ensure_can_edit(principal, owner)
    check_if_match(request, OwnerRead.model_validate(owner))
    return owner


EditableOwnerIfMatch = Annotated[Owner, Depends(editable_owner)]
"""As `OwnerForUpdate`, for admin or that owner's key (403), at the version `If-Match` names
(412)."""
