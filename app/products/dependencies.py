"""The product a write acts on: loaded FOR UPDATE (404), "admin, or this owner's key" (403),
and, for edits, `If-Match` (412), in that order, so routers never repeat it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from app.api_keys.auth import AdminOrOwner
from app.core.db import SessionDep
from app.core.http import check_if_match
from app.core.i18n import LanguageDep
from app.core.zones import TodayDep
from app.models.product import Product
from app.products import service
from app.products.schemas import Rated


async def owned_rated_for_update(
    session: SessionDep, principal: AdminOrOwner, today: TodayDep, product_id: uuid.UUID
) -> Rated:
    """The product, row-locked, with its stars, if the key may act for its owner."""
    rated = await service.get_product(session, product_id, today, for_update=True)
    service.ensure_owner_may_act_for(principal, rated[0].owner_id)
    return rated


OwnedRatedForUpdate = Annotated[Rated, Depends(owned_rated_for_update)]


async def owned_product_for_update(rated: OwnedRatedForUpdate) -> Product:
    return rated[0]


OwnedProductForUpdate = Annotated[Product, Depends(owned_product_for_update)]
"""The product row-locked for a write by admin or its owner's key (404, 403)."""


async def owned_product_if_match(
    request: Request, rated: OwnedRatedForUpdate, languages: LanguageDep
) -> Product:
    # The tag is of the representation the caller reads, in its language.
    check_if_match(request, service.read(*rated, languages))
    return rated[0]


OwnedProductIfMatch = Annotated[Product, Depends(owned_product_if_match)]
"""As `OwnedProductForUpdate`, and the caller's `If-Match` names its current version (412)."""
