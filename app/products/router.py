from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.api_keys.auth import AdminOrOwner
from app.core.db import SessionDep
from app.core.http import check_if_match, conditional_json
from app.core.i18n import LanguageDep, language_headers
from app.core.openapi import responses
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.core.schemas import QUERY_TEXT
from app.core.zones import TodayDep
from app.models.product import ProductGroup, ProductStatus
from app.products import service
from app.products.repository import ProductSort
from app.products.schemas import (
    MAX_PRICE_VND,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    StockAdjustment,
)

router = APIRouter(prefix="/v1/products", tags=["products"])


def _single(
    request: Request, rated: service.Rated, languages: LanguageDep, status_code: int = 200
) -> Response:
    model = service.read(*rated, languages)
    headers = language_headers([model.language])
    if status_code == status.HTTP_201_CREATED:
        headers["Location"] = f"/v1/products/{model.id}"
    return conditional_json(request, model, status_code=status_code, headers=headers)


@router.get("", response_model=Page[ProductRead])
async def list_products(
    response: Response,
    session: SessionDep,
    today: TodayDep,
    languages: LanguageDep,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=QUERY_TEXT,
            description="Words in the name, a translation or the owner's name; accents optional.",
        ),
    ] = None,
    group: Annotated[ProductGroup | None, Query(description="Only this OCOP group.")] = None,
    min_stars: Annotated[
        int | None, Query(ge=1, le=5, description="Only products with at least these stars.")
    ] = None,
    certified: Annotated[
        bool | None,
        Query(description="true: only products with a valid 3+ star certificate; false: without."),
    ] = None,
    commune: Annotated[
        str | None,
        Query(max_length=100, pattern=QUERY_TEXT, description="Commune, accents optional."),
    ] = None,
    owner_id: Annotated[uuid.UUID | None, Query(description="Only this owner's.")] = None,
    event_id: Annotated[
        uuid.UUID | None, Query(description="Only products entered in this event.")
    ] = None,
    min_price_vnd: Annotated[int | None, Query(ge=0, le=MAX_PRICE_VND)] = None,
    max_price_vnd: Annotated[int | None, Query(ge=0, le=MAX_PRICE_VND)] = None,
    sort: Annotated[
        ProductSort,
        Query(description="newest (default), name, price, -price (dearest first) or stars."),
    ] = ProductSort.newest,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[ProductRead]:
    """List active products; `q` and filters combine."""
    rated, next_cursor = await service.list_products(
        session,
        today,
        sort=sort,
        cursor=cursor,
        limit=limit,
        q=q,
        group=group,
        min_stars=min_stars,
        certified=certified,
        commune=commune,
        owner_id=owner_id,
        event_id=event_id,
        min_price_vnd=min_price_vnd,
        max_price_vnd=max_price_vnd,
    )
    items = [service.read(product, stars, languages) for product, stars in rated]
    # The languages this page's names and descriptions are in (RFC 9110 allows a list).
    response.headers.update(language_headers(item.language for item in items))
    return Page[ProductRead](items=items, next_cursor=next_cursor)


@router.post(
    "",
    response_model=ProductRead,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 404),
)
async def create_product(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    today: TodayDep,
    languages: LanguageDep,
    body: ProductCreate,
) -> Response:
    """Create a product (admin, or an owner key for its own owner)."""
    rated = await service.create_product(session, principal, body, today)
    return _single(request, rated, languages, status.HTTP_201_CREATED)


@router.get("/{product_id:uuid}", response_model=ProductRead, responses=responses(304, 404))
async def get_product(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    languages: LanguageDep,
    product_id: uuid.UUID,
) -> Response:
    """Read one product (archived ones too), in the caller's best language."""
    return _single(request, await service.get_product(session, product_id, today), languages)


@router.patch(
    "/{product_id:uuid}", response_model=ProductRead, responses=responses(401, 403, 404, 412)
)
async def update_product(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    today: TodayDep,
    languages: LanguageDep,
    product_id: uuid.UUID,
    body: ProductUpdate,
) -> Response:
    """Update a product (admin, or its owner's key); honours `If-Match`."""
    product, stars = await service.get_product(session, product_id, today, for_update=True)
    service.ensure_owner_may_act_for(principal, product.owner_id)
    check_if_match(request, service.read(product, stars, languages))
    rated = await service.update_product(session, principal, product, body, today)
    return _single(request, rated, languages)


async def _set_status(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    today: TodayDep,
    languages: LanguageDep,
    product_id: uuid.UUID,
    new_status: ProductStatus,
) -> Response:
    product, _stars = await service.get_product(session, product_id, today, for_update=True)
    service.ensure_owner_may_act_for(principal, product.owner_id)
    rated = await service.set_status(session, product, new_status, today)
    return _single(request, rated, languages)


@router.post(
    "/{product_id:uuid}/archive", response_model=ProductRead, responses=responses(401, 403, 404)
)
async def archive_product(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    today: TodayDep,
    languages: LanguageDep,
    product_id: uuid.UUID,
) -> Response:
    """Archive a product (admin or its owner): out of public lists, still readable by id."""
    return await _set_status(
        request, session, principal, today, languages, product_id, ProductStatus.archived
    )


@router.post(
    "/{product_id:uuid}/restore", response_model=ProductRead, responses=responses(401, 403, 404)
)
async def restore_product(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    today: TodayDep,
    languages: LanguageDep,
    product_id: uuid.UUID,
) -> Response:
    """Restore an archived product to the public lists (admin or its owner)."""
    return await _set_status(
        request, session, principal, today, languages, product_id, ProductStatus.active
    )


@router.post(
    "/{product_id:uuid}/stock-adjustments",
    response_model=ProductRead,
    responses=responses(401, 403, 404, 409),
)
async def adjust_stock(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    today: TodayDep,
    languages: LanguageDep,
    product_id: uuid.UUID,
    body: StockAdjustment,
) -> Response:
    """Add or remove stock, exactly (admin or its owner); never below zero."""
    product, _stars = await service.get_product(session, product_id, today, for_update=True)
    service.ensure_owner_may_act_for(principal, product.owner_id)
    rated = await service.adjust_stock(session, product, body.delta, today)
    return _single(request, rated, languages)
