"""OCOP certificates: stars, score bands, validity and level."""

from __future__ import annotations

import calendar
import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.certificates.repository import CertificateRepository
from app.certificates.schemas import CertificateCreate
from app.core.errors import Conflict, Unprocessable
from app.core.orm import touch
from app.core.pagination import PageQuery
from app.models.product import Certificate, CertificateLevel, Product
from app.products import service as products
from app.products.stars import CERTIFIED_STARS

VALIDITY_MONTHS = 36
# Score bands of the OCOP evaluation (Decision 148/QĐ-TTg): stars -> inclusive score range.
SCORE_BANDS = {1: (0, 29), 2: (30, 49), 3: (50, 69), 4: (70, 89), 5: (90, 100)}


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def level_for(stars: int) -> CertificateLevel | None:
    """provincial for 3-4 stars, central for 5; below 3 stars a product is not certified."""
    if stars >= 5:
        return CertificateLevel.central
    if stars >= CERTIFIED_STARS:
        return CertificateLevel.provincial
    return None


def score_fits(stars: int, score: int) -> bool:
    """Whether the council's `score` gives `stars` (falls in its band)."""
    low, high = SCORE_BANDS[stars]
    return low <= score <= high


def _check_score(stars: int, score: int | None) -> None:
    if score is not None and not score_fits(stars, score):
        low, high = SCORE_BANDS[stars]
        raise Unprocessable(
            f"A score of {score} does not give {stars} stars ({low}-{high} does).",
            code="score_out_of_band",
        )


async def has_decision(session: AsyncSession, product_id: uuid.UUID, decision_no: str) -> bool:
    """Whether the product already has a certificate under this decision."""
    return await CertificateRepository(session).find(product_id, decision_no) is not None


async def add_certificate(
    session: AsyncSession,
    product: Product,
    *,
    stars: int,
    score: int | None,
    decision_no: str,
    issued_on: date,
    valid_until: date | None = None,
    today: date,
) -> Certificate:
    """Record an evaluation of a product locked for update; its stars follow from it
    (`app.products.stars`), stored as of `today` in the same transaction."""
    _check_score(stars, score)
    valid_until = valid_until or add_months(issued_on, VALIDITY_MONTHS)
    if valid_until < issued_on:
        raise Unprocessable("valid_until is before issued_on.", code="invalid_validity")
    if await has_decision(session, product.id, decision_no):
        raise Conflict(
            f"This product already has a certificate under decision {decision_no}.",
            code="duplicate_certificate",
        )
    certificate = Certificate(
        product_id=product.id,
        stars=stars,
        score=score,
        decision_no=decision_no,
        issued_on=issued_on,
        valid_until=valid_until,
        level=level_for(stars),
    )
    session.add(certificate)
    touch(product)  # its stars may change: a change of the product, for its feed
    await session.flush()
    await products.restar(session, product.id, today)
    return certificate


async def certify(
    session: AsyncSession, product_id: uuid.UUID, data: CertificateCreate, today: date
) -> Certificate:
    """Record a certificate for the product (404 if there is none), locked meanwhile so that
    two certificates under one decision cannot both pass the check."""
    product = await products.load_product(session, product_id, for_update=True)
    return await add_certificate(
        session,
        product,
        stars=data.stars,
        score=data.score,
        decision_no=data.decision_no,
        issued_on=data.issued_on,
        valid_until=data.valid_until,
        today=today,
    )


async def list_certificates(
    session: AsyncSession, product_id: uuid.UUID, page: PageQuery
) -> tuple[list[Certificate], str | None]:
    """A product's certificates, latest first (404 if there is no such product)."""
    await products.load_product(session, product_id)
    return await CertificateRepository(session).history(product_id, page)
