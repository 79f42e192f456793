"""Order rows: the orders a key may see, their pages and status moves; and the products and
event entries an order is checked and priced against."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Select, Uuid, bindparam, exists, insert, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.base import ExecutableOption
from sqlalchemy.sql.elements import ColumnElement

from app.api_keys.auth import Principal
from app.core import changes, direct, upsert
from app.core.orm import utcnow
from app.core.pagination import Ordering, SortKey
from app.core.repository import Repository
from app.models.api_key import Role
from app.models.event import Event, EventProduct
from app.models.order import Order, OrderLine, OrderStatus, OrderStatusChange
from app.models.product import Product, ProductStatus, Unit
from app.models.sales import EventSales
from app.orders.schemas import MAX_LINES, NewLine, NewOrder, OrderQuery

_SALES_KEY = ("event_id", "day", "product_id", "owner_id", "unit", "product_name")
_SALES_SUMS = ("lines", "quantity", "revenue_vnd", "orders", "owner_orders")


def event_sales_rows(
    event_id: uuid.UUID, day: date, lines: Sequence[OrderLine | NewLine], sign: int
) -> list[dict[str, Any]]:
    """What an order's `lines` add to its event's sums (`sign` 1), or take back (-1): one row
    per line. The order counts once, on its first line; once per owner, on that owner's first
    line."""
    ordered = sorted(lines, key=lambda line: line.position)
    owners_seen: set[uuid.UUID] = set()
    rows = []
    for i, line in enumerate(ordered):
        owner_first = line.owner_id not in owners_seen
        owners_seen.add(line.owner_id)
        rows.append(
            {
                "event_id": event_id,
                "day": day,
                "product_id": line.product_id,
                "owner_id": line.owner_id,
                "unit": line.unit,
                "product_name": line.product_name,
                "lines": sign,
                "quantity": sign * Decimal(line.quantity),
                "revenue_vnd": sign * line.line_total_vnd,
                "orders": sign if i == 0 else 0,
                "owner_orders": sign if owner_first else 0,
            }
        )
    return rows


def merged_sales_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` summed per key (one statement may not add to a row twice), in key order: so
    that concurrent orders lock the rows they share in the same order, and cannot deadlock."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in _SALES_KEY)
        if (sums := merged.get(key)) is None:
            merged[key] = dict(row)
        else:
            for name in _SALES_SUMS:
                sums[name] += row[name]
    return [merged[key] for key in sorted(merged, key=lambda key: tuple(map(str, key)))]


class OrderedProduct(NamedTuple):
    """What placing an order reads of a product: to check it, price it and write its line."""

    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    unit: Unit
    unit_step: Decimal
    price_vnd: int
    stock: Decimal | None
    status: ProductStatus


def _products_read(count: int) -> direct.Prepared:
    """The ordered products with `count` ids (`id0`, `id1`, ...)."""
    ids = [bindparam(f"id{i}", type_=Uuid()) for i in range(count)]
    columns = [getattr(Product, name) for name in OrderedProduct._fields]
    return direct.Prepared(select(*columns).where(Product.id.in_(ids)))


# An order has at most MAX_LINES products: one statement per count, built once.
_PRODUCTS = {count: _products_read(count) for count in range(1, MAX_LINES + 1)}


_ORDER = direct.columns_of(Order)
_orders: Any = Order.__table__
_lines: Any = OrderLine.__table__
_changes: Any = OrderStatusChange.__table__
# The (reference, key) taken is no error, but no row.
_INSERT_ORDER = direct.Prepared(
    upsert.insert(_orders)
    .values(direct.bound_columns(_orders))
    .on_conflict_do_nothing(index_elements=["reference", "placed_by_key_id"])
    .returning(_orders.c.id)
)
_INSERT_LINES = direct.Prepared(insert(_lines).values(direct.bound_columns(_lines)))
_INSERT_CHANGES = direct.Prepared(insert(_changes).values(direct.bound_columns(_changes)))


NEWEST = Ordering(
    "newest",
    (
        SortKey(Order.created_at, datetime, descending=True),
        SortKey(Order.id, uuid.UUID, descending=True),
    ),
)


def visible_to(principal: Principal) -> list[ColumnElement[bool]]:
    """Who sees which orders, the one rule: admins all; a partner the orders it placed; an
    owner the orders holding one of its products."""
    if principal.role is Role.admin:
        return []
    if principal.role is Role.partner:
        return [Order.placed_by_key_id == principal.key_id]
    return [
        exists().where(OrderLine.order_id == Order.id, OrderLine.owner_id == principal.owner_id)
    ]


class OrderRepository(Repository[Order]):
    model = Order
    noun = "order"

    def options(self) -> Sequence[ExecutableOption]:
        return (selectinload(Order.lines), selectinload(Order.history))

    async def get_visible(self, order_id: uuid.UUID, principal: Principal) -> Order | None:
        """The order with its lines and history if `principal` may see it, else None."""
        return await self._visible_one(Order.id == order_id, principal)

    async def get_visible_by_number(self, number: str, principal: Principal) -> Order | None:
        """As `get_visible`, for the order with this number."""
        return await self._visible_one(Order.number == number, principal)

    async def _visible_one(self, which: ColumnElement[bool], principal: Principal) -> Order | None:
        stmt = (
            self.select()
            .where(which, *visible_to(principal))
            .options(*self.options())
            .execution_options(populate_existing=True)
        )
        order: Order | None = await self.session.scalar(stmt)
        return order

    async def insert_placed(self, order: NewOrder) -> bool:
        """Write a new order with its lines and status history, its `updated_at` stamped now;
        False, and nothing written, if its key already placed an order with its reference (the
        unique constraint decides between concurrent ones: the later waits for the earlier's
        transaction to end)."""
        changes.note_write(self.session)
        order.updated_at = utcnow()
        row = {name: getattr(order, key) for name, key in _ORDER}
        if not await direct.rows(self.session, _INSERT_ORDER, **row):
            return False
        for prepared, rows in ((_INSERT_LINES, order.lines), (_INSERT_CHANGES, order.history)):
            # The order's own rows: the columns of their table, their `order_id` the order's.
            values = [{**child._asdict(), "order_id": order.id} for child in rows]
            await direct.many(self.session, prepared, values)
        return True

    async def placed_with(self, key_id: uuid.UUID, reference: str) -> Order | None:
        """The order this key placed with this reference, if any."""
        stmt = select(Order).where(Order.placed_by_key_id == key_id, Order.reference == reference)
        return await self.session.scalar(stmt)

    def _matching(self, principal: Principal, query: OrderQuery) -> Select[Order]:
        """The orders `principal` may see that match `query`'s filters."""
        clauses: list[Any] = visible_to(principal)
        if query.status is not None:
            clauses.append(Order.status == query.status)
        if query.event_id is not None:
            clauses.append(Order.event_id == query.event_id)
        if query.reference is not None:
            clauses.append(Order.reference == query.reference)
        return self.select().where(*clauses).options(*self.options())

    async def page_visible(
        self, principal: Principal, query: OrderQuery
    ) -> tuple[list[Order], str | None]:
        """One page of the orders `principal` may see that match `query`, newest first."""
        return await self.page(self._matching(principal, query), NEWEST, query)

    async def changed_visible(
        self, principal: Principal, query: OrderQuery, horizon: datetime
    ) -> tuple[list[Order], str | None]:
        """One page of the change feed of the orders `principal` may see, every status."""
        return await self.changes(self._matching(principal, query), query, horizon)

    async def status_of(self, order_id: uuid.UUID) -> OrderStatus | None:
        return await self.session.scalar(select(Order.status).where(Order.id == order_id))

    async def transition(
        self,
        order_id: uuid.UUID,
        *,
        from_statuses: Sequence[OrderStatus],
        to_status: OrderStatus,
        now: datetime,
        by_key_id: uuid.UUID,
    ) -> OrderStatus | None:
        """Move the order's status atomically and record the change with the key that made it;
        the status it left, or None if it was not in `from_statuses` (someone else moved it
        first)."""
        previous = await self.session.scalar(
            select(Order.status).where(Order.id == order_id).with_for_update()
        )
        if previous is None or previous not in from_statuses:
            return None
        result = await self.session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == previous)
            .values(status=to_status)  # `onupdate` stamps updated_at as it is written
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
        if result.first() is None:
            return None
        self.session.add(
            OrderStatusChange(
                order_id=order_id,
                from_status=previous,
                to_status=to_status,
                at=now,
                by_key_id=by_key_id,
            )
        )
        return previous

    async def add_event_sales(self, rows: list[dict[str, Any]]) -> None:
        """Add `rows` (`event_sales_rows`) to the event sales sums in one statement: INSERT
        ... ON CONFLICT DO UPDATE adding to what is there, atomic against concurrent orders
        (PostgreSQL locks each row it adds to until commit; SQLite has one writer)."""
        if not rows:
            return
        stmt = upsert.insert(EventSales).values(rows)
        table = EventSales.__table__
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=list(_SALES_KEY),
                set_={name: table.c[name] + stmt.excluded[name] for name in _SALES_SUMS},
            )
        )

    # What an order is checked and priced against: rows of other domains, read-only here.

    async def products(self, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OrderedProduct]:
        ids: dict[str, Any] = {f"id{i}": product_id for i, product_id in enumerate(product_ids)}
        rows = await direct.rows(self.session, _PRODUCTS[len(ids)], **ids)
        return {row[0]: OrderedProduct(*row) for row in rows}

    async def event(self, event_id: uuid.UUID) -> Event | None:
        return await self.session.get(Event, event_id)

    async def event_entries(
        self, event_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, EventProduct]:
        rows = await self.session.scalars(
            select(EventProduct).where(
                EventProduct.event_id == event_id, EventProduct.product_id.in_(product_ids)
            )
        )
        return {entry.product_id: entry for entry in rows}
