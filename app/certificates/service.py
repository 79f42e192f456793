"""OCOP certificates: stars, score bands, validity and level."""

from __future__ import annotations

import calendar
import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, Unprocessable
from app.core.pagination import Ordering, SortKey
from app.models.product import Certificate, CertificateLevel, Product

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
    if stars >= 3:
        return CertificateLevel.provincial
    return None


def check_score(stars: int, score: int | None) -> None:
    if score is None:
        return
    low, high = SCORE_BANDS[stars]
    if not low <= score <= high:
        raise Unprocessable(
            f"A score of {score} does not give {stars} stars ({low}-{high} does).",
            code="score_out_of_band",
        )


async def find(
    session: AsyncSession, product_id: uuid.UUID, decision_no: str
) -> Certificate | None:
    stmt = select(Certificate).where(
        Certificate.product_id == product_id, Certificate.decision_no == decision_no
    )
    return await session.scalar(stmt)


async def add_certificate(
    session: AsyncSession,
    product: Product,
    *,
    stars: int,
    score: int | None,
    decision_no: str,
    issued_on: date,
    valid_until: date | None = None,
) -> Certificate:
    """Record an evaluation; the product's stars follow from it (see products.repository)."""
    check_score(stars, score)
    valid_until = valid_until or add_months(issued_on, VALIDITY_MONTHS)
    if valid_until < issued_on:
        raise Unprocessable("valid_until is before issued_on.", code="invalid_validity")
    if await find(session, product.id, decision_no) is not None:
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
    await session.flush()
    return certificate


HISTORY = Ordering(
    "history",
    (
        SortKey(Certificate.issued_on, date, descending=True),
        SortKey(Certificate.created_at, datetime, descending=True),
        SortKey(Certificate.id, uuid.UUID, descending=True),
    ),
)


async def list_certificates(
    session: AsyncSession, product_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[Certificate], str | None]:
    """A product's certificates, latest first."""
    stmt = select(Certificate).where(Certificate.product_id == product_id)
    rows = (await session.execute(HISTORY.apply(stmt, cursor, limit))).all()
    return HISTORY.page(rows, limit)
