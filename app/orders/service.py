"""Orders: placing them (prices, stock), moving their status, and who may see and do what.

Who may do what (also in README):
- place: partner and admin keys.
- read: admins every order; a partner the orders it placed; an owner the orders that contain
  one of its products. Anyone else gets 404, so an order's existence does not leak.
- confirm and fulfil: admins, and an owner key when every line of the order is its own product
  (it is the seller). Partners may not (403).
- cancel (pending or confirmed only): admins, the partner that placed the order, and an owner
  key when every line is its own. Cancelling returns the stock, exactly once.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.core import metrics
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.models.api_key import Role
from app.models.event import EventStatus
from app.models.order import Order, OrderChannel, OrderLine, OrderStatus, OrderStatusChange
from app.models.product import Product, ProductStatus
from app.orders import repository
from app.orders.schemas import OrderCreate, order_read
from app.products import stock
from app.webhooks.outbox import emit

NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    title = "Insufficient stock"


def line_total(quantity: Decimal, unit_price_vnd: int) -> int:
    """quantity x unit price, rounded half up to a whole VND (VND has no minor unit)."""
    return int((quantity * unit_price_vnd).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def new_number(now: datetime, zone: ZoneInfo) -> str:
    """LS + local date + 8 random base32 characters (40 bits): LS251103-7K3F9QXA."""
    suffix = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"LS{now.astimezone(zone):%y%m%d}-{suffix}"


def _merge_items(data: OrderCreate) -> dict[uuid.UUID, Decimal]:
    merged: dict[uuid.UUID, Decimal] = {}
    for item in data.items:
        merged[item.product_id] = merged.get(item.product_id, Decimal(0)) + item.quantity
    return merged


def _item_errors(
    data: OrderCreate, product_id: uuid.UUID, msg: str, kind: str
) -> list[dict[str, Any]]:
    return [
        {"loc": ["body", "items", i, "product_id"], "msg": msg, "type": kind}
        for i, item in enumerate(data.items)
        if item.product_id == product_id
    ]


async def place_order(
    session: AsyncSession,
    principal: Principal,
    data: OrderCreate,
    *,
    now: datetime,
    zone: ZoneInfo,
    low_stock: Decimal,
) -> Order:
    """Check, price and place an order, taking its stock in the same transaction.

    Everything is read and written first; the stock is taken last (a conditional UPDATE, which
    row-locks the product until commit), so a best-selling product stays locked only for the
    end of each order's transaction and concurrent orders for it queue as briefly as possible.
    """
    quantities = _merge_items(data)
    products = await repository.get_products(session, list(quantities))

    missing = [pid for pid in quantities if pid not in products]
    if missing:
        errors = [
            e
            for pid in missing
            for e in _item_errors(data, pid, "no such product", "unknown_product")
        ]
        raise Unprocessable(
            f"{len(missing)} product(s) do not exist.", code="unknown_product", errors=errors
        )
    archived = [
        products[pid] for pid in quantities if products[pid].status is not ProductStatus.active
    ]
    if archived:
        raise Conflict(
            "Archived products cannot be ordered: " + ", ".join(p.name for p in archived),
            code="product_unavailable",
            product_ids=[str(p.id) for p in archived],
        )
    bad_steps = [pid for pid, q in quantities.items() if q % products[pid].unit_step != 0]
    if bad_steps:
        errors = [
            {
                "loc": ["body", "items", i, "quantity"],
                "msg": f"must be a multiple of {products[item.product_id].unit_step} "
                f"{products[item.product_id].unit}",
                "type": "unit_step",
            }
            for i, item in enumerate(data.items)
            if item.product_id in bad_steps
        ]
        raise Unprocessable(
            "Quantities must be multiples of each product's unit_step.",
            code="invalid_quantity",
            errors=errors,
        )

    prices = {pid: products[pid].price_vnd for pid in quantities}
    channel = data.channel or (OrderChannel.event if data.event_id else OrderChannel.online)
    if data.event_id is not None:
        prices = await _event_prices(session, data, products, now)
    elif channel is OrderChannel.event:
        raise Unprocessable(
            "An order on the event channel needs an event_id.",
            code="event_required",
            errors=[
                {
                    "loc": ["body", "event_id"],
                    "msg": "required for channel event",
                    "type": "missing",
                }
            ],
        )

    _refuse_if_short(products, quantities)  # without waiting for any lock

    lines = [
        OrderLine(
            position=position,
            product_id=pid,
            owner_id=products[pid].owner_id,
            product_name=products[pid].name,
            unit=products[pid].unit,
            quantity=quantity,
            unit_price_vnd=prices[pid],
            line_total_vnd=line_total(quantity, prices[pid]),
        )
        for position, (pid, quantity) in enumerate(quantities.items())
    ]
    order = Order(
        id=uuid.uuid4(),
        number=new_number(now, zone),
        status=OrderStatus.pending,
        channel=channel,
        event_id=data.event_id,
        placed_by_key_id=principal.key_id,
        customer_name=data.customer.name,
        customer_phone=data.customer.phone,
        customer_email=data.customer.email,
        customer_country=data.customer.country,
        note=data.note,
        total_vnd=sum(line.line_total_vnd for line in lines),
        created_at=now,
        updated_at=now,
        lines=lines,
        history=[
            OrderStatusChange(to_status=OrderStatus.pending, at=now, by_key_id=principal.key_id)
        ],
    )
    session.add(order)
    await session.flush()
    await emit(
        session,
        "order.created",
        order_read(order).model_dump(mode="json"),
        owner_ids={line.owner_id for line in lines},
        partner_key_id=order.placed_by_key_id,
    )
    await _take_stock(session, products, quantities, low_stock)
    metrics.ORDERS_PLACED.labels(channel.value).inc()
    return order


async def _event_prices(
    session: AsyncSession, data: OrderCreate, products: dict[uuid.UUID, Product], now: datetime
) -> dict[uuid.UUID, int]:
    """The price of each product at the order's event, checking it takes orders and sells them."""
    assert data.event_id is not None
    event = await repository.get_event(session, data.event_id)
    if event is None:
        raise Unprocessable(
            f"No event {data.event_id}.",
            code="unknown_event",
            errors=[{"loc": ["body", "event_id"], "msg": "no such event", "type": "unknown_event"}],
        )
    status = event.status_at(now)
    if status in (EventStatus.cancelled, EventStatus.ended):
        raise Conflict(f"The event is {status}; it takes no more orders.", code="event_closed")
    entries = await repository.event_entries(session, event.id, list(products))
    absent = [pid for pid in products if pid not in entries]
    if absent:
        errors = [
            e
            for pid in absent
            for e in _item_errors(data, pid, "not sold at this event", "not_at_event")
        ]
        raise Conflict(
            f"{len(absent)} product(s) are not sold at this event.",
            code="product_not_at_event",
            errors=errors,
        )
    return {
        pid: entry.event_price_vnd if entry.event_price_vnd is not None else products[pid].price_vnd
        for pid, entry in entries.items()
    }


async def _warn_if_low(
    session: AsyncSession, product: Product, left: Decimal, taken: Decimal, threshold: Decimal
) -> None:
    """`stock.low` to the owner when an order takes the stock down to the threshold or below
    (once, as it crosses, not on every later order)."""
    if left + taken > threshold >= left:
        await emit(
            session,
            "stock.low",
            {
                "product_id": str(product.id),
                "name": product.name,
                "unit": product.unit.value,
                "stock": _number(left),
                "threshold": _number(threshold),
            },
            owner_ids=[product.owner_id],
        )


def _insufficient(shortfalls: list[tuple[Product, Decimal, Decimal]]) -> InsufficientStock:
    metrics.INSUFFICIENT_STOCK.inc()
    return InsufficientStock(
        "Not enough stock for: " + ", ".join(p.name for p, _, _ in shortfalls),
        items=[
            {
                "product_id": str(p.id),
                "name": p.name,
                "unit": p.unit.value,
                "requested": _number(requested),
                "available": _number(available),
            }
            for p, requested, available in shortfalls
        ],
    )


def _refuse_if_short(
    products: dict[uuid.UUID, Product], quantities: dict[uuid.UUID, Decimal]
) -> None:
    """Refuse at once what the stock as read cannot cover (the UPDATE decides the rest)."""
    short = [
        (products[pid], q, stock)
        for pid, q in quantities.items()
        if (stock := products[pid].stock) is not None and stock < q
    ]
    if short:
        raise _insufficient(short)


async def _take_stock(
    session: AsyncSession,
    products: dict[uuid.UUID, Product],
    quantities: dict[uuid.UUID, Decimal],
    low_stock: Decimal,
) -> None:
    """Take every tracked stock or none, in id order (so concurrent orders cannot deadlock).

    Each take is `UPDATE ... SET stock = stock - q WHERE stock >= q`: atomic whatever the number
    of processes. If one fails, the caller's transaction rolls back what was already taken, and
    every product short at this moment is reported.
    """
    tracked = sorted(pid for pid in quantities if products[pid].stock is not None)
    left: dict[uuid.UUID, Decimal] = {}
    for pid in tracked:
        remaining = await stock.take(session, pid, quantities[pid])
        if remaining is None:
            current = await stock.levels(session, tracked)
            short = [
                (products[p], quantities[p], current.get(p) or Decimal(0))
                for p in tracked
                if p not in left and (current.get(p) or Decimal(0)) < quantities[p]
            ]
            if not short:  # enough stock, so it was archived meanwhile
                raise Conflict(
                    f"{products[pid].name} was archived meanwhile and cannot be ordered.",
                    code="product_unavailable",
                    product_ids=[str(pid)],
                )
            raise _insufficient(short)
        left[pid] = remaining
    for pid, remaining in left.items():
        await _warn_if_low(session, products[pid], remaining, quantities[pid], low_stock)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


async def get_visible_order(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID
) -> Order:
    """The order if this key may see it; 404 otherwise, whether or not it exists."""
    order = await repository.get(session, order_id)
    if order is None or not await _can_see(session, principal, order):
        raise NotFound(f"No order {order_id}.")
    return order


async def _can_see(session: AsyncSession, principal: Principal, order: Order) -> bool:
    if principal.role is Role.admin:
        return True
    if principal.role is Role.partner:
        return order.placed_by_key_id == principal.key_id
    return principal.owner_id in {line.owner_id for line in order.lines}


async def list_orders(
    session: AsyncSession,
    principal: Principal,
    *,
    status: OrderStatus | None,
    event_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Order], str | None]:
    clauses: list[Any] = []
    if principal.role is Role.partner:
        clauses += repository.visible_to(placed_by_key_id=principal.key_id)
    elif principal.role is Role.owner:
        clauses += repository.visible_to(owner_id=principal.owner_id)
    if status is not None:
        clauses.append(Order.status == status)
    if event_id is not None:
        clauses.append(Order.event_id == event_id)
    return await repository.page(session, clauses=clauses, cursor=cursor, limit=limit)


_MOVES: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.confirmed: (OrderStatus.pending,),
    OrderStatus.fulfilled: (OrderStatus.confirmed,),
    OrderStatus.cancelled: (OrderStatus.pending, OrderStatus.confirmed),
}


def _ensure_may_move(principal: Principal, order: Order, to_status: OrderStatus) -> None:
    if principal.role is Role.admin:
        return
    if principal.role is Role.partner:
        if to_status is OrderStatus.cancelled:
            return  # it can see the order, so it placed it
        raise Forbidden(f"A partner key may not mark an order {to_status}.", code="forbidden_role")
    owners = {line.owner_id for line in order.lines}
    if owners != {principal.owner_id}:
        raise Forbidden(
            "This order also holds other owners' products; only an admin may change it.",
            code="order_has_other_owners",
        )


async def move(
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    to_status: OrderStatus,
    *,
    now: datetime,
) -> Order:
    """confirm, fulfil or cancel; a cancel returns the stock. Racing moves: one wins, the
    others get 409, so stock is returned exactly once."""
    order = await get_visible_order(session, principal, order_id)
    _ensure_may_move(principal, order, to_status)
    allowed = _MOVES[to_status]
    previous = await repository.transition(
        session, order.id, from_statuses=allowed, to_status=to_status, now=now
    )
    if previous is None:
        current = await repository.get(session, order.id)
        state = current.status if current else "gone"
        raise Conflict(
            f"An order that is {state} cannot become {to_status}.", code="invalid_transition"
        )
    if to_status is OrderStatus.cancelled:
        # In product id order, as stock is taken, so a cancel and an order cannot deadlock.
        for line in sorted(order.lines, key=lambda line: line.product_id):
            await stock.give_back(session, line.product_id, line.quantity)
    await session.flush()
    refreshed = await repository.get(session, order.id)
    assert refreshed is not None
    await emit(
        session,
        f"order.{to_status.value}",
        order_read(refreshed).model_dump(mode="json"),
        owner_ids={line.owner_id for line in refreshed.lines},
        partner_key_id=refreshed.placed_by_key_id,
    )
    return refreshed
