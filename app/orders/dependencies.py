"""The order a request is about, loaded once with who may see it and who may move it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path

from app.api_keys.auth import AnyPrincipal
from app.core.clock import ClockDep
from app.core.db import SessionDep
from app.core.zones import ZoneDep
from app.models.order import Order, OrderStatus
from app.orders import service
from app.orders.schemas import NUMBER
from app.orders.service import StatusMove


async def visible_order(session: SessionDep, principal: AnyPrincipal, order_id: uuid.UUID) -> Order:
    """The order in the path, with its lines and history, if this key may see it (404
    otherwise, whether or not it exists)."""
    return await service.get_visible_order(session, principal, order_id)


VisibleOrder = Annotated[Order, Depends(visible_order)]

OrderNumber = Annotated[
    str,
    Path(
        pattern=NUMBER,
        description="The order's number, e.g. `LS251103-7K3F9QXA` (case aside).",
    ),
]


async def visible_order_by_number(
    session: SessionDep, principal: AnyPrincipal, number: OrderNumber
) -> Order:
    """The order with the number in the path, as `visible_order`."""
    return await service.get_visible_order_by_number(session, principal, number)


VisibleOrderByNumber = Annotated[Order, Depends(visible_order_by_number)]


def status_move(to_status: OrderStatus) -> Callable[..., Awaitable[StatusMove]]:
    """A dependency: moving the visible order to `to_status` now, if this key may (403
    otherwise)."""

    async def dependency(
        order: VisibleOrder, principal: AnyPrincipal, clock: ClockDep, zone: ZoneDep
    ) -> StatusMove:
        service.ensure_may_move(principal, order, to_status)
        return StatusMove(
            order=order, to_status=to_status, by=principal, now=clock.now(), zone=zone
        )

    dependency.__name__ = f"move_to_{to_status.value}"
    return dependency


ToConfirmed = Annotated[StatusMove, Depends(status_move(OrderStatus.confirmed))]
ToFulfilled = Annotated[StatusMove, Depends(status_move(OrderStatus.fulfilled))]
ToCancelled = Annotated[StatusMove, Depends(status_move(OrderStatus.cancelled))]
