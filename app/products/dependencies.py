"""The product a write acts on: loaded FOR UPDATE (404), "admin, or this owner's key" (403)
and, for edits, `If-Match` (412), in that order, so routers never repeat it.

Each dependency also takes the write's other inputs (its body, `Accept-Language`): FastAPI
validates a dependency's parameters before calling it, but calls it even when a sibling's
failed, so only this way is a bad input still 422 before any of these checks, as it was when
the routes made them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import AdminOrOwner, Principal
from app.core.db import SessionDep
from app.core.http import check_if_match
from app.core.i18n import LanguageDep, LanguagePreference
from app.core.zones import TodayDep
from app.models.product import Product
from app.products import service
from app.products.schemas import ProductUpdate, Rated, StockAdjustment

B = TypeVar("B")


@dataclass(frozen=True)
class ProductWrite(Generic[B]):
    """A write by admin or the product's owner: the product, row-locked; what the request body
    asks (None without one); the languages the caller reads the answer in."""

    product: Product
    body: B
    languages: LanguagePreference


async def _owned_for_update(
    session: AsyncSession, principal: Principal, today: date, product_id: uuid.UUID
) -> Rated:
    rated = await service.get_product(session, product_id, today, for_update=True)
    service.ensure_owner_may_act_for(principal, rated[0].owner_id)
    return rated


async def owned_product_for_update(
    session: SessionDep,
    principal: AdminOrOwner,
    today: TodayDep,
    languages: LanguageDep,
    product_id: uuid.UUID,
) -> ProductWrite[None]:
    product, _stars = await _owned_for_update(session, principal, today, product_id)
    return ProductWrite(product, None, languages)


OwnedProductForUpdate = Annotated[ProductWrite[None], Depends(owned_product_for_update)]
"""The product row-locked for a write by admin or its owner's key (404, 403)."""


async def product_update(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    today: TodayDep,
    languages: LanguageDep,
    product_id: uuid.UUID,
    body: ProductUpdate,
) -> ProductWrite[ProductUpdate]:
    rated = await _owned_for_update(session, principal, today, product_id)
    # Against the product's version, whatever language the tag was read in.
    check_if_match(request, service.version(*rated))
    return ProductWrite(rated[0], body, languages)


OwnedProductUpdate = Annotated[ProductWrite[ProductUpdate], Depends(product_update)]
"""`PATCH`: the product as `OwnedProductForUpdate` (404, 403), at the version `If-Match`
names (412)."""


async def stock_adjustment(
    session: SessionDep,
    principal: AdminOrOwner,
    today: TodayDep,
    languages: LanguageDep,
    product_id: uuid.UUID,
    body: StockAdjustment,
) -> ProductWrite[StockAdjustment]:
    product, _stars = await _owned_for_update(session, principal, today, product_id)
    return ProductWrite(product, body, languages)


OwnedStockAdjustment = Annotated[ProductWrite[StockAdjustment], Depends(stock_adjustment)]
"""A stock adjustment of the product as `OwnedProductForUpdate` (404, 403)."""
