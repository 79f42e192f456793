"""The booking a request is about, loaded once with who may see it and who may move it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from app.api_keys.auth import AnyPrincipal
from app.bookings import service
from app.bookings.service import Action
from app.core.db import SessionDep
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
