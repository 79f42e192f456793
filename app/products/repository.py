"""Product queries. A product's stars are computed here, in SQL, from its certificates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, case, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager

from app.core.pagination import Ordering, SortKey
from app.core.text import fold, like_pattern, search_terms
from app.models.event import EventProduct
from app.models.owner import Owner
from app.models.product import Certificate, Product, ProductGroup, ProductStatus

CERTIFIED_STARS = 3


class ProductSort(StrEnum):
    newest = "newest"
    name = "name"
    price = "price"
    price_desc = "-price"
    stars = "stars"


def current_stars(today: date) -> ColumnElement[int | None]:
    """The stars of the product's latest certificate valid on `today`, if 3 or more; else NULL.

    Latest by `issued_on`, then `created_at`: a newer evaluation replaces an older one whether it
    raises or lowers the stars, and a newer one below 3 stars means "not certified" (NULL).
    Correlated to `Product`, so it serves as a column, a filter and a sort key alike.
    """
    return (
        select(case((Certificate.stars >= CERTIFIED_STARS, Certificate.stars), else_=None))
        .where(
            Certificate.product_id == Product.id,
            Certificate.issued_on <= today,
            Certificate.valid_until >= today,
        )
        .order_by(Certificate.issued_on.desc(), Certificate.created_at.desc())
        .limit(1)
        .correlate(Product)
        .scalar_subquery()
    )


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
