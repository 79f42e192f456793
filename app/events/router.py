from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.api_keys.auth import AdminOrOwner, AdminPrincipal
from app.core.clock import ClockDep
from app.core.db import SessionDep
from app.core.http import check_if_match, conditional_json
from app.core.i18n import LanguageDep, language_headers
from app.core.openapi import responses
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.core.schemas import QUERY_TEXT
from app.events import service
from app.events.repository import Near
from app.events.schemas import (
    DEFAULT_TZ,
    EXTERNAL_REF_QUERY,
    EventCreate,
    EventProductCreate,
    EventProductRead,
    EventProductUpdate,
    EventRead,
    EventUpdate,
    Moment,
    TimeZoneName,
    instant,
    zone,
)
from app.models.event import EventKind, EventStatus
from app.products.service import ensure_owner_may_act_for

router = APIRouter(prefix="/v1/events", tags=["events"])

_LAT = r"-?(90(\.0{1,15})?|[1-8]?[0-9](\.[0-9]{1,15})?)"
_LON = r"-?(180(\.0{1,15})?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]{1,15})?)"

TzQuery = Annotated[
    TimeZoneName,
    Query(description="IANA time zone the times are shown in (and dates are read in)."),
]


def _event_response(
    request: Request,
    read: EventRead,
    status_code: int = 200,
    extra: dict[str, str] | None = None,
) -> Response:
    headers = {**language_headers([read.language]), **(extra or {})}
    return conditional_json(request, read, status_code=status_code, headers=headers)


@router.get("", response_model=Page[EventRead])
async def list_events(
    languages: LanguageDep,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    window_from: Annotated[
        Moment | None,
        Query(
            alias="from",
            description="Only events still running at or after this moment (`ends_at > from`). "
            "A date means the start of that day in `tz`.",
        ),
    ] = None,
    window_to: Annotated[
        Moment | None,
        Query(
            alias="to",
            description="Only events that start before this moment (`starts_at < to`). A date "
            "includes that whole day in `tz`.",
        ),
    ] = None,
    kind: Annotated[EventKind | None, Query(description="Only events of this kind.")] = None,
    commune: Annotated[
        str | None,
        Query(max_length=100, pattern=QUERY_TEXT, description="Commune, accents optional."),
    ] = None,
    status_: Annotated[
        EventStatus | None, Query(alias="status", description="Only events in this status now.")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=QUERY_TEXT,
            description="Words in the name (any language) or venue; accents optional.",
        ),
    ] = None,
    external_ref: Annotated[
        str | None,
        Query(
            max_length=251,
            pattern=EXTERNAL_REF_QUERY,
            description="`system:id`: the event a ticketing system knows by this id.",
        ),
    ] = None,
    near: Annotated[
        str | None,
        Query(
            max_length=50,
            pattern=rf"^{_LAT},{_LON}$",
            description="`lat,lon`: only events within `radius_km` of this point, nearest "
            "first, each with `distance_km`.",
        ),
    ] = None,
    radius_km: Annotated[
        float,
        Query(gt=0, le=20000, description="Radius for `near`, in km (great-circle)."),
    ] = 25.0,
    tz: TzQuery = DEFAULT_TZ,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[EventRead]:
    """List events, soonest first (nearest first with `near`)."""
    zone_info = zone(tz)
    point = None
    if near is not None:
        latitude, longitude = (float(part) for part in near.split(","))
        point = Near(latitude=latitude, longitude=longitude, radius_km=radius_km)
    ref = None
    if external_ref is not None:
        system, _, external_id = external_ref.partition(":")
        ref = (system, external_id)
    now = clock.now()
    rows, next_cursor = await service.list_events(
        session,
        now=now,
        window_from=None if window_from is None else instant(window_from, zone_info),
        window_to=(None if window_to is None else instant(window_to, zone_info, end_of_day=True)),
        kind=kind,
        commune=commune,
        status=status_,
        q=q,
        external_ref=ref,
        near=point,
        cursor=cursor,
        limit=limit,
    )
    items = [
        EventRead.of(event, now=now, tz=zone_info, languages=languages, distance_km=distance)
        for event, distance in rows
    ]
    response.headers.update(language_headers(item.language for item in items))
    return Page[EventRead](items=items, next_cursor=next_cursor)


@router.post(
    "",
    response_model=EventRead,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 409),
)
async def create_event(
    languages: LanguageDep,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    _admin: AdminPrincipal,
    body: EventCreate,
    tz: TzQuery = DEFAULT_TZ,
) -> Response:
    """Create an event (admin); 409 if an external ref already names another event."""
    event = await service.create_event(session, body)
    read = EventRead.of(event, now=clock.now(), tz=zone(tz), languages=languages)
    return _event_response(request, read, 201, {"Location": f"/v1/events/{event.id}"})


@router.get("/{event_id}", response_model=EventRead, responses=responses(304, 404))
async def get_event(
    languages: LanguageDep,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    event_id: uuid.UUID,
    tz: TzQuery = DEFAULT_TZ,
) -> Response:
    """Read one event."""
    event = await service.get_event(session, event_id)
    read = EventRead.of(event, now=clock.now(), tz=zone(tz), languages=languages)
    return _event_response(request, read)


@router.patch("/{event_id}", response_model=EventRead, responses=responses(401, 403, 404, 409, 412))
async def update_event(
    languages: LanguageDep,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    _admin: AdminPrincipal,
    event_id: uuid.UUID,
    body: EventUpdate,
    tz: TzQuery = DEFAULT_TZ,
) -> Response:
    """Update an event (admin); honours `If-Match` (the ETag of a read with the same `tz`
    and `Accept-Language`)."""
    event = await service.get_event(session, event_id, for_update=True)
    now = clock.now()
    check_if_match(request, EventRead.of(event, now=now, tz=zone(tz), languages=languages))
    event = await service.update_event(session, event, body, now)
    return _event_response(request, EventRead.of(event, now=now, tz=zone(tz), languages=languages))


@router.post(
    "/{event_id}/cancel", response_model=EventRead, responses=responses(401, 403, 404, 409)
)
async def cancel_event(
    languages: LanguageDep,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    _admin: AdminPrincipal,
    event_id: uuid.UUID,
    tz: TzQuery = DEFAULT_TZ,
) -> Response:
    """Cancel an event (admin): it stays listed, with status `cancelled`."""
    event = await service.get_event(session, event_id, for_update=True)
    now = clock.now()
    event = await service.cancel_event(session, event, now)
    read = EventRead.of(event, now=now, tz=zone(tz), languages=languages)
    return _event_response(request, read)


# ---------------------------------------------------------------------------------------------
# Products at an event


def _entry_response(
    request: Request, read: EventProductRead, status_code: int = 200, location: bool = False
) -> Response:
    headers = language_headers([read.language])
    if location:
        headers["Location"] = f"/v1/events/{read.event_id}/products/{read.product_id}"
    return conditional_json(request, read, status_code=status_code, headers=headers)


@router.get("/{event_id}/products", response_model=Page[EventProductRead], responses=responses(404))
async def list_event_products(
    languages: LanguageDep,
    response: Response,
    session: SessionDep,
    event_id: uuid.UUID,
    owner_id: Annotated[uuid.UUID | None, Query(description="Only this owner's products.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[EventProductRead]:
    """List the (active) products shown and sold at an event, by name, with their prices."""
    entries, next_cursor = await service.list_entries(
        session, event_id, owner_id=owner_id, cursor=cursor, limit=limit
    )
    items = [EventProductRead.of(entry, languages=languages) for entry in entries]
    response.headers.update(language_headers(item.language for item in items))
    return Page[EventProductRead](items=items, next_cursor=next_cursor)


@router.post(
    "/{event_id}/products",
    response_model=EventProductRead,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 404, 409),
)
async def enter_product(
    languages: LanguageDep,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: AdminOrOwner,
    event_id: uuid.UUID,
    body: EventProductCreate,
) -> Response:
    """Enter a product in an event (admin, or the product's owner)."""
    entry = await service.enter_product(session, principal, event_id, body, clock.now())
    read = EventProductRead.of(entry, languages=languages)
    return _entry_response(request, read, 201, location=True)


@router.get(
    "/{event_id}/products/{product_id}",
    response_model=EventProductRead,
    responses=responses(304, 404),
)
async def get_event_product(
    languages: LanguageDep,
    request: Request,
    session: SessionDep,
    event_id: uuid.UUID,
    product_id: uuid.UUID,
) -> Response:
    """Read one product's entry in an event."""
    entry = await service.get_entry(session, event_id, product_id)
    return _entry_response(request, EventProductRead.of(entry, languages=languages))


@router.patch(
    "/{event_id}/products/{product_id}",
    response_model=EventProductRead,
    responses=responses(401, 403, 404, 409, 412),
)
async def update_event_product(
    languages: LanguageDep,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: AdminOrOwner,
    event_id: uuid.UUID,
    product_id: uuid.UUID,
    body: EventProductUpdate,
) -> Response:
    """Change a product's booth or event price (admin, or the product's owner); honours
    `If-Match`."""
    entry = await service.get_entry(session, event_id, product_id, for_update=True)
    ensure_owner_may_act_for(principal, entry.product.owner_id)
    check_if_match(request, EventProductRead.of(entry, languages=languages))
    entry = await service.update_entry(session, principal, entry, body, clock.now())
    return _entry_response(request, EventProductRead.of(entry, languages=languages))


@router.delete(
    "/{event_id}/products/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(401, 403, 404, 409),
)
async def remove_event_product(
    session: SessionDep,
    clock: ClockDep,
    principal: AdminOrOwner,
    event_id: uuid.UUID,
    product_id: uuid.UUID,
) -> Response:
    """Take a product out of an event (admin, or the product's owner)."""
    entry = await service.get_entry(session, event_id, product_id, for_update=True)
    await service.remove_entry(session, principal, entry, clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
