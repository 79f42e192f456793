"""Reports as CSV: one table, one row per figure, a `section` column saying which part.

section,id,name,unit,date,orders,quantity,quantity_tonnes,revenue_vnd
total,,,,,1532,,,412750000
product,7f0c...,Quýt vàng Bắc Sơn,kg,,1480,10512.5,10.5125,367937500
day,,,,2025-11-03,201,,,51250000
owner,1b2e...,Hợp tác xã Quýt vàng Bắc Sơn,,,1480,,,367937500
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


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _rows(
    orders: int,
    revenue_vnd: int,
    products: Iterable[ProductSales],
    days: Iterable[DaySales],
    owners: Iterable[OwnerSales],
) -> Iterable[list[str]]:
    yield ["total", "", "", "", "", str(orders), "", "", str(revenue_vnd)]
    for p in products:
        yield [
            "product",
            str(p.product_id),
            p.name,
            p.unit.value,
            "",
            str(p.orders),
            _number(p.quantity),
            _number(p.quantity_tonnes),
            str(p.revenue_vnd),
        ]
    for d in days:
        yield ["day", "", "", "", d.date.isoformat(), str(d.orders), "", "", str(d.revenue_vnd)]
    for o in owners:
        yield ["owner", str(o.owner_id), o.name, "", "", str(o.orders), "", "", str(o.revenue_vnd)]


def render(report: EventSalesReport | OwnerSalesReport) -> str:
    owners = report.by_owner if isinstance(report, EventSalesReport) else []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(
        _rows(report.orders, report.revenue_vnd, report.by_product, report.by_day, owners)
    )
    return buffer.getvalue()


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


def render_catalog(report: CatalogReport) -> str:
    """The catalogue report as one CSV table: sections stars, group, commune and expiring."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CATALOG_COLUMNS)
    blank = [""] * 7
    for s in report.by_stars:
        writer.writerow(["stars", "" if s.stars is None else s.stars, s.products, "", *blank])
    for g in report.by_group:
        writer.writerow(["group", g.group.value, g.products, g.certified, *blank])
    for c in report.by_commune:
        writer.writerow(["commune", c.commune, c.products, c.certified, *blank])
    for e in report.expiring:
        writer.writerow(
            [
                "expiring",
                str(e.certificate_id),
                "",
                "",
                str(e.product_id),
                e.product_name,
                e.owner_name,
                e.stars,
                e.decision_no,
                e.valid_until.isoformat(),
                e.days_left,
            ]
        )
    return buffer.getvalue()
