"""Event rules: the calendar, ticketing links, and which products are sold at an event."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.external_refs import ExternalRef, Pairs, merge_refs, write_refs
from app.core.i18n import LanguagePreference
from app.core.orm import touch
from app.core.unique import flush_unique
from app.events.repository import EntryRepository, EntryRow, EventRepository, Located
from app.events.schemas import (
    DEFAULT_TZ,
    EntryQuery,
    EventCreate,
    EventProductCreate,
    EventProductUpdate,
    EventQuery,
    EventUpdate,
    EventView,
)
from app.geography.service import place, place_changes, place_filter
from app.models.event import Event, EventExternalRef, EventProduct, EventStatus
from app.models.product import Product, ProductStatus
from app.webhooks.outbox import emit

EXTERNAL_REF_TABLE = "event_external_refs"
ENTRY_TABLE = "event_products"


async def get_event(
    session: AsyncSession, event_id: uuid.UUID, *, for_update: bool = False
) -> Event:
    """The event with its ticketing links; `for_update` locks it. 404 if there is none."""
    return await EventRepository(session).get_or_404(event_id, for_update=for_update)


async def list_events(
    session: AsyncSession, query: EventQuery, now: datetime, horizon: datetime
) -> tuple[list[Located], str | None]:
    """Events overlapping the query's window, soonest first (nearest first with `near`); with
    `updated_since`, a page of the change feed of every event, up to `horizon`."""
    events = EventRepository(session)
    if query.feed:
        return await events.changed(query, horizon)
    where = await place_filter(session, query.commune, query.province)
    return await events.page_matching(query, where, now)


async def _write_refs(
    session: AsyncSession, event: Event, refs: Sequence[ExternalRef], change: Callable[[], None]
) -> None:
    """Apply `change` and flush; a (system, id) pair already held by another event is 409."""
    event_id = event.id  # read now: a rolled-back savepoint expires the event

    async def holders(pairs: Pairs) -> list[tuple[str, str, uuid.UUID]]:
        return await EventRepository(session).taken_refs(pairs, exclude=event_id)

    await write_refs(session, change, refs, table=EXTERNAL_REF_TABLE, noun="event", holders=holders)


async def create_event(session: AsyncSession, data: EventCreate) -> Event:
    """Create an event with its ticketing links."""
    fields = data.model_dump(exclude={"external_refs"})
    where = await place(session, data.commune, data.province)
    event = Event(
        id=uuid.uuid4(),
        **{**fields, **where.columns()},
        external_refs=[
            EventExternalRef(system=ref.system, external_id=ref.id) for ref in data.external_refs
        ],
    )
    await _write_refs(session, event, data.external_refs, lambda: session.add(event))
    return event


async def _announce(session: AsyncSession, event: Event, now: datetime) -> None:
    """`event.updated` to admins, the owners selling at the event and the partner keys granted
    it."""
    view = EventView(now=now, tz=DEFAULT_TZ, languages=LanguagePreference())
    sellers = await EventRepository(session).seller_ids(event.id)
    await emit(
        session,
        "event.updated",
        view.read(event).model_dump(mode="json"),
        owner_ids=sellers,
        event_id=event.id,
    )


def _check_update(event: Event, changes: dict[str, Any]) -> None:
    """The rules the update's fields must keep together with the event's other fields."""
    starts_at = changes.get("starts_at", event.starts_at)
    ends_at = changes.get("ends_at", event.ends_at)
    if ends_at <= starts_at:
        raise Unprocessable("ends_at must be after starts_at.", code="ends_before_start")
    latitude = changes.get("latitude", event.latitude)
    longitude = changes.get("longitude", event.longitude)
    if (latitude is None) != (longitude is None):
        raise Unprocessable(
            "Give latitude and longitude together, or neither.", code="incomplete_coordinates"
        )


def _replace_refs(event: Event, refs: Sequence[ExternalRef]) -> None:
    merged = merge_refs(
        event.external_refs, refs, lambda s, i: EventExternalRef(system=s, external_id=i)
    )
    if merged is not None:
        event.external_refs = merged


async def update_event(
    session: AsyncSession, event: Event, data: EventUpdate, now: datetime
) -> Event:
    """Apply a partial update; `external_refs` given replaces the event's set of links."""
    changes = data.model_dump(exclude_unset=True, exclude={"external_refs"})
    _check_update(event, changes)
    refs = data.external_refs
    await place_changes(session, changes, event.commune, event.province)

    def change() -> None:
        for field, value in changes.items():
            setattr(event, field, value)
        if refs is not None:
            _replace_refs(event, refs)
        # The links are the event's too: a change of them alone moves `updated_at` (and so the
        # ETag, and the event's place in a change feed), which no column of `events` would.
        if session.is_modified(event):
            touch(event)

    await _write_refs(session, event, refs or [], change)
    await _announce(session, event, now)
    return event


async def cancel_event(session: AsyncSession, event: Event, now: datetime) -> Event:
    """Cancel a scheduled or ongoing event; it stays readable, with status `cancelled`."""
    status = event.status_at(now)
    if status is EventStatus.cancelled:
        raise Conflict("The event is already cancelled.", code="already_cancelled")
    if status is EventStatus.ended:
        raise Conflict("The event has ended; it cannot be cancelled.", code="event_ended")
    event.cancelled_at = now
    await session.flush()
    await _announce(session, event, now)
    return event


# ---------------------------------------------------------------------------------------------
# Products at an event


def _ensure_open(event: Event, now: datetime) -> None:
    status = event.status_at(now)
    if status in (EventStatus.ended, EventStatus.cancelled):
        raise Conflict(
            f"The event is {status}; its products can no longer change.",
            code="event_closed",
            event_status=status.value,
        )


async def list_entries(
    session: AsyncSession, event_id: uuid.UUID, query: EntryQuery
) -> tuple[list[EntryRow], str | None]:
    """The event's entries of active products, by name; 404 for an unknown event."""
    page = await EntryRepository(session).page_of(event_id, query)
    if page is None:
        raise EventRepository(session).not_found(event_id)
    return page


async def get_entry(
    session: AsyncSession, event_id: uuid.UUID, product_id: uuid.UUID, *, for_update: bool = False
) -> EventProduct:
    entry = await EntryRepository(session).find(event_id, product_id, for_update=for_update)
    if entry is None:
        raise NotFound(f"Product {product_id} is not entered in event {event_id}.")
    return entry


async def product_to_enter(session: AsyncSession, product_id: uuid.UUID) -> Product:
    """The product named in an entry, with its owner; 404 `unknown_product` if none."""
    product = await EntryRepository(session).product(product_id)
    if product is None:
        raise NotFound(f"No product {product_id}.", code="unknown_product")
    return product


def _already_entered(product_id: uuid.UUID) -> Conflict:
    return Conflict(
        f"Product {product_id} is already entered in this event; PATCH it instead.",
        code="already_entered",
    )


async def enter_product(
    session: AsyncSession,
    event: Event,
    product: Product,
    data: EventProductCreate,
    now: datetime,
) -> EventProduct:
    """Enter an active product in an open event (the event locked, the caller checked)."""
    _ensure_open(event, now)
    if product.status is ProductStatus.archived:
        raise Conflict("An archived product cannot be entered.", code="product_archived")
    if await EntryRepository(session).find(event.id, product.id) is not None:
        raise _already_entered(product.id)
    entry = EventProduct(
        event_id=event.id, product=product, booth=data.booth, event_price_vnd=data.event_price_vnd
    )

    async def entered_meanwhile() -> Conflict:  # the same product entered concurrently
        return _already_entered(product.id)

    await flush_unique(
        session, lambda: session.add(entry), table=ENTRY_TABLE, conflict=entered_meanwhile
    )
    return entry


async def update_entry(
    session: AsyncSession, entry: EventProduct, data: EventProductUpdate, now: datetime
) -> EventProduct:
    """Change an entry's booth or event price, while its event is open."""
    _ensure_open(await get_event(session, entry.event_id), now)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(entry, field, value)
    await session.flush()
    return entry


async def remove_entry(session: AsyncSession, entry: EventProduct, now: datetime) -> None:
    """Take a product out of an event, while it is open."""
    _ensure_open(await get_event(session, entry.event_id), now)
    await session.delete(entry)
    await session.flush()


# ---------------------------------------------------------------------------------------------
# The demo's seeding


async def events_named(session: AsyncSession, names: Iterable[str]) -> dict[str, Event]:
    """The events with these names, by name."""
    return {event.name: event for event in await EventRepository(session).named(names)}


async def entered_product_ids(session: AsyncSession, event_id: uuid.UUID) -> set[uuid.UUID]:
    return await EntryRepository(session).product_ids(event_id)


async def all_products(session: AsyncSession) -> list[Product]:
    """Every product, archived ones too: what the demo's entries are matched against."""
    return await EntryRepository(session).products()


def record_entry(
    session: AsyncSession,
    event: Event,
    product_id: uuid.UUID,
    *,
    booth: str | None,
    event_price_vnd: int | None,
) -> None:
    """Add an entry without the open-event rule: the demo's past events are closed."""
    session.add(
        EventProduct(
            event_id=event.id,
            product_id=product_id,
            booth=booth,
            event_price_vnd=event_price_vnd,
        )
    )
