from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from starlette.responses import Response

from app.api_keys.auth import AnyPrincipal, Principal, require
from app.core.changes import FeedHorizonDep
from app.core.config import settings_of
from app.core.db import SessionDep, TransactionRoute, session_of
from app.core.http import conditional_json
from app.core.openapi import responses
from app.core.pagination import Page
from app.core.query import query_model
from app.core.zones import zone_of
from app.idempotency.dependencies import IDEMPOTENCY_KEY_OPENAPI, IdempotentDep
from app.models.api_key import Role
from app.orders import service
from app.orders.dependencies import (
    ToCancelled,
    ToConfirmed,
    ToFulfilled,
    VisibleOrder,
    VisibleOrderByNumber,
)
from app.orders.schemas import OrderCreate, OrderQuery, OrderRead, order_read

router = APIRouter(
    prefix="/v1/orders",
    tags=["orders"],
    responses=responses(401, 403),
    route_class=TransactionRoute,
)

OrderPlacer = Annotated[Principal, Depends(require(Role.partner, Role.admin))]


@router.post(
    "",
    response_model=OrderRead,
    status_code=status.HTTP_201_CREATED,
    responses=responses(409),
    openapi_extra=IDEMPOTENCY_KEY_OPENAPI,
)
async def place_order(
    request: Request,
    principal: OrderPlacer,
    body: OrderCreate,
    idempotent: IdempotentDep,
) -> Response:
    """Place an order (partner or admin); needs an `Idempotency-Key`."""
    # The session, settings and zone read from the request, not dependencies of their own:
    # every order solves as few dependencies as it can.
    session = session_of(request)
    settings = settings_of(request)
    zone = zone_of(request)
    now = idempotent.now

    async def work() -> Response:
        placed = await service.place_order(
            session, principal, body, now=now, zone=zone, low_stock=settings.low_stock_threshold
        )
        return conditional_json(
            request,
            placed,
            status_code=status.HTTP_201_CREATED,
            headers={"Location": f"/v1/orders/{placed.id}"},
        )

    return await idempotent.run(
        api_key_id=principal.key_id, method="POST", path="/v1/orders", body=body, work=work
    )


@router.get("", response_model=Page[OrderRead])
async def list_orders(
    session: SessionDep,
    principal: AnyPrincipal,
    horizon: FeedHorizonDep,
    query: Annotated[OrderQuery, query_model(OrderQuery)],
) -> Page[OrderRead]:
    """List the orders this key may see, newest first, or every change (`updated_since`)."""
    orders, next_cursor = await service.list_orders(session, principal, query, horizon)
    return Page[OrderRead](items=[order_read(o) for o in orders], next_cursor=next_cursor)


@router.get("/by-number/{number}", response_model=OrderRead, responses=responses(304, 404))
async def get_order_by_number(request: Request, order: VisibleOrderByNumber) -> Response:
    """Find one order by its number, as reading it by id: 404 unless this key may see it."""
    return conditional_json(request, order_read(order))


@router.get("/{order_id}", response_model=OrderRead, responses=responses(304, 404))
async def get_order(request: Request, order: VisibleOrder) -> Response:
    """Read one order, with its lines and status history."""
    return conditional_json(request, order_read(order))


@router.post("/{order_id}/confirm", response_model=OrderRead, responses=responses(404, 409))
async def confirm_order(request: Request, session: SessionDep, move: ToConfirmed) -> Response:
    """Confirm a pending order (admin, or the owner of every line)."""
    return conditional_json(request, order_read(await service.move(session, move)))


@router.post("/{order_id}/fulfil", response_model=OrderRead, responses=responses(404, 409))
async def fulfil_order(request: Request, session: SessionDep, move: ToFulfilled) -> Response:
    """Mark a confirmed order fulfilled (admin, or the owner of every line)."""
    return conditional_json(request, order_read(await service.move(session, move)))


@router.post("/{order_id}/cancel", response_model=OrderRead, responses=responses(404, 409))
async def cancel_order(request: Request, session: SessionDep, move: ToCancelled) -> Response:
    """Cancel a pending or confirmed order and return its stock (admin, the partner that
    placed it, or the owner of every line)."""
    return conditional_json(request, order_read(await service.move(session, move)))
