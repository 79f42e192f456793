"""The booking a request is about, loaded once with who may see it and who may move it; the
site whose gate a request works for."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from app.api_keys.auth import AdminOrOwner, AnyPrincipal, Principal
from app.bookings import gate, service
from app.bookings.service import Action
from app.core.clock import ClockDep
from app.core.config import SettingsDep
from app.core.db import SessionDep
from app.core.zones import ZoneDep
from app.models.booking import Booking


async def visible_booking(
    session: SessionDep, principal: AnyPrincipal, booking_id: uuid.UUID
) -> Booking:
    """The booking in the path, with its units and tickets, if this key may see it (404
    otherwise, whether or not it exists)."""
    return await service.get_visible_booking(session, principal, booking_id)


VisibleBooking = Annotated[Booking, Depends(visible_booking)]


def acting_on(action: Action) -> Callable[..., Awaitable[Booking]]:
    """A dependency: the visible booking, if this key may `action` it (403 otherwise)."""

    async def dependency(booking: VisibleBooking, principal: AnyPrincipal) -> Booking:
        service.ensure_may(principal, booking, action)
        return booking

    dependency.__name__ = f"may_{action}_booking"
    return dependency


ToConfirm = Annotated[Booking, Depends(acting_on("confirm"))]
ToExtend = Annotated[Booking, Depends(acting_on("extend"))]
ToCancel = Annotated[Booking, Depends(acting_on("cancel"))]


async def site_staff(
    session: SessionDep, principal: AdminOrOwner, product_id: uuid.UUID
) -> Principal:
    """The key, if it is the staff of the experience in the path (its owner's key, or an
    admin's): 404 if the product is no experience, 403 `not_this_site` otherwise."""
    await gate.site_of(session, principal, product_id)
    return principal


SiteStaff = Annotated[Principal, Depends(site_staff)]


async def gate_staff(
    principal: AdminOrOwner, clock: ClockDep, zone: ZoneDep, settings: SettingsDep
) -> gate.Staff:
    """Who checks tickets in (owner and admin keys), now, in the province's zone."""
    skew = timedelta(seconds=settings.check_in_clock_skew_s)
    return gate.Staff(principal, clock.now(), zone, skew)


GateStaff = Annotated[gate.Staff, Depends(gate_staff)]
