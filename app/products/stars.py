"""A product's stars: the one rule, as a SQL expression usable as a column, filter and sort key."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, case, select

from app.models.product import Certificate, Product

CERTIFIED_STARS = 3
"""OCOP certifies products rated 3 stars or more."""


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
