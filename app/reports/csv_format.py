"""Reports as CSV: one table, one row per figure, a `section` column saying which part.

section,id,name,unit,date,orders,quantity,quantity_tonnes,revenue_vnd
total,,,,,1532,,,412750000
product,7f0c...,Quýt vàng Bắc Sơn,kg,,1480,10512.5,10.5125,367937500
day,,,,2025-11-03,201,,,51250000
owner,1b2e...,Hợp tác xã Quýt vàng Bắc Sơn,,,1480,,,367937500

The catalogue and the tourism reports are tables of their own columns (`CATALOG_COLUMNS`,
`TOURISM_COLUMNS`), written the same way.

The answer is UTF-8 with a byte order mark (`encode`): without it, Excel reads a CSV file in the
machine's legacy code page and shows "Quýt vàng" as "QuÃ½t vÃ ng".

Every row goes through one writer (`_table`), which writes numbers as numbers and neutralises
text a spreadsheet would run as a formula (OWASP's CSV injection advice): a text cell beginning
with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so an owner who names a
product `=HYPERLINK(...)` shows that text, not a link. A negative number is a number, not text:
it is written as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from app.reports.schemas import (
    CatalogReport,
    DaySales,
    EventSalesReport,
    OwnerSales,
    OwnerSalesReport,
    ProductSales,
    TourismReport,
    Visitors,
)

COLUMNS = [
    "section",
    "id",
    "name",
    "unit",
    "date",
    "orders",
    "quantity",
    "quantity_tonnes",
    "revenue_vnd",
]


CONTENT_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"


def encode(text: str) -> bytes:
    """A rendered report as the bytes of the answer: UTF-8, after a byte order mark."""
    return (BOM + text).encode("utf-8")


Cell = str | int | Decimal | None
"""A cell: text, an exact number, or empty."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may take for the start of a formula when a text cell begins with it."""


def text_cell(value: str) -> str:
    """Text as a spreadsheet shows it: with a leading `'` where it would otherwise run as a
    formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _table(columns: list[str], rows: Iterable[list[Cell]]) -> str:
    """The one CSV writer: a header, then every row, each cell through `_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def _rows(
    orders: int,
    revenue_vnd: int,
    products: Iterable[ProductSales],
    days: Iterable[DaySales],
    owners: Iterable[OwnerSales],
) -> Iterable[list[Cell]]:
    yield ["total", None, None, None, None, orders, None, None, revenue_vnd]
    for p in products:
        yield [
            "product",
            str(p.product_id),
            p.name,
            p.unit.value,
            None,
            p.orders,
            p.quantity,
            p.quantity_tonnes,
            p.revenue_vnd,
        ]
    for d in days:
        yield ["day", None, None, None, d.date.isoformat(), d.orders, None, None, d.revenue_vnd]
    for o in owners:
        yield ["owner", str(o.owner_id), o.name, None, None, o.orders, None, None, o.revenue_vnd]


def render(report: EventSalesReport | OwnerSalesReport) -> str:
    owners = report.by_owner if isinstance(report, EventSalesReport) else []
    return _table(
        COLUMNS,
        _rows(report.orders, report.revenue_vnd, report.by_product, report.by_day, owners),
    )


CATALOG_COLUMNS = [
    "section",
    "key",
    "products",
    "certified",
    "product_id",
    "product_name",
    "owner_name",
    "stars",
    "decision_no",
    "valid_until",
    "days_left",
]


def _catalog_rows(report: CatalogReport) -> Iterable[list[Cell]]:
    blank: list[Cell] = [None] * 7
    for s in report.by_stars:
        yield ["stars", s.stars, s.products, None, *blank]
    for g in report.by_group:
        yield ["group", g.group.value, g.products, g.certified, *blank]
    for c in report.by_commune:
        yield ["commune", c.commune, c.products, c.certified, *blank]
    for e in report.expiring:
        yield [
            "expiring",
            str(e.certificate_id),
            None,
            None,
            str(e.product_id),
            e.product_name,
            e.owner_name,
            e.stars,
            e.decision_no,
            e.valid_until.isoformat(),
            e.days_left,
        ]


def render_catalog(report: CatalogReport) -> str:
    """The catalogue report as one CSV table: sections stars, group, commune and expiring."""
    return _table(CATALOG_COLUMNS, _catalog_rows(report))


TOURISM_COLUMNS = [
    "section",
    "product_id",
    "name",
    "owner_name",
    "commune",
    "date",
    "month",
    "experiences",
    "bookings",
    "people",
    "tickets",
    "checked_in",
    "revenue_vnd",
]


def _visitors(figures: Visitors) -> list[Cell]:
    return [
        figures.bookings,
        figures.people,
        figures.tickets,
        figures.checked_in,
        figures.revenue_vnd,
    ]


def _tourism_rows(report: TourismReport) -> Iterable[list[Cell]]:
    yield ["total", None, None, None, None, None, None, None, *_visitors(report)]
    for e in report.by_experience:
        yield [
            "experience",
            str(e.product_id),
            e.name,
            e.owner_name,
            e.commune,
            None,
            None,
            None,
            *_visitors(e),
        ]
    for d in report.by_day:
        yield [
            "day",
            str(d.product_id),
            d.name,
            None,
            d.commune,
            d.date.isoformat(),
            None,
            None,
            *_visitors(d),
        ]
    for c in report.by_commune:
        yield ["commune", None, None, None, c.commune, None, None, c.experiences, *_visitors(c)]
    for m in report.by_month:
        yield ["month", None, None, None, None, None, m.month, None, *_visitors(m)]


def render_tourism(report: TourismReport) -> str:
    """The tourism report as one CSV table: sections total, experience, day (an experience on
    a date), commune and month, each row with the same five figures."""
    return _table(TOURISM_COLUMNS, _tourism_rows(report))
