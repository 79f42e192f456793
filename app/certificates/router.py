from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.api_keys.auth import AdminPrincipal
from app.certificates import service
from app.certificates.schemas import CertificateCreate, CertificateRead
from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.pagination import CursorQuery, LimitQuery, Page
from app.core.zones import TodayDep
from app.products import service as products

router = APIRouter(prefix="/v1/products/{product_id:uuid}/certificates", tags=["certificates"])


@router.get("", response_model=Page[CertificateRead], responses=responses(404))
async def list_certificates(
    session: SessionDep,
    today: TodayDep,
    product_id: uuid.UUID,
    cursor: CursorQuery = None,
    limit: LimitQuery = 20,
) -> Page[CertificateRead]:
    """A product's OCOP certificate history, latest first."""
    await products.get_product(session, product_id, today)
    certificates, next_cursor = await service.list_certificates(session, product_id, cursor, limit)
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
    today: TodayDep,
    product_id: uuid.UUID,
    body: CertificateCreate,
) -> CertificateRead:
    """Record an OCOP certificate for a product (admin); the product's stars follow from it."""
    product, _stars = await products.get_product(session, product_id, today, for_update=True)
    certificate = await service.add_certificate(
        session,
        product,
        stars=body.stars,
        score=body.score,
        decision_no=body.decision_no,
        issued_on=body.issued_on,
        valid_until=body.valid_until,
    )
    response.headers["Location"] = f"/v1/products/{product_id}/certificates"
    return CertificateRead.model_validate(certificate)
