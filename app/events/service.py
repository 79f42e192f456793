"""Event rules: the calendar, ticketing links, and which products are sold at an event."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.i18n import LanguagePreference
from app.events import repository
from app.events.repository import Near
from app.events.schemas import (
    DEFAULT_TZ,
    EventCreate,
    EventProductCreate,
    EventProductUpdate,
    EventRead,
    EventUpdate,
    ExternalRef,
    zone,
)
from app.models.event import Event, EventExternalRef, EventKind, EventProduct, EventStatus
from app.models.product import ProductStatus
from app.products.service import ensure_owner_may_act_for
from app.webhooks.outbox import emit

EXTERNAL_REF_TABLE = "event_external_refs"
ENTRY_TABLE = "event_products"


def _violates_unique(exc: IntegrityError, table: str) -> bool:
    """Whether a unique constraint of `table` failed (not a foreign key or a CHECK)."""
    # PostgreSQL names the constraint (uq_<table>_...), SQLite the columns (<table>.<column>).
    message = str(exc.orig)
    return f'"uq_{table}_' in message or f"UNIQUE constraint failed: {table}." in message


async def get_event(
    session: AsyncSession, event_id: uuid.UUID, *, for_update: bool = False
) -> Event:
    event = await repository.get(session, event_id, for_update=for_update)
    if event is None:
        raise NotFound(f"No event {event_id}.")
    return event


async def list_events(
    session: AsyncSession,
    *,
    now: datetime,
    window_from: datetime | None,
    window_to: datetime | None,
    kind: EventKind | None,
    commune: str | None,
    status: EventStatus | None,
    q: str | None,
    external_ref: tuple[str, str] | None,
    near: Near | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[tuple[Event, float | None]], str | None]:
    """Events overlapping [window_from, window_to), soonest first (nearest first with `near`)."""
    stmt = repository.filtered(
        now=now,
        starts_before=window_to,
        ends_after=window_from,
        kind=kind,
        commune=commune,
        status=status,
        q=q,
        external_ref=external_ref,
    )
    return await repository.page(session, stmt, cursor, limit, near)


async def _write_refs(
    session: AsyncSession, event: Event, refs: Sequence[ExternalRef], change: Callable[[], None]
) -> None:
    """Apply `change` and flush, turning a (system, id) pair already held by another event
    into a 409.

    The unique constraint decides, so two concurrent requests with one pair cannot both win.
    The change happens inside a savepoint (begin_nested flushes what is pending first), which
    keeps the transaction usable to say which event holds the pair.
    """
    event_id = event.id  # read now: a rolled-back savepoint expires the event
    try:
        async with session.begin_nested():
            change()
            await session.flush()
    except IntegrityError as exc:
        if not _violates_unique(exc, EXTERNAL_REF_TABLE):
            raise
        pairs = [(ref.system, ref.id) for ref in refs]
        taken = await repository.taken_refs(session, pairs, exclude=event_id)
        raise Conflict(
            "An external ref already names another event: "
            + ", ".join(f"{ref.system}:{ref.external_id}" for ref in taken),
            code="external_ref_taken",
            external_refs=[
                {"system": ref.system, "id": ref.external_id, "event_id": str(ref.event_id)}
                for ref in taken
            ],
        ) from exc


async def create_event(session: AsyncSession, data: EventCreate) -> Event:
    """Create an event with its ticketing links."""
    fields = data.model_dump(exclude={"external_refs"})
    event = Event(
        id=uuid.uuid4(),
        **fields,
        external_refs=[
            EventExternalRef(system=ref.system, external_id=ref.id) for ref in data.external_refs
        ],
    )
    await _write_refs(session, event, data.external_refs, lambda: session.add(event))
    return event


async def _announce(session: AsyncSession, event: Event, now: datetime) -> None:
    """`event.updated` to admins and to the owners selling at the event."""
    body = EventRead.of(
        event, now=now, tz=zone(DEFAULT_TZ), languages=LanguagePreference()
    ).model_dump(mode="json")
    await emit(
        session, "event.updated", body, owner_ids=await repository.seller_ids(session, event.id)
    )


async def update_event(
    session: AsyncSession, event: Event, data: EventUpdate, now: datetime
) -> Event:
    """Apply a partial update; `external_refs` given replaces the event's set of links."""
    changes = data.model_dump(exclude_unset=True, exclude={"external_refs"})
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
    refs = data.external_refs

    def change() -> None:
        for field, value in changes.items():
            setattr(event, field, value)
        if refs is None:
            return
        wanted = {(ref.system, ref.id) for ref in refs}
        # Keep the links that stay: a delete and re-insert of one pair would trip the unique
        # constraint, since the unit of work inserts before it deletes.
        kept = [ref for ref in event.external_refs if (ref.system, ref.external_id) in wanted]
        have = {(ref.system, ref.external_id) for ref in kept}
        event.external_refs = kept + [
            EventExternalRef(system=s, external_id=i) for s, i in sorted(wanted - have)
        ]

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
    session: AsyncSession,
    event_id: uuid.UUID,
    *,
    owner_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[EventProduct], str | None]:
    await get_event(session, event_id)
    return await repository.entries_page(
        session, event_id, owner_id=owner_id, cursor=cursor, limit=limit
    )


async def get_entry(
    session: AsyncSession, event_id: uuid.UUID, product_id: uuid.UUID, *, for_update: bool = False
) -> EventProduct:
    entry = await repository.get_entry(session, event_id, product_id, for_update=for_update)
    if entry is None:
        raise NotFound(f"Product {product_id} is not entered in event {event_id}.")
    return entry


async def enter_product(
    session: AsyncSession,
    principal: Principal,
    event_id: uuid.UUID,
    data: EventProductCreate,
    now: datetime,
) -> EventProduct:
    """Enter a product in an open event (admin, or the product's owner)."""
    event = await get_event(session, event_id, for_update=True)
    product = await repository.get_product(session, data.product_id)
    if product is None:
        raise NotFound(f"No product {data.product_id}.", code="unknown_product")
    ensure_owner_may_act_for(principal, product.owner_id)
    _ensure_open(event, now)
    if product.status is ProductStatus.archived:
        raise Conflict("An archived product cannot be entered.", code="product_archived")
    if await repository.get_entry(session, event_id, product.id) is not None:
        raise _already_entered(product.id)
    entry = EventProduct(
        event_id=event.id,
        product=product,
        booth=data.booth,
        event_price_vnd=data.event_price_vnd,
    )
    session.add(entry)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # the same product entered concurrently
        if not _violates_unique(exc, ENTRY_TABLE):
            raise
        raise _already_entered(product.id) from exc
    return entry


def _already_entered(product_id: uuid.UUID) -> Conflict:
    return Conflict(
        f"Product {product_id} is already entered in this event; PATCH it instead.",
        code="already_entered",
    )


async def update_entry(
    session: AsyncSession,
    principal: Principal,
    entry: EventProduct,
    data: EventProductUpdate,
    now: datetime,
) -> EventProduct:
    """Change an entry's booth or event price (admin, or the product's owner)."""
    ensure_owner_may_act_for(principal, entry.product.owner_id)
    _ensure_open(await get_event(session, entry.event_id), now)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(entry, field, value)
    await session.flush()
    return entry


async def remove_entry(
    session: AsyncSession, principal: Principal, entry: EventProduct, now: datetime
) -> None:
    """Take a product out of an open event (admin, or the product's owner)."""
    ensure_owner_may_act_for(principal, entry.product.owner_id)
    _ensure_open(await get_event(session, entry.event_id), now)
    await session.delete(entry)
    await session.flush()
