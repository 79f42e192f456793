"""Who may read which report: an owner's sales are for admins and that owner's key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from app.api_keys.auth import AdminOrOwner
from app.reports.schemas import OwnerSalesQuery


@dataclass(frozen=True)
class OwnerSalesAsked:
    owner_id: uuid.UUID
    query: OwnerSalesQuery


async def owner_sales_asked(
    principal: AdminOrOwner, owner_id: uuid.UUID, query: Annotated[OwnerSalesQuery, Query()]
) -> OwnerSalesAsked:
    """The owner and period asked for, if the caller may act for that owner."""
    principal.ensure_acts_for(
        owner_id, detail="An owner key sees only its own owner's sales.", code="not_your_owner"
    )
    return OwnerSalesAsked(owner_id, query)


OwnerSalesAskedDep = Annotated[OwnerSalesAsked, Depends(owner_sales_asked)]
