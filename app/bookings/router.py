from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, status
from starlette.responses import Response

from app.api_keys.auth import AnyPrincipal, Principal, require
from app.bookings import service
from app.bookings.dependencies import ToCancel, ToConfirm, ToExtend, VisibleBooking
from app.bookings.schemas import (
    BookingCancel,
    BookingConfirm,
    BookingCreate,
    BookingExtend,
    BookingQuery,
    BookingRead,
)
from app.bookings.service import booking_read
from app.core.clock import ClockDep
from app.core.config import SettingsDep
from app.core.db import SessionDep
from app.core.http import conditional_json
from app.core.openapi import responses
from app.core.pagination import Page
from app.core.schemas import canonical
from app.core.zones import ZoneDep
from app.idempotency.dependencies import IDEMPOTENCY_KEY_OPENAPI, IdempotencyKeyHeader
from app.idempotency.service import fingerprint, run_idempotent
from app.models.api_key import Role

router = APIRouter(prefix="/v1/bookings", tags=["bookings"], responses=responses(401, 403))

Booker = Annotated[Principal, Depends(require(Role.partner, Role.admin))]


@router.post(
    "",
    response_model=BookingRead,
    status_code=status.HTTP_201_CREATED,
    responses=responses(404, 409),
    openapi_extra=IDEMPOTENCY_KEY_OPENAPI,
)
async def reserve(
    request: Request,
    session: SessionDep,
    principal: Booker,
    clock: ClockDep,
    settings: SettingsDep,
    zone: ZoneDep,
    body: BookingCreate,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Hold places on a date (and start time) of an experience until `expires_at` (partner or
    admin); needs an `Idempotency-Key`."""
    now = clock.now()

    async def work() -> Response:
        booking = await service.reserve(session, principal, body, now=now, zone=zone)
        return conditional_json(
            request,
            booking_read(booking),
            status_code=status.HTTP_201_CREATED,
            headers={"Location": f"/v1/bookings/{booking.id}"},
        )

    return await run_idempotent(
        session,
        api_key_id=principal.key_id,
        key=idempotency_key,
        request_hash=fingerprint("POST", "/v1/bookings", canonical(body)),
        now=now,
        lock=timedelta(seconds=settings.idempotency_lock_s),
        work=work,
    )


@router.get("", response_model=Page[BookingRead])
async def list_bookings(
    session: SessionDep, principal: AnyPrincipal, query: Annotated[BookingQuery, Query()]
) -> Page[BookingRead]:
    """List the bookings this key may see, newest first."""
    bookings, next_cursor = await service.list_bookings(session, principal, query)
    return Page[BookingRead](items=[booking_read(b) for b in bookings], next_cursor=next_cursor)


@router.get("/{booking_id}", response_model=BookingRead, responses=responses(304, 404))
async def get_booking(request: Request, booking: VisibleBooking) -> Response:
    """Read one booking, with its units and tickets."""
    return conditional_json(request, booking_read(booking))


@router.post("/{booking_id}/confirm", response_model=BookingRead, responses=responses(404, 409))
async def confirm_booking(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    booking: ToConfirm,
    body: Annotated[BookingConfirm, Body(default_factory=BookingConfirm)],
) -> Response:
    """Confirm a hold with the tourist's contact, before it expires; issues one ticket per
    person (admin, or the key that made it)."""
    confirmation = service.Confirmation(
        contact=body.contact, reseller_reference=body.reseller_reference, notes=body.notes
    )
    confirmed = await service.confirm(session, booking, confirmation, now=clock.now())
    return conditional_json(request, booking_read(confirmed))


@router.post("/{booking_id}/extend", response_model=BookingRead, responses=responses(404, 409))
async def extend_booking(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    booking: ToExtend,
    body: Annotated[BookingExtend, Body(default_factory=BookingExtend)],
) -> Response:
    """Push a live hold's expiry (admin, or the key that made it)."""
    extended = await service.extend(session, booking, body.minutes, now=clock.now())
    return conditional_json(request, booking_read(extended))


@router.post("/{booking_id}/cancel", response_model=BookingRead, responses=responses(404, 409))
async def cancel_booking(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    zone: ZoneDep,
    principal: AnyPrincipal,
    booking: ToCancel,
    body: Annotated[BookingCancel, Body(default_factory=BookingCancel)],
) -> Response:
    """Cancel a hold or a confirmed booking and return its places (admin, the key that made
    it, or the site's owner; once started, admin only)."""
    cancelled = await service.cancel(
        session, booking, principal, body.reason, now=clock.now(), zone=zone
    )
    return conditional_json(request, booking_read(cancelled))
