"""CSV reports never hand a spreadsheet a formula: text that would run as one is neutralised
(OWASP: a leading `'`), numbers stay numbers."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from app.models import ProductGroup, Unit
from app.reports import csv_format
from app.reports.schemas import (
    CatalogReport,
    CommuneCount,
    DaySales,
    EventSalesReport,
    ExpiringCertificate,
    GroupCount,
    OwnerSales,
    ProductSales,
    StarsCount,
)
from tests.helpers import (
    FakeClock,
    InsertEvent,
    InsertProduct,
    OwnerFactory,
    csv_rows,
    idem,
    order_body,
)

pytestmark = pytest.mark.anyio

FORMULAS = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "+1": "'+1",
    "-1+1": "'-1+1",
    "@SUM(A1)": "'@SUM(A1)",
    "\tx": "'\tx",
    "\rx": "'\rx",
    "Quýt vàng Bắc Sơn": "Quýt vàng Bắc Sơn",
    "1+1=2": "1+1=2",
}
NOW = datetime(2025, 11, 3, tzinfo=UTC)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def sales(name: str, *, revenue_vnd: int = 1000, quantity: str = "2.5") -> EventSalesReport:
    return EventSalesReport(
        event_id=uuid.uuid4(),
        event_name=name,
        orders=1,
        revenue_vnd=revenue_vnd,
        by_product=[
            ProductSales(
                product_id=uuid.uuid4(),
                name=name,
                unit=Unit.kg,
                orders=1,
                quantity=Decimal(quantity),
                quantity_tonnes=Decimal(quantity) / 1000,
                revenue_vnd=revenue_vnd,
            )
        ],
        by_day=[DaySales(date=date(2025, 11, 3), orders=1, revenue_vnd=revenue_vnd)],
        by_owner=[OwnerSales(owner_id=uuid.uuid4(), name=name, orders=1, revenue_vnd=revenue_vnd)],
        generated_at=NOW,
    )


@pytest.mark.parametrize(("name", "cell"), list(FORMULAS.items()))
def test_sales_text_that_a_spreadsheet_would_run_is_neutralised(name: str, cell: str) -> None:
    table = rows(csv_format.render(sales(name)))

    assert [(r["section"], r["name"]) for r in table if r["name"]] == [
        ("product", cell),
        ("owner", cell),
    ]


def test_negative_numbers_stay_numbers() -> None:
    table = rows(csv_format.render(sales("-1+1", revenue_vnd=-5, quantity="-2.5")))

    product = next(r for r in table if r["section"] == "product")
    assert (product["name"], product["quantity"], product["revenue_vnd"]) == ("'-1+1", "-2.5", "-5")
    assert product["quantity_tonnes"] == "-0.0025"
    assert next(r for r in table if r["section"] == "total")["revenue_vnd"] == "-5"


@pytest.mark.parametrize(("name", "cell"), list(FORMULAS.items()))
def test_catalog_text_that_a_spreadsheet_would_run_is_neutralised(name: str, cell: str) -> None:
    report = CatalogReport(
        today=date(2025, 11, 3),
        days=90,
        products=1,
        by_stars=[StarsCount(stars=4, products=1), StarsCount(stars=None, products=0)],
        by_group=[GroupCount(group=ProductGroup.food, products=1, certified=1)],
        by_commune=[
            CommuneCount(
                commune=name, commune_code=None, commune_name=None, products=1, certified=1
            )
        ],
        expiring=[
            ExpiringCertificate(
                certificate_id=uuid.uuid4(),
                product_id=uuid.uuid4(),
                product_name=name,
                owner_id=uuid.uuid4(),
                owner_name=name,
                stars=4,
                level=None,
                decision_no=name,
                valid_until=date(2025, 12, 1),
                days_left=-1,
            )
        ],
        generated_at=NOW,
    )

    table = rows(csv_format.render_catalog(report))

    commune = next(r for r in table if r["section"] == "commune")
    expiring = next(r for r in table if r["section"] == "expiring")
    assert commune["key"] == cell
    assert [expiring[c] for c in ("product_name", "owner_name", "decision_no")] == [cell] * 3
    assert (expiring["stars"], expiring["days_left"]) == ("4", "-1")
    assert [r["key"] for r in table if r["section"] == "stars"] == ["4", ""]


async def test_an_owners_formula_names_come_out_of_the_event_report_as_text(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    clock: FakeClock,
) -> None:
    owner = await make_owner(name='=HYPERLINK("http://x","y")')
    product = await insert_product(owner_id=owner["id"], name="@SUM(A1)", stock=None)
    event = await insert_event(products={product.id: None})
    placed = await client.post(
        "/v1/orders",
        json=order_body((product, 1), event_id=str(event.id)),
        headers=idem(partner),
    )
    assert placed.status_code == 201, placed.text

    response = await client.get(
        f"/v1/reports/events/{event.id}/sales", headers={**admin, "Accept": "text/csv"}
    )

    assert response.status_code == 200
    named = [(r["section"], r["name"]) for r in csv_rows(response) if r["name"]]
    assert named == [("product", "'@SUM(A1)"), ("owner", '\'=HYPERLINK("http://x","y")')]


async def test_formula_names_come_out_of_the_catalog_report_as_text(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
    clock: FakeClock,
) -> None:
    owner = await make_owner(name="+1")
    product = await insert_product(owner_id=owner["id"], name="-1+1", commune="@SUM(A1)")
    issued = clock.now().date() - timedelta(days=3 * 365)
    certified = await client.post(
        f"/v1/products/{product.id}/certificates",
        json={"stars": 4, "score": 80, "decision_no": "=1+1", "issued_on": issued.isoformat()},
        headers=admin,
    )
    assert certified.status_code == 201, certified.text

    response = await client.get(
        "/v1/reports/catalog", params={"days": 365}, headers={**admin, "Accept": "text/csv"}
    )

    table = csv_rows(response)
    assert [r["key"] for r in table if r["section"] == "commune"] == ["'@SUM(A1)"]
    [expiring] = [r for r in table if r["section"] == "expiring"]
    assert (expiring["product_name"], expiring["owner_name"], expiring["decision_no"]) == (
        "'-1+1",
        "'+1",
        "'=1+1",
    )
