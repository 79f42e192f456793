from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from app.api_keys.auth import AdminOrOwner
from app.core import jsontext
from app.core.changes import horizon_of
from app.core.db import SessionDep, TransactionRoute, session_of
from app.core.http import conditional_json
from app.core.i18n import LanguageDep, language_headers
from app.core.openapi import responses
from app.core.pagination import Page
from app.core.query import query_model
from app.core.zones import TodayDep, today_of
from app.models.product import ProductStatus
from app.products import service
from app.products.dependencies import (
    OwnedProductForUpdate,
    OwnedProductUpdate,
    OwnedStockAdjustment,
)
from app.products.schemas import (
    ProductCreate,
    ProductQuery,
    ProductRead,
    product_json,
)

router = APIRouter(prefix="/v1/products", tags=["products"], route_class=TransactionRoute)


def _single(
    request: Request,
    rated: service.Shown,
    languages: LanguageDep,
    status_code: int = 200,
) -> Response:
    model = service.read(*rated, languages)
    headers = language_headers(model.text_languages)
    if status_code == status.HTTP_201_CREATED:
        headers["Location"] = f"/v1/products/{model.id}"
    return conditional_json(
        request, model, version=service.version(*rated), status_code=status_code, headers=headers
    )


TEXT_LANGUAGES = ("language", "description_language")
"""The fields of a `ProductRead` that say which language its texts are in."""


@router.get("", response_model=Page[ProductRead])
async def list_products(
    request: Request,
    languages: LanguageDep,
    query: Annotated[ProductQuery, query_model(ProductQuery)],
) -> Response:
    """List active products (`q` and filters combine), or every change (`updated_since`)."""
    # The session, today and the feed's horizon read from the request, not dependencies of
    # their own: each would cost every catalogue page its solving (about 2% apiece).
    rated, next_cursor = await service.list_products(
        session_of(request), query, today_of(request), horizon_of(request)
    )
    items = [product_json(service.fields(product, stars, languages)) for product, stars in rated]
    # The languages this page's names and descriptions are in (RFC 9110 allows a list).
    languages_shown = (item[key] for item in items for key in TEXT_LANGUAGES if item[key])
    return Response(
        jsontext.dumps({"items": items, "next_cursor": next_cursor}),
        media_type="application/json",
        headers=language_headers(languages_shown),
    )


@router.post(
    "",
    response_model=ProductRead,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 404, 409),
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
    languages: LanguageDep,
    product_id: uuid.UUID,
) -> Response:
    """Read one product (archived ones too), in the caller's best language."""
    # As `list_products`: the session and today read from the request.
    rated = await service.read_product(session_of(request), product_id, today_of(request))
    return _single(request, rated, languages)


@router.patch(
    "/{product_id:uuid}",
    response_model=ProductRead,
    responses=responses(401, 403, 404, 409, 412),
)
async def update_product(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    today: TodayDep,
    write: OwnedProductUpdate,
) -> Response:
    """Update a product (admin, or its owner's key); honours `If-Match`."""
    rated = await service.update_product(session, principal, write.product, write.body, today)
    return _single(request, rated, write.languages)


def _status_change(new_status: ProductStatus, summary: str) -> Callable[..., Awaitable[Response]]:
    """An endpoint that moves the product to `new_status` (archive and restore)."""

    async def endpoint(
        request: Request, session: SessionDep, today: TodayDep, write: OwnedProductForUpdate
    ) -> Response:
        rated = await service.set_status(session, write.product, new_status, today)
        return _single(request, rated, write.languages)

    endpoint.__doc__ = summary
    return endpoint


for _action, _status, _summary in (
    (
        "archive",
        ProductStatus.archived,
        "Archive a product (admin or its owner): out of public lists, still readable by id.",
    ),
    (
        "restore",
        ProductStatus.active,
        "Restore an archived product to the public lists (admin or its owner).",
    ),
):
    router.post(
        f"/{{product_id:uuid}}/{_action}",
        response_model=ProductRead,
        responses=responses(401, 403, 404),
        name=f"{_action}_product",
    )(_status_change(_status, _summary))


@router.post(
    "/{product_id:uuid}/stock-adjustments",
    response_model=ProductRead,
    responses=responses(401, 403, 404, 409),
)
async def adjust_stock(
    request: Request, session: SessionDep, today: TodayDep, write: OwnedStockAdjustment
) -> Response:
    """Add or remove stock, exactly (admin or its owner); never below zero."""
    rated = await service.adjust_stock(session, write.product, write.body.delta, today)
    return _single(request, rated, write.languages)
