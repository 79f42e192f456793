from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, status
from starlette.responses import Response

from app.core import jsontext
from app.core.clock import ClockDep, clock_of
from app.core.db import SessionDep, TransactionRoute, session_of
from app.core.http import conditional_json
from app.core.openapi import responses
from app.core.query import query_model
from app.core.zones import ZoneDep, zone_of
from app.experiences import service
from app.experiences.dependencies import ExperienceWritingDep
from app.experiences.schemas import (
    Calendar,
    CalendarQuery,
    DateAvailability,
    DateQuery,
    ExperienceRead,
)

settings_router = APIRouter(
    prefix="/v1/products", tags=["experiences"], route_class=TransactionRoute
)
router = APIRouter(prefix="/v1/experiences", tags=["experiences"], route_class=TransactionRoute)


@settings_router.get(
    "/{product_id}/experience",
    response_model=ExperienceRead,
    responses=responses(304, 404),
)
async def get_experience(request: Request, session: SessionDep, product_id: uuid.UUID) -> Response:
    """Read a tourism product's booking settings: calendar rules, closed dates, ticket types."""
    experience = await service.get_experience(session, product_id)
    return conditional_json(request, service.read(experience))


@settings_router.put(
    "/{product_id}/experience",
    response_model=ExperienceRead,
    responses={
        201: {"description": "Created.", "model": ExperienceRead},
        **responses(401, 403, 404, 409, 412),
    },
)
async def put_experience(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    zone: ZoneDep,
    writing: ExperienceWritingDep,
) -> Response:
    """Create or replace a tourism product's booking settings (admin or its owner); honours
    `If-Match`."""
    created = writing.current is None
    experience = await service.put_experience(
        session, writing.product, writing.current, writing.body, now=clock.now(), zone=zone
    )
    return conditional_json(
        request,
        service.read(experience),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        headers={"Location": f"/v1/products/{experience.product_id}/experience"}
        if created
        else None,
    )


@router.get(
    "/{product_id}/availability/calendar",
    response_model=Calendar,
    responses=responses(404),
)
async def availability_calendar(
    request: Request,
    product_id: uuid.UUID,
    query: Annotated[CalendarQuery, query_model(CalendarQuery)],
) -> Response:
    """Each local date's availability (available, limited, sold_out or closed), places left
    and start times, over at most 92 days."""
    # A hot read: the session, clock and zone read from the request, not dependencies of their
    # own (each would cost it its solving), as the catalogue's pages do; written from its
    # JSON-ready fields, as a catalogue page is (`service.calendar`).
    found = await service.calendar(
        session_of(request),
        product_id,
        query.first,
        query.last,
        now=clock_of(request).now(),
        zone=zone_of(request),
    )
    return Response(jsontext.dumps(found), media_type="application/json")


@router.get("/{product_id}/availability", response_model=DateAvailability, responses=responses(404))
async def date_availability(
    request: Request,
    product_id: uuid.UUID,
    query: Annotated[DateQuery, query_model(DateQuery)],
) -> DateAvailability:
    """One local date's opening hours and each start time with its places left."""
    # As the calendar: the session, clock and zone read from the request.
    return await service.date_availability(
        session_of(request),
        product_id,
        query.date,
        now=clock_of(request).now(),
        zone=zone_of(request),
    )
