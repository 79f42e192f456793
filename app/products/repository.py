"""Product queries. A product's stars are computed here, in SQL, from its certificates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CompoundSelect, Select, func, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager

from app.core.pagination import Ordering, SortKey
from app.core.text import fold, like_pattern, search_terms
from app.models.event import EventProduct
from app.models.owner import Owner
from app.models.product import Product, ProductGroup, ProductStatus
from app.products.stars import current_stars


class ProductSort(StrEnum):
    newest = "newest"
    name = "name"
    price = "price"
    price_desc = "-price"
    stars = "stars"


def ordering(sort: ProductSort, today: date) -> Ordering:
    """The keyset ordering for a sort; every key is non-NULL and the id makes it unique."""
    by_id = SortKey(Product.id, uuid.UUID)
    keys: tuple[SortKey, ...]
    match sort:
        case ProductSort.newest:
            keys = (
                SortKey(Product.created_at, datetime, descending=True),
                SortKey(Product.id, uuid.UUID, descending=True),
            )
        case ProductSort.name:
            keys = (SortKey(Product.sort_name, str), by_id)
        case ProductSort.price:
            keys = (SortKey(Product.price_vnd, int), by_id)
        case ProductSort.price_desc:
            keys = (
                SortKey(Product.price_vnd, int, descending=True),
                SortKey(Product.id, uuid.UUID, descending=True),
            )
        case ProductSort.stars:
            keys = (
                SortKey(func.coalesce(current_stars(today), 0), int, descending=True),
                SortKey(Product.sort_name, str),
                by_id,
            )
    return Ordering(sort.value, keys)


def _with_owner_and_stars(today: date) -> Select[Any]:
    stmt: Select[Any] = (
        select(Product)
        .add_columns(current_stars(today).label("stars"))
        .join(Product.owner)
        .options(contains_eager(Product.owner))
    )
    return stmt


async def get(
    session: AsyncSession, product_id: uuid.UUID, today: date, *, for_update: bool = False
) -> tuple[Product, int | None] | None:
    stmt = (
        _with_owner_and_stars(today)
        .where(Product.id == product_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        stmt = stmt.with_for_update(of=Product)
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else (row[0], row[1])


async def stars_of(session: AsyncSession, product_id: uuid.UUID, today: date) -> int | None:
    stars: int | None = await session.scalar(
        select(current_stars(today)).select_from(Product).where(Product.id == product_id)
    )
    return stars


def filtered(
    today: date,
    *,
    q: str | None = None,
    group: ProductGroup | None = None,
    min_stars: int | None = None,
    certified: bool | None = None,
    commune: str | None = None,
    owner_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    min_price_vnd: int | None = None,
    max_price_vnd: int | None = None,
) -> Select[Any]:
    """Active products matching every given filter, with their owner and current stars."""
    stmt = _with_owner_and_stars(today).where(Product.status == ProductStatus.active)
    stars = current_stars(today)
    if group is not None:
        stmt = stmt.where(Product.group == group)
    if min_stars is not None:
        stmt = stmt.where(stars >= min_stars)
    if certified is True:
        stmt = stmt.where(stars.is_not(None))
    elif certified is False:
        stmt = stmt.where(stars.is_(None))
    if commune is not None:
        stmt = stmt.where(Product.commune_key == fold(commune))
    if owner_id is not None:
        stmt = stmt.where(Product.owner_id == owner_id)
    if event_id is not None:
        entered = select(EventProduct.product_id).where(EventProduct.event_id == event_id)
        stmt = stmt.where(Product.id.in_(entered))
    if min_price_vnd is not None:
        stmt = stmt.where(Product.price_vnd >= min_price_vnd)
    if max_price_vnd is not None:
        stmt = stmt.where(Product.price_vnd <= max_price_vnd)
    for term in search_terms(q or ""):
        stmt = stmt.where(Product.id.in_(_matching(term)))
    return stmt


def _matching(term: str) -> CompoundSelect[Any]:
    """Ids of products whose own text or whose owner's name contains the folded term.

    A union of two single-table searches rather than one OR across the join, so that on
    PostgreSQL each side can use its trigram index (an OR spanning two tables can use neither).
    """
    pattern = like_pattern(term)
    named, owned, owner = aliased(Product), aliased(Product), aliased(Owner)
    return union(
        select(named.id).where(named.search_text.like(pattern, escape="\\")),
        select(owned.id)
        .join(owner, owner.id == owned.owner_id)
        .where(owner.search_text.like(pattern, escape="\\")),
    )


async def page(
    session: AsyncSession, stmt: Select[Any], order: Ordering, cursor: str | None, limit: int
) -> tuple[list[tuple[Product, int | None]], str | None]:
    rows = (await session.execute(order.apply(stmt, cursor, limit))).all()
    items, next_cursor = order.page(rows, limit)
    return [(product, stars) for product, stars in items], next_cursor


async def find_by_owner_and_name(
    session: AsyncSession, owner_id: uuid.UUID, name: str
) -> Product | None:
    stmt = select(Product).where(Product.owner_id == owner_id, Product.sort_name == fold(name))
    return await session.scalar(stmt.order_by(Product.created_at).limit(1))


async def stock_levels(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Decimal | None]:
    rows = await session.execute(
        select(Product.id, Product.stock).where(Product.id.in_(product_ids))
    )
    return {row[0]: row[1] for row in rows}


async def take_stock(
    session: AsyncSession, product_id: uuid.UUID, quantity: Decimal
) -> Decimal | None:
    """Take `quantity` from an active product's tracked stock; what is left, or None (and
    nothing taken) if there is too little. The UPDATE row-locks the product until commit."""
    result = await session.execute(
        update(Product)
        .where(
            Product.id == product_id,
            Product.status == ProductStatus.active,
            Product.stock >= quantity,
        )
        .values(stock=Product.stock - quantity)
        .returning(Product.stock)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    return None if row is None else row[0]


async def return_stock(session: AsyncSession, product_id: uuid.UUID, quantity: Decimal) -> None:
    await session.execute(
        update(Product)
        .where(Product.id == product_id, Product.stock.is_not(None))
        .values(stock=Product.stock + quantity)
        .execution_options(synchronize_session=False)
    )
