from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request, status
from starlette.responses import Response

from app.api_keys.auth import AdminOrOwner, AnyPrincipal, Principal, require
from app.bookings import gate, service
from app.bookings.dependencies import (
    GateStaff,
    SiteStaff,
    ToCancel,
    ToConfirm,
    ToExtend,
    VisibleBooking,
)
from app.bookings.schemas import (
    BookingCancel,
    BookingConfirm,
    BookingCreate,
    BookingExtend,
    BookingQuery,
    BookingRead,
    CheckInCreate,
    CheckInUpload,
    CheckInUploadRead,
    GateList,
    GateListQuery,
    TicketDetail,
    TicketSecretPath,
)
from app.bookings.service import booking_read
from app.core.changes import FeedHorizonDep
from app.core.clock import ClockDep
from app.core.config import settings_of
from app.core.db import SessionDep, TransactionRoute, session_of
from app.core.errors import DomainError, problem_for
from app.core.http import conditional_json
from app.core.openapi import responses
from app.core.pagination import Page
from app.core.query import query_model
from app.core.zones import TodayDep, ZoneDep, zone_of
from app.idempotency.dependencies import IDEMPOTENCY_KEY_OPENAPI, IdempotentDep
from app.models.api_key import Role

router = APIRouter(
    prefix="/v1/bookings",
    tags=["bookings"],
    responses=responses(401, 403),
    route_class=TransactionRoute,
)

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
    principal: Booker,
    body: BookingCreate,
    idempotent: IdempotentDep,
) -> Response:
    """Hold places on a date (and start time) of an experience until `expires_at` (partner or
    admin); needs an `Idempotency-Key`."""
    # As an order: the session, settings and zone read from the request, not dependencies of
    # their own, so that every hold solves as few dependencies as it can.
    session = session_of(request)
    hold = settings_of(request).hold_override
    zone = zone_of(request)
    now = idempotent.now

    async def work() -> Response:
        booking = await service.reserve(session, principal, body, now=now, zone=zone, hold=hold)
        return conditional_json(
            request,
            booking_read(booking),
            status_code=status.HTTP_201_CREATED,
            headers={"Location": f"/v1/bookings/{booking.id}"},
        )

    return await idempotent.run(
        api_key_id=principal.key_id, method="POST", path="/v1/bookings", body=body, work=work
    )


@router.get("", response_model=Page[BookingRead])
async def list_bookings(
    session: SessionDep,
    principal: AnyPrincipal,
    horizon: FeedHorizonDep,
    query: Annotated[BookingQuery, query_model(BookingQuery)],
) -> Page[BookingRead]:
    """List the bookings this key may see, newest first, or every change (`updated_since`)."""
    bookings, next_cursor = await service.list_bookings(session, principal, query, horizon)
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


# At the gate.

tickets_router = APIRouter(
    prefix="/v1/tickets",
    tags=["tickets"],
    responses=responses(401, 403),
    route_class=TransactionRoute,
)
gate_router = APIRouter(
    prefix="/v1/experiences",
    tags=["tickets"],
    responses=responses(401, 403),
    route_class=TransactionRoute,
)

TicketCodePath = Annotated[
    TicketSecretPath, Path(description="The ticket's code (its QR payload after `OCOP-TICKET:`).")
]


@tickets_router.get("/{code}", response_model=TicketDetail, responses=responses(304, 404))
async def get_ticket(
    request: Request, session: SessionDep, principal: AdminOrOwner, code: TicketCodePath
) -> Response:
    """Look a ticket up, with every check-in attempt (its site's staff: the owner's keys,
    admins)."""
    return conditional_json(request, await gate.read_ticket(session, principal, code))


@tickets_router.post(
    "/{code}/check-in",
    response_model=TicketDetail,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {
            "description": "This offline scan (same `at` and `gate`) was sent before and "
            "accepted: nothing new is recorded.",
            "model": TicketDetail,
        },
        **responses(404, 409),
    },
)
async def check_in_ticket(
    request: Request,
    session: SessionDep,
    staff: GateStaff,
    code: TicketCodePath,
    body: Annotated[CheckInCreate, Body(default_factory=CheckInCreate)],
) -> Response:
    """Check a ticket in at the gate (its site's staff); a second check-in is 409
    `already_checked_in` naming the first."""
    outcome = await gate.check_in(
        session, staff, gate.Scan(code, body.at, body.gate), body.product_id
    )
    if isinstance(outcome, DomainError):
        return problem_for(
            request.scope, outcome
        )  # refused, and kept on record: the transaction commits
    return conditional_json(
        request,
        outcome.ticket,
        status_code=status.HTTP_201_CREATED if outcome.recorded else status.HTTP_200_OK,
        headers={"Location": f"/v1/tickets/{code}"},
    )


@gate_router.get("/{product_id}/gate-list", response_model=GateList, responses=responses(304, 404))
async def get_gate_list(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    _staff: SiteStaff,
    product_id: uuid.UUID,
    query: Annotated[GateListQuery, query_model(GateListQuery)],
) -> Response:
    """The tickets an offline gate admits on a local date, by their codes' SHA-256 (the site's
    staff); poll it with `If-None-Match`."""
    day = query.date or today
    return conditional_json(request, await gate.gate_list(session, product_id, day))


@gate_router.post(
    "/{product_id}/check-ins", response_model=CheckInUploadRead, responses=responses(404)
)
async def upload_check_ins(
    session: SessionDep,
    _site: SiteStaff,
    staff: GateStaff,
    product_id: uuid.UUID,
    body: CheckInUpload,
) -> CheckInUploadRead:
    """Upload what an offline gate scanned (the site's staff): the earliest check-in of a
    ticket wins; the same upload again records nothing."""
    return await gate.upload(session, staff, product_id, body.check_ins)
