"""A product's stars: the one rule, as SQL, and the stored copy of it that reads sort and
filter by.

`current_stars(today)` is the rule. The product row keeps its result in `stars`, with the
window of days [`stars_from`, `stars_until`] around the day it was computed for during which
no certificate of the product starts or ends, so during which the rule gives the same answer.
Every certificate write recomputes the row (`restarred`) in its transaction; days passing make
rows lapse (`lapsed`), and lapsed rows are recomputed by the worker and, before a read sorts or
filters by stars, by the reading process (`freshness` remembers which day it last did so).
A read that shows stars uses the stored value only inside its window (`shown_stars`), so what it
shows is the rule's answer whatever the state of the rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, case, func, literal, or_, select

from app.core.zones import day_after, day_before
from app.models.product import Certificate, Product

CERTIFIED_STARS = 3
"""OCOP certifies products rated 3 stars or more."""

EARLIEST, LATEST = date(1, 1, 1), date(9999, 12, 31)
"""The window of a product whose stars no certificate will ever change."""


Day = date | ColumnElement[date]
"""A day as a value, or as a bind parameter of a statement built once."""


def current_stars(today: Day) -> ColumnElement[int | None]:
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


def _window(today: date) -> tuple[ColumnElement[date], ColumnElement[date]]:
    """The first and last day around `today` on which the product's set of valid certificates
    (so `current_stars`) is the one of `today`: a certificate not yet issued bounds it by the
    day before its issue, a valid one by its issue and its last day, an expired one by the day
    after its last day."""
    issued, ends = Certificate.issued_on, Certificate.valid_until
    lower = case(
        (issued > today, None),
        (ends >= today, issued),
        else_=day_after(ends),
    )
    upper = case(
        (issued > today, day_before(issued)),
        (ends >= today, ends),
        else_=None,
    )

    def bound(aggregate: ColumnElement[Any], default: date) -> ColumnElement[date]:
        found = (
            select(aggregate)
            .where(Certificate.product_id == Product.id)
            .correlate(Product)
            .scalar_subquery()
        )
        return func.coalesce(found, literal(default, Date()), type_=Date())

    return bound(func.max(lower), EARLIEST), bound(func.min(upper), LATEST)


def restarred(today: date) -> dict[str, Any]:
    """The values of an UPDATE of products that stores their stars as of `today`. It keeps
    `updated_at`: days passing are no change of a product (its feed), and a certificate write
    touches the product itself."""
    since, until = _window(today)
    return {
        "stars": current_stars(today),
        "stars_from": since,
        "stars_until": until,
        "updated_at": Product.updated_at,
    }


def lapsed(today: date) -> ColumnElement[bool]:
    """Products whose stored stars may not hold on `today`."""
    return or_(Product.stars_from > today, Product.stars_until < today)


def shown_stars(today: Day) -> ColumnElement[int | None]:
    """The product's stars on `today`: the stored value inside its window (no certificate is
    read), the rule's answer outside it."""
    return case(
        (and_(Product.stars_from <= today, Product.stars_until >= today), Product.stars),
        else_=current_stars(today),
    )


def star_rank() -> ColumnElement[int]:
    """The stored stars as a sort key: uncertified products rank as 0 stars (an index on
    products has this expression)."""
    return func.coalesce(Product.stars, 0)


class Freshness:
    """Which day each database's stored stars were last made current for, by this process.

    Only an optimisation (the truth is in the rows' windows, which several processes write): it
    saves a reading process the UPDATE of lapsed rows on every request. A certificate write
    forgets the database's day, as the row it wrote holds around the writer's day only.
    """

    def __init__(self) -> None:
        self._days: dict[str, date] = {}

    def is_current(self, database: str, today: date) -> bool:
        return self._days.get(database) == today

    def mark(self, database: str, today: date) -> None:
        self._days[database] = today

    def forget(self, database: str) -> None:
        self._days.pop(database, None)


freshness = Freshness()
