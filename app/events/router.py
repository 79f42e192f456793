from __future__ import annotations

import uuid
from typing import Annotated, TypeVar

from fastapi import APIRouter, Request, Response, status

from app.api_keys.auth import AdminPrincipal
from app.core.changes import FeedHorizonDep
from app.core.clock import ClockDep
from app.core.db import SessionDep, TransactionRoute
from app.core.http import conditional_json
from app.core.i18n import LanguageDep, LanguagePreference, language_headers, text_languages
from app.core.openapi import responses
from app.core.pagination import Page
from app.core.query import query_model
from app.events import service
from app.events.dependencies import (
    EnteringDep,
    EntryForChange,
    EventForChange,
    EventViewDep,
    LockedEventDep,
    OwnedEntry,
)
from app.events.schemas import (
    EntryQuery,
    EventCreate,
    EventProductRead,
    EventQuery,
    EventRead,
    EventView,
)
from app.models.event import Event, EventProduct

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=TransactionRoute)


Localized = TypeVar("Localized", EventRead, EventProductRead)


def _page(response: Response, items: list[Localized], next_cursor: str | None) -> Page[Localized]:
    """A page whose `Content-Language` names every language its items are in."""
    response.headers.update(language_headers(text_languages(items)))
    return Page(items=items, next_cursor=next_cursor)


def _event_response(
    request: Request,
    view: EventView,
    event: Event,
    status_code: int = 200,
    extra: dict[str, str] | None = None,
) -> Response:
    read = view.read(event)
    headers = {**language_headers(read.text_languages), **(extra or {})}
    return conditional_json(
        request, read, version=view.version(event), status_code=status_code, headers=headers
    )


@router.get("", response_model=Page[EventRead])
async def list_events(
    languages: LanguageDep,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    horizon: FeedHorizonDep,
    query: Annotated[EventQuery, query_model(EventQuery)],
) -> Page[EventRead]:
    """List events soonest (with `near`, nearest) first, or every change (`updated_since`)."""
    view = EventView(now=clock.now(), tz=query.tz, languages=languages)
    rows, next_cursor = await service.list_events(session, query, view.now, horizon)
    return _page(response, [view.read(event, distance) for event, distance in rows], next_cursor)


@router.post(
    "",
    response_model=EventRead,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 409),
)
async def create_event(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    view: EventViewDep,
    body: EventCreate,
) -> Response:
    """Create an event (admin); 409 if an external ref already names another event."""
    event = await service.create_event(session, body)
    return _event_response(request, view, event, 201, {"Location": f"/v1/events/{event.id}"})


@router.get("/{event_id}", response_model=EventRead, responses=responses(304, 404))
async def get_event(
    request: Request, session: SessionDep, view: EventViewDep, event_id: uuid.UUID
) -> Response:
    """Read one event."""
    return _event_response(request, view, await service.get_event(session, event_id))


@router.patch("/{event_id}", response_model=EventRead, responses=responses(401, 403, 404, 409, 412))
async def update_event(request: Request, session: SessionDep, target: EventForChange) -> Response:
    """Update an event (admin; a partner key granted the event: `external_refs` only); honours
    `If-Match` (the ETag of a read in any language and `tz`)."""
    await service.update_event(session, target.event, target.data, target.view.now)
    return _event_response(request, target.view, target.event)


@router.post(
    "/{event_id}/cancel", response_model=EventRead, responses=responses(401, 403, 404, 409)
)
async def cancel_event(
    request: Request, session: SessionDep, _admin: AdminPrincipal, target: LockedEventDep
) -> Response:
    """Cancel an event (admin): it stays listed, with status `cancelled`."""
    await service.cancel_event(session, target.event, target.view.now)
    return _event_response(request, target.view, target.event)


# ---------------------------------------------------------------------------------------------
# Products at an event


def _entry_response(
    request: Request,
    entry: EventProduct,
    languages: LanguagePreference,
    status_code: int = 200,
    location: bool = False,
) -> Response:
    read = EventProductRead.of(entry, languages=languages)
    headers = language_headers(read.text_languages)
    if location:
        headers["Location"] = f"/v1/events/{read.event_id}/products/{read.product_id}"
    return conditional_json(
        request,
        read,
        version=EventProductRead.version(entry),
        status_code=status_code,
        headers=headers,
    )


@router.get("/{event_id}/products", response_model=Page[EventProductRead], responses=responses(404))
async def list_event_products(
    languages: LanguageDep,
    response: Response,
    session: SessionDep,
    event_id: uuid.UUID,
    query: Annotated[EntryQuery, query_model(EntryQuery)],
) -> Page[EventProductRead]:
    """List the (active) products shown and sold at an event, by name, with their prices."""
    entries, next_cursor = await service.list_entries(session, event_id, query)
    items = [EventProductRead.of(entry, languages=languages) for entry in entries]
    return _page(response, items, next_cursor)


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
    entering: EnteringDep,
) -> Response:
    """Enter a product in an event (admin, or the product's owner)."""
    entry = await service.enter_product(
        session, entering.event, entering.product, entering.data, clock.now()
    )
    return _entry_response(request, entry, languages, 201, location=True)


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
    return _entry_response(request, entry, languages)


@router.patch(
    "/{event_id}/products/{product_id}",
    response_model=EventProductRead,
    responses=responses(401, 403, 404, 409, 412),
)
async def update_event_product(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    target: EntryForChange,
) -> Response:
    """Change a product's booth or event price (admin, or the product's owner); honours
    `If-Match`."""
    await service.update_entry(session, target.entry, target.body, clock.now())
    return _entry_response(request, target.entry, target.languages)


@router.delete(
    "/{event_id}/products/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(401, 403, 404, 409),
)
async def remove_event_product(session: SessionDep, clock: ClockDep, entry: OwnedEntry) -> Response:
    """Take a product out of an event (admin, or the product's owner)."""
    await service.remove_entry(session, entry, clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
