from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from app.api_keys.auth import AdminPrincipal
from app.certificates import service
from app.certificates.schemas import CertificateCreate, CertificateRead
from app.core.db import SessionDep, TransactionRoute
from app.core.openapi import responses
from app.core.pagination import Page, PageQuery
from app.core.query import query_model
from app.core.zones import TodayDep

router = APIRouter(
    prefix="/v1/products/{product_id:uuid}/certificates",
    tags=["certificates"],
    route_class=TransactionRoute,
)


@router.get("", response_model=Page[CertificateRead], responses=responses(404))
async def list_certificates(
    session: SessionDep, product_id: uuid.UUID, page: Annotated[PageQuery, query_model(PageQuery)]
) -> Page[CertificateRead]:
    """A product's OCOP certificate history, latest first."""
    certificates, next_cursor = await service.list_certificates(session, product_id, page)
    return Page[CertificateRead](
        items=[CertificateRead.model_validate(c) for c in certificates], next_cursor=next_cursor
    )


@router.post(
    "",
    response_model=CertificateRead,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 404, 409),
)
async def add_certificate(
    response: Response,
    session: SessionDep,
    _admin: AdminPrincipal,
    product_id: uuid.UUID,
    body: CertificateCreate,
    today: TodayDep,
) -> CertificateRead:
    """Record an OCOP certificate for a product (admin); the product's stars follow from it."""
    certificate = await service.certify(session, product_id, body, today)
    response.headers["Location"] = f"/v1/products/{product_id}/certificates"
    return CertificateRead.model_validate(certificate)
