"""Orders: placing them (prices, stock), moving their status, and who may see and do what.

Who may do what (also in README):
- place: partner and admin keys.
- read: admins every order; a partner the orders it placed; an owner the orders that contain
  one of its products. Anyone else gets 404, so an order's existence does not leak (the rule:
  `repository.visible_to`).
- confirm and fulfil: admins, and an owner key when every line of the order is its own product
  (it is the seller). Partners may not (403).
- cancel (pending or confirmed only): admins, the partner that placed the order, and an owner
  key when every line is its own. Cancelling returns the stock each line took (none where the
  stock was not tracked when it was ordered), exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.core import metrics
from app.core.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from app.core.references import new_reference
from app.models.api_key import Role
from app.models.event import Event, EventStatus
from app.models.order import Order, OrderChannel, OrderStatus
from app.models.product import Product, ProductStatus
from app.orders.repository import (
    OrderedProduct,
    OrderRepository,
    event_sales_rows,
    merged_sales_rows,
)
from app.orders.schemas import (
    MAX_QUANTITY,
    NewLine,
    NewOrder,
    NewStatusChange,
    OrderCreate,
    OrderQuery,
    OrderRead,
    order_read,
)
from app.products import stock
from app.webhooks.outbox import emit
from app.webhooks.schemas import StockLowData

Quantities = dict[uuid.UUID, Decimal]
"""How much of each product an order asks for, its items merged, in the order they came."""
Products = dict[uuid.UUID, OrderedProduct]


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    title = "Insufficient stock"


@dataclass(frozen=True)
class _ItemsRefused:
    """A refusal of some of an order's products: `error` saying how many products `what`,
    with an error (`msg`, `kind`) for each item naming one of them, product by product."""

    error: type[DomainError]
    what: str
    code: str
    msg: str
    kind: str

    def of(self, data: OrderCreate, product_ids: list[uuid.UUID]) -> DomainError:
        return self.error(
            f"{len(product_ids)} product(s) {self.what}.",
            code=self.code,
            errors=[
                {"loc": ["body", "items", i, "product_id"], "msg": self.msg, "type": self.kind}
                for product_id in product_ids
                for i, item in enumerate(data.items)
                if item.product_id == product_id
            ],
        )


_UNKNOWN_PRODUCTS = _ItemsRefused(
    Unprocessable,
    "do not exist",
    code="unknown_product",
    msg="no such product",
    kind="unknown_product",
)
_NOT_AT_EVENT = _ItemsRefused(
    Conflict,
    "are not sold at this event",
    code="product_not_at_event",
    msg="not sold at this event",
    kind="not_at_event",
)


def line_total(quantity: Decimal, unit_price_vnd: int) -> int:
    """quantity x unit price, rounded half up to a whole VND (VND has no minor unit)."""
    return int((quantity * unit_price_vnd).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def new_number(now: datetime, zone: ZoneInfo) -> str:
    """LS + local date + 8 random base32 characters (40 bits): LS251103-7K3F9QXA."""
    return new_reference("LS", now, zone)


def new_line(
    position: int,
    product: Product | OrderedProduct,
    quantity: Decimal,
    unit_price_vnd: int,
    *,
    stock_taken: Decimal,
) -> NewLine:
    """A line keeping the product's name, unit and owner as they are when it is ordered, and
    how much of its stock it takes (what a cancel gives back); as plain data (`OrderLine(
    **line._asdict())` is its ORM instance)."""
    return NewLine(
        id=uuid.uuid4(),
        position=position,
        product_id=product.id,
        owner_id=product.owner_id,
        product_name=product.name,
        unit=product.unit,
        quantity=quantity,
        stock_taken=stock_taken,
        unit_price_vnd=unit_price_vnd,
        line_total_vnd=line_total(quantity, unit_price_vnd),
    )


# Placing an order: each step checks one thing, in the order the errors are reported.


async def place_order(
    session: AsyncSession,
    principal: Principal,
    data: OrderCreate,
    *,
    now: datetime,
    zone: ZoneInfo,
    low_stock: Decimal,
) -> OrderRead:
    """Check, price and place an order, taking its stock in the same transaction; the order
    as read (its `order.created` message's data too).

    Everything is read and written first; the stock is taken last (a conditional UPDATE, which
    row-locks the product until commit), so a best-selling product stays locked only for the
    end of each order's transaction and concurrent orders for it queue as briefly as possible.
    """
    orders = OrderRepository(session)
    if data.reference is not None:
        await _ensure_reference_free(orders, principal, data.reference)
    quantities = _merge_items(data)
    products = await _orderable_products(orders, data, quantities)
    _check_quantities(data, products, quantities)
    channel = data.channel or (OrderChannel.event if data.event_id else OrderChannel.online)
    prices = await _prices(orders, data, products, channel, now)
    _refuse_if_short(products, quantities)  # without waiting for any lock
    lines = [
        new_line(
            position,
            products[pid],
            quantity,
            prices[pid],
            # Tracked stock (as read) is taken below, all of it or the order fails.
            stock_taken=quantity if products[pid].stock is not None else Decimal(0),
        )
        for position, (pid, quantity) in enumerate(quantities.items())
    ]
    order = _new_order(principal, data, channel, lines, now=now, zone=zone)
    if not await orders.insert_placed(order):  # placed meanwhile by a request of the same key
        assert data.reference is not None
        placed = await orders.placed_with(principal.key_id, data.reference)
        raise _reference_taken(placed, data.reference)
    read = await _announce(session, "order.created", order)
    await _take_stock(session, products, lines, low_stock)
    await add_event_sales(session, [order], zone, 1)  # after the stock: products, then sums
    metrics.ORDERS_PLACED.labels(channel.value).inc()
    return read


async def add_event_sales(
    session: AsyncSession, orders: Sequence[Order | NewOrder], zone: ZoneInfo, sign: int
) -> None:
    """Add event orders to their events' sales sums (`sign` 1), or take them back (-1, as they
    are cancelled), by the local day each was placed on, in one statement; none for orders
    without an event (the sums are only the events')."""
    rows = [
        row
        for order in orders
        if order.event_id is not None
        for row in event_sales_rows(
            order.event_id, order.created_at.astimezone(zone).date(), order.lines, sign
        )
    ]
    await OrderRepository(session).add_event_sales(merged_sales_rows(rows))


def _reference_taken(order: Order | None, reference: str) -> Conflict:
    """409 `reference_taken`, naming the order this key placed with the reference."""
    if order is None:  # only a rolled-back request held it: a retry may succeed
        return Conflict(
            f"Another order with reference {reference!r} was being placed; retry.",
            code="reference_taken",
        )
    return Conflict(
        f"This key already placed order {order.number} with reference {reference!r}.",
        code="reference_taken",
        order_id=str(order.id),
        number=order.number,
    )


async def _ensure_reference_free(
    orders: OrderRepository, principal: Principal, reference: str
) -> None:
    """409 if this key already placed an order with `reference` (the unique constraint
    decides between concurrent ones: `place_order`)."""
    placed = await orders.placed_with(principal.key_id, reference)
    if placed is not None:
        raise _reference_taken(placed, reference)


def _merge_items(data: OrderCreate) -> Quantities:
    merged: Quantities = {}
    for item in data.items:
        merged[item.product_id] = merged.get(item.product_id, Decimal(0)) + item.quantity
    return merged


async def _orderable_products(
    orders: OrderRepository, data: OrderCreate, quantities: Quantities
) -> Products:
    """The ordered products: 422 `unknown_product` if any is missing, then 409
    `product_unavailable` if any is archived."""
    products = await orders.products(list(quantities))
    missing = [pid for pid in quantities if pid not in products]
    if missing:
        raise _UNKNOWN_PRODUCTS.of(data, missing)
    archived = [
        products[pid] for pid in quantities if products[pid].status is not ProductStatus.active
    ]
    if archived:
        raise Conflict(
            "Archived products cannot be ordered: " + ", ".join(p.name for p in archived),
            code="product_unavailable",
            product_ids=[str(p.id) for p in archived],
        )
    return products


def _check_quantities(data: OrderCreate, products: Products, quantities: Quantities) -> None:
    """422 `invalid_quantity` naming each item off its product's unit step (each item, not only
    their sum: 0.3 + 0.2 of a 0.5 kg step is two wrong items), and every item of a product whose
    items come to more than `MAX_QUANTITY` together (as each item may not alone)."""
    errors: list[dict[str, Any]] = []
    for i, item in enumerate(data.items):
        product = products[item.product_id]
        loc = ["body", "items", i, "quantity"]
        if item.quantity % product.unit_step != 0:
            errors.append(
                {
                    "loc": loc,
                    "msg": f"must be a multiple of {product.unit_step} {product.unit}",
                    "type": "unit_step",
                }
            )
        if (merged := quantities[item.product_id]) > MAX_QUANTITY:
            errors.append(
                {
                    "loc": loc,
                    "msg": f"the items of this product come to {_number(merged)} {product.unit}, "
                    f"over the {MAX_QUANTITY} maximum",
                    "type": "max_quantity",
                }
            )
    if errors:
        raise Unprocessable(
            "Each quantity must be a multiple of its product's unit_step, and the items of one "
            f"product may come to at most {MAX_QUANTITY}.",
            code="invalid_quantity",
            errors=errors,
        )


async def _prices(
    orders: OrderRepository,
    data: OrderCreate,
    products: Products,
    channel: OrderChannel,
    now: datetime,
) -> dict[uuid.UUID, int]:
    """The unit price of each product: the event's where the order names one (see
    `_event_prices`), else the list price; the event channel needs an event."""
    if data.event_id is not None:
        event = await _open_event(orders, data.event_id, now)
        return await _event_prices(orders, data, event, products)
    if channel is OrderChannel.event:
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
    return {pid: product.price_vnd for pid, product in products.items()}


async def _open_event(orders: OrderRepository, event_id: uuid.UUID, now: datetime) -> Event:
    """The order's event: 422 `unknown_event` if there is none, 409 `event_closed` if it is
    cancelled or over."""
    event = await orders.event(event_id)
    if event is None:
        raise Unprocessable(
            f"No event {event_id}.",
            code="unknown_event",
            errors=[{"loc": ["body", "event_id"], "msg": "no such event", "type": "unknown_event"}],
        )
    status = event.status_at(now)
    if status in (EventStatus.cancelled, EventStatus.ended):
        raise Conflict(f"The event is {status}; it takes no more orders.", code="event_closed")
    return event


async def _event_prices(
    orders: OrderRepository, data: OrderCreate, event: Event, products: Products
) -> dict[uuid.UUID, int]:
    """The price of each product at `event` (its event price, else its list price); 409
    `product_not_at_event` if any is not entered in it."""
    entries = await orders.event_entries(event.id, list(products))
    absent = [pid for pid in products if pid not in entries]
    if absent:
        raise _NOT_AT_EVENT.of(data, absent)
    return {
        pid: entry.event_price_vnd if entry.event_price_vnd is not None else products[pid].price_vnd
        for pid, entry in entries.items()
    }


def _new_order(
    principal: Principal,
    data: OrderCreate,
    channel: OrderChannel,
    lines: list[NewLine],
    *,
    now: datetime,
    zone: ZoneInfo,
) -> NewOrder:
    """A pending order of `lines`, placed now by `principal`'s key."""
    return NewOrder(
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
        reference=data.reference,
        metadata_=dict(data.metadata),
        total_vnd=sum(line.line_total_vnd for line in lines),
        # When it was placed (the clock of the request); `updated_at` is stamped as it is
        # written, as every row's is, for the change feed (app.core.changes).
        created_at=now,
        updated_at=None,
        lines=lines,
        history=[
            NewStatusChange(
                id=uuid.uuid4(),
                from_status=None,
                to_status=OrderStatus.pending,
                at=now,
                by_key_id=principal.key_id,
            )
        ],
    )


async def _announce(session: AsyncSession, event_type: str, order: Order | NewOrder) -> OrderRead:
    """The order's webhook event, for admins, the partner that placed it and its lines' owners;
    the order as read, which it carries."""
    read = order_read(order)
    await emit(
        session,
        event_type,
        read.model_dump(mode="json"),
        owner_ids={line.owner_id for line in order.lines},
        partner_key_id=order.placed_by_key_id,
    )
    return read


# Stock: taken last, all or nothing.


def _refuse_if_short(products: Products, quantities: Quantities) -> None:
    """Refuse at once what the stock as read cannot cover (the UPDATE decides the rest)."""
    short = [
        (products[pid], q, stock)
        for pid, q in quantities.items()
        if (stock := products[pid].stock) is not None and stock < q
    ]
    if short:
        raise _insufficient(short)


async def _take_stock(
    session: AsyncSession, products: Products, lines: list[NewLine], low_stock: Decimal
) -> None:
    """Take each line's `stock_taken` or none of them, in product id order (so concurrent
    orders cannot deadlock).

    Each take is `UPDATE ... SET stock = stock - q WHERE stock >= q`: atomic whatever the number
    of processes. If one fails, the caller's transaction rolls back what was already taken (and
    the lines that recorded it).
    """
    quantities = {line.product_id: line.stock_taken for line in lines}
    tracked = sorted(pid for pid, taken in quantities.items() if taken > 0)
    left: dict[uuid.UUID, Decimal] = {}
    for pid in tracked:
        remaining = await stock.take(session, pid, quantities[pid])
        if remaining is None:
            raise await _not_taken(session, products, quantities, tracked, left, pid)
        left[pid] = remaining
    for pid, remaining in left.items():
        await _warn_if_low(session, products[pid], remaining, quantities[pid], low_stock)


async def _not_taken(
    session: AsyncSession,
    products: Products,
    quantities: Quantities,
    tracked: list[uuid.UUID],
    taken: dict[uuid.UUID, Decimal],
    failed: uuid.UUID,
) -> DomainError:
    """Why the stock of `failed` could not be taken: every product short at this moment (409
    `insufficient_stock`), or, with enough stock, that it was archived meanwhile."""
    current = await stock.levels(session, tracked)
    short = [
        (products[p], quantities[p], current.get(p) or Decimal(0))
        for p in tracked
        if p not in taken and (current.get(p) or Decimal(0)) < quantities[p]
    ]
    if short:
        return _insufficient(short)
    return Conflict(
        f"{products[failed].name} was archived meanwhile and cannot be ordered.",
        code="product_unavailable",
        product_ids=[str(failed)],
    )


async def _warn_if_low(
    session: AsyncSession,
    product: OrderedProduct,
    left: Decimal,
    taken: Decimal,
    threshold: Decimal,
) -> None:
    """`stock.low` to the owner when an order takes the stock down to the threshold or below
    (once, as it crosses, not on every later order)."""
    if left + taken > threshold >= left:
        data = StockLowData(
            product_id=product.id,
            name=product.name,
            unit=product.unit,
            stock=left,
            threshold=threshold,
        )
        await emit(
            session,
            "stock.low",
            data.model_dump(mode="json"),
            owner_ids=[product.owner_id],
        )


def _insufficient(shortfalls: list[tuple[OrderedProduct, Decimal, Decimal]]) -> InsufficientStock:
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


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# Reading orders.


async def get_visible_order(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID
) -> Order:
    """The order if this key may see it; 404 otherwise, whether or not it exists."""
    order = await OrderRepository(session).get_visible(order_id, principal)
    if order is None:
        raise OrderRepository.not_found(order_id)
    return order


async def get_visible_order_by_number(
    session: AsyncSession, principal: Principal, number: str
) -> Order:
    """The order with this number (case aside) if this key may see it; 404 otherwise."""
    number = number.upper()
    order = await OrderRepository(session).get_visible_by_number(number, principal)
    if order is None:
        raise NotFound(f"No order {number}.")
    return order


async def list_orders(
    session: AsyncSession, principal: Principal, query: OrderQuery, horizon: datetime
) -> tuple[list[Order], str | None]:
    """A page of the orders this key may see, newest first; with `updated_since`, a page of
    their change feed, every status, up to `horizon`."""
    orders = OrderRepository(session)
    if query.feed:
        return await orders.changed_visible(principal, query, horizon)
    return await orders.page_visible(principal, query)


# Moving an order's status.

_MOVES: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.confirmed: (OrderStatus.pending,),
    OrderStatus.fulfilled: (OrderStatus.confirmed,),
    OrderStatus.cancelled: (OrderStatus.pending, OrderStatus.confirmed),
}


def ensure_may_move(principal: Principal, order: Order, to_status: OrderStatus) -> None:
    """403 unless this key may move an order it can see to `to_status`: admins any; a partner
    only cancel (seeing the order, it placed it); an owner key when every line is its own."""
    if principal.role is Role.admin:
        return
    if principal.role is Role.partner:
        if to_status is OrderStatus.cancelled:
            return
        raise Forbidden(f"A partner key may not mark an order {to_status}.", code="forbidden_role")
    owners = {line.owner_id for line in order.lines}
    if owners != {principal.owner_id}:
        raise Forbidden(
            "This order also holds other owners' products; only an admin may change it.",
            code="order_has_other_owners",
        )


@dataclass(frozen=True)
class StatusMove:
    """A move of `order` to `to_status`, at `now`, by a key allowed to make it
    (`ensure_may_move`)."""

    order: Order
    to_status: OrderStatus
    by: Principal
    now: datetime
    zone: ZoneInfo
    """The province's zone: the local day of the order's event sales sums."""


async def move(session: AsyncSession, change: StatusMove) -> Order:
    """confirm, fulfil or cancel an order, recording the key that did; a cancel returns the
    stock. Racing moves: one wins, the others get 409, so stock is returned exactly once."""
    orders = OrderRepository(session)
    order, to_status = change.order, change.to_status
    previous = await orders.transition(
        order.id,
        from_statuses=_MOVES[to_status],
        to_status=to_status,
        now=change.now,
        by_key_id=change.by.key_id,
    )
    if previous is None:
        state = await orders.status_of(order.id) or "gone"
        raise Conflict(
            f"An order that is {state} cannot become {to_status}.", code="invalid_transition"
        )
    if to_status is OrderStatus.cancelled:
        # Exactly what each line took (nothing where the stock was not tracked then), in
        # product id order, as stock is taken, so a cancel and an order cannot deadlock.
        for line in sorted(order.lines, key=lambda line: line.product_id):
            if line.stock_taken > 0:
                await stock.give_back(session, line.product_id, line.stock_taken)
        # A cancelled order leaves its event's sales report (the only move that does).
        await add_event_sales(session, [order], change.zone, -1)
    await session.flush()
    moved = await orders.get_or_404(order.id)
    await _announce(session, f"order.{to_status.value}", moved)
    return moved
