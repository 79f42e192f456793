"""Who may read which report: an event's sales are for admins and the partner keys granted the
event; an owner's sales for admins and that owner's key; the tourism report for admins (every
owner's experiences, or one owner's) and owner keys (their own experiences only)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from app.api_keys.auth import AdminOrOwner, AdminOrPartner
from app.core.query import query_model
from app.reports.schemas import OwnerSalesQuery, TourismQuery


async def sales_event_id(principal: AdminOrPartner, event_id: uuid.UUID) -> uuid.UUID:
    """The event asked for, if the caller may read its sales."""
    principal.ensure_covers_event(event_id, detail="This key may not read this event's sales.")
    return event_id


SalesEventId = Annotated[uuid.UUID, Depends(sales_event_id)]


@dataclass(frozen=True)
class OwnerSalesAsked:
    owner_id: uuid.UUID
    query: OwnerSalesQuery


async def owner_sales_asked(
    principal: AdminOrOwner,
    owner_id: uuid.UUID,
    query: Annotated[OwnerSalesQuery, query_model(OwnerSalesQuery)],
) -> OwnerSalesAsked:
    """The owner and period asked for, if the caller may act for that owner."""
    principal.ensure_acts_for(
        owner_id, detail="An owner key sees only its own owner's sales.", code="not_your_owner"
    )
    return OwnerSalesAsked(owner_id, query)


OwnerSalesAskedDep = Annotated[OwnerSalesAsked, Depends(owner_sales_asked)]


async def tourism_query(
    principal: AdminOrOwner, query: Annotated[TourismQuery, query_model(TourismQuery)]
) -> TourismQuery:
    """The period and owner asked for: an owner key's report is of its own experiences, whether
    or not it names its owner (403 `not_your_owner` if it names another)."""
    if principal.is_admin:
        return query
    if query.owner_id is not None:
        principal.ensure_acts_for(
            query.owner_id,
            detail="An owner key sees only its own experiences' visitors.",
            code="not_your_owner",
        )
    return query.model_copy(update={"owner_id": principal.owner_id})


TourismQueryDep = Annotated[TourismQuery, Depends(tourism_query)]
