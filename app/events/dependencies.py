"""The resources event routes act on, loaded once: locked for a change, checked against who
calls ("admin, or a partner key granted the event", "admin, or the product's owner") and
against `If-Match`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from app.api_keys.auth import AdminOrOwner, AdminOrPartner, Principal
from app.core.clock import ClockDep
from app.core.db import SessionDep
from app.core.errors import Forbidden
from app.core.http import check_if_match
from app.core.i18n import LanguageDep, LanguagePreference
from app.events import service
from app.events.schemas import (
    DEFAULT_TZ,
    SHOW_TZ_DESCRIPTION,
    EventProductCreate,
    EventProductRead,
    EventProductUpdate,
    EventRead,
    EventUpdate,
    EventView,
    TimeZoneName,
)
from app.models.event import Event, EventProduct
from app.models.product import Product


def _ensure_sells(principal: Principal, product: Product) -> None:
    """Entries are the admins' and the product's owner's to make, change and remove."""
    principal.ensure_acts_for(
        product.owner_id,
        detail="This key may not act for this owner's products.",
        code="not_your_product",
    )


TzQuery = Annotated[TimeZoneName, Query(description=SHOW_TZ_DESCRIPTION)]


async def event_view(
    clock: ClockDep, languages: LanguageDep, tz: TzQuery = DEFAULT_TZ
) -> EventView:
    """How this caller reads events: now, local times in the zone `tz`, in its languages."""
    return EventView(now=clock.now(), tz=tz, languages=languages)


EventViewDep = Annotated[EventView, Depends(event_view)]


@dataclass(frozen=True)
class LockedEvent:
    """An event locked until the request's transaction ends, and the caller's view of it."""

    event: Event
    view: EventView

    def version(self) -> EventRead:
        return self.view.version(self.event)


async def locked_event(session: SessionDep, view: EventViewDep, event_id: uuid.UUID) -> LockedEvent:
    return LockedEvent(await service.get_event(session, event_id, for_update=True), view)


LockedEventDep = Annotated[LockedEvent, Depends(locked_event)]


LINKABLE = frozenset({"external_refs"})
"""What a partner key granted an event may change of it: its links to ticketing systems."""


def _ensure_may_change(principal: Principal, event_id: uuid.UUID, data: EventUpdate) -> None:
    """Admins change anything of an event; a partner key granted it, its external refs only."""
    principal.ensure_covers_event(event_id, detail="This key may not change this event.")
    beyond = sorted(data.model_fields_set - LINKABLE)
    if beyond and not principal.is_admin:
        raise Forbidden(
            "A partner key may change only an event's external_refs, not: " + ", ".join(beyond),
            code="fields_not_granted",
            fields=beyond,
        )


@dataclass(frozen=True)
class EventChange(LockedEvent):
    """A change the caller may make to a locked event."""

    data: EventUpdate


async def event_for_change(
    request: Request,
    session: SessionDep,
    view: EventViewDep,
    principal: AdminOrPartner,
    event_id: uuid.UUID,
    body: EventUpdate,
) -> EventChange:
    """The event, locked, if the caller may make this change and `If-Match` names its current
    version (read in any language and zone). The caller is checked first: a refused key locks
    nothing."""
    _ensure_may_change(principal, event_id, body)
    change = EventChange(await service.get_event(session, event_id, for_update=True), view, body)
    check_if_match(request, change.version())
    return change


EventForChange = Annotated[EventChange, Depends(event_for_change)]


@dataclass(frozen=True)
class Entering:
    """What `POST /v1/events/{id}/products` enters: the locked event, the caller's product."""

    event: Event
    product: Product
    data: EventProductCreate


async def entering(
    session: SessionDep, principal: AdminOrOwner, event_id: uuid.UUID, body: EventProductCreate
) -> Entering:
    event = await service.get_event(session, event_id, for_update=True)
    product = await service.product_to_enter(session, body.product_id)
    _ensure_sells(principal, product)
    return Entering(event, product, body)


EnteringDep = Annotated[Entering, Depends(entering)]


async def owned_entry(
    session: SessionDep, principal: AdminOrOwner, event_id: uuid.UUID, product_id: uuid.UUID
) -> EventProduct:
    """The entry, locked, if the caller may act for its product's owner."""
    entry = await service.get_entry(session, event_id, product_id, for_update=True)
    _ensure_sells(principal, entry.product)
    return entry


OwnedEntry = Annotated[EventProduct, Depends(owned_entry)]


@dataclass(frozen=True)
class ShownEntry:
    """An entry and the languages the caller reads it in."""

    entry: EventProduct
    languages: LanguagePreference

    def version(self) -> EventProductRead:
        return EventProductRead.version(self.entry)


@dataclass(frozen=True)
class EntryChange(ShownEntry):
    """An entry the caller may change, locked, and the change the request's body asks."""

    body: EventProductUpdate


async def entry_for_change(
    request: Request, languages: LanguageDep, entry: OwnedEntry, body: EventProductUpdate
) -> EntryChange:
    """The caller's locked entry, if `If-Match` names its current version (read in any
    language), and the change; a bad body is 422 whatever the tag (as `event_for_change`)."""
    change = EntryChange(entry, languages, body)
    check_if_match(request, change.version())
    return change


EntryForChange = Annotated[EntryChange, Depends(entry_for_change)]
