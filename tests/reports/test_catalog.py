from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Product, ProductGroup, ProductStatus, Role
from tests.helpers import FakeClock, InsertProduct, KeyFactory, csv_rows

pytestmark = pytest.mark.anyio

TODAY = date(2026, 6, 15)
SCORES = {3: 60, 4: 80, 5: 95}
BAC_SON = {"commune": "Bắc Sơn", "commune_code": "06325", "commune_name": "Xã Bắc Sơn"}
CHI_LANG = {"commune": "Chi Lăng", "commune_code": "06463", "commune_name": "Xã Chi Lăng"}
HUU_LUNG = {"commune": "Hữu Lũng", "commune_code": "06385", "commune_name": "Xã Hữu Lũng"}
VAN_QUAN = {"commune": "Văn Quan", "commune_code": "06253", "commune_name": "Xã Văn Quan"}


async def certify(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    product: Product,
    stars: int,
    issued_on: date,
    valid_until: date | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "stars": stars,
        "score": SCORES[stars],
        "decision_no": f"{product.name}-{issued_on}",
        "issued_on": issued_on.isoformat(),
    }
    if valid_until is not None:
        body["valid_until"] = valid_until.isoformat()
    response = await client.post(
        f"/v1/products/{product.id}/certificates", json=body, headers=admin
    )
    assert response.status_code == 201, response.text
    certificate: dict[str, Any] = response.json()
    return certificate


@pytest.fixture
async def catalogue(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    clock: FakeClock,
) -> dict[str, Any]:
    clock.set(datetime(2026, 6, 15, 3, 0, tzinfo=UTC))  # 10:00 on 15 June in Lang Son
    tea = await insert_product(name="Trà", group=ProductGroup.beverage, commune="Hữu Lũng")
    mandarin = await insert_product(name="Quýt", commune="Bắc Sơn")
    anise = await insert_product(name="Hồi", group=ProductGroup.herbal, commune="Văn Quan")
    plain = await insert_product(name="Na", commune="Chi Lăng")
    lapsed = await insert_product(name="Miến", commune="Bắc Sơn")
    archived = await insert_product(name="Cũ", commune="Bắc Sơn", status=ProductStatus.archived)
    await certify(client, admin, tea, 5, date(2025, 9, 20))
    await certify(client, admin, mandarin, 4, date(2024, 9, 20))
    expiring = await certify(client, admin, anise, 3, date(2023, 7, 10))  # until 10 July 2026
    await certify(client, admin, lapsed, 4, date(2022, 1, 5))  # expired January 2025
    await certify(client, admin, archived, 4, date(2025, 1, 5))
    return {"anise": anise, "expiring": expiring, "plain": plain}


async def test_catalog_counts_products_by_stars_group_and_commune(
    client: httpx.AsyncClient, admin: dict[str, str], catalogue: dict[str, Any]
) -> None:
    response = await client.get("/v1/reports/catalog", params={"days": 30}, headers=admin)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["today"] == TODAY.isoformat()
    assert report["products"] == 5
    assert report["by_stars"] == [
        {"stars": 5, "products": 1},
        {"stars": 4, "products": 1},
        {"stars": 3, "products": 1},
        {"stars": None, "products": 2},
    ]
    assert report["by_group"] == [
        {"group": "food", "products": 3, "certified": 1},
        {"group": "beverage", "products": 1, "certified": 1},
        {"group": "herbal", "products": 1, "certified": 1},
    ]
    assert report["by_commune"] == [
        {**BAC_SON, "products": 2, "certified": 1},
        {**CHI_LANG, "products": 1, "certified": 0},
        {**HUU_LUNG, "products": 1, "certified": 1},
        {**VAN_QUAN, "products": 1, "certified": 1},
    ]
    assert [
        (e["product_name"], e["stars"], e["valid_until"], e["days_left"])
        for e in report["expiring"]
    ] == [("Hồi", 3, "2026-07-10", 25)]
    assert report["expiring"][0]["certificate_id"] == catalogue["expiring"]["id"]


async def test_the_window_decides_what_is_expiring(
    client: httpx.AsyncClient, admin: dict[str, str], catalogue: dict[str, Any]
) -> None:
    short = (await client.get("/v1/reports/catalog", params={"days": 24}, headers=admin)).json()
    long = (await client.get("/v1/reports/catalog", params={"days": 365 * 2}, headers=admin)).json()

    assert short["expiring"] == []
    assert [e["product_name"] for e in long["expiring"]] == ["Hồi", "Quýt"]


async def test_catalog_csv_agrees_with_json(
    client: httpx.AsyncClient, admin: dict[str, str], catalogue: dict[str, Any]
) -> None:
    as_json = (await client.get("/v1/reports/catalog", params={"days": 30}, headers=admin)).json()
    as_csv = await client.get(
        "/v1/reports/catalog", params={"days": 30}, headers={**admin, "Accept": "text/csv"}
    )

    rows = csv_rows(as_csv)
    assert [(r["key"], int(r["products"])) for r in rows if r["section"] == "stars"] == [
        ("" if s["stars"] is None else str(s["stars"]), s["products"]) for s in as_json["by_stars"]
    ]
    assert [
        (r["key"], int(r["products"]), int(r["certified"]))
        for r in rows
        if r["section"] == "commune"
    ] == [(c["commune"], c["products"], c["certified"]) for c in as_json["by_commune"]]
    assert [
        (r["product_name"], r["valid_until"], int(r["days_left"]))
        for r in rows
        if r["section"] == "expiring"
    ] == [(e["product_name"], e["valid_until"], e["days_left"]) for e in as_json["expiring"]]


async def test_a_day_later_the_window_moves(
    client: httpx.AsyncClient, admin: dict[str, str], catalogue: dict[str, Any], clock: FakeClock
) -> None:
    clock.advance(timedelta(days=26))  # 11 July: the anise certificate has lapsed

    report = (await client.get("/v1/reports/catalog", params={"days": 30}, headers=admin)).json()

    assert report["by_stars"][2] == {"stars": 3, "products": 0}
    assert report["expiring"] == []


@pytest.mark.parametrize("role", [Role.partner, Role.owner])
async def test_catalog_report_is_for_admins(
    client: httpx.AsyncClient, make_key: KeyFactory, catalogue: dict[str, Any], role: Role
) -> None:
    headers = await make_key(
        role, owner_id=catalogue["plain"].owner_id if role is Role.owner else None
    )

    assert (await client.get("/v1/reports/catalog", headers=headers)).status_code == 403


async def test_one_commune_is_one_row_whatever_its_rows_say_and_text_without_a_code_its_own(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: AsyncSession,
    insert_product: InsertProduct,
) -> None:
    await insert_product(name="Quýt", commune="Bắc Sơn")
    spelled = await insert_product(name="Hồng", commune="xã Bắc Sơn")
    await insert_product(name="Cũ", commune="Atlantis")  # written before codes: no code
    # A row of Bắc Sơn whose text says it otherwise still counts there.
    await db.execute(update(Product).where(Product.id == spelled.id).values(commune="bac son"))
    await db.commit()

    report = (await client.get("/v1/reports/catalog", headers=admin)).json()

    assert report["by_commune"] == [
        {**BAC_SON, "products": 2, "certified": 0},
        {"commune": "Atlantis", "commune_code": None, "commune_name": None, "products": 1,
         "certified": 0},
    ]  # fmt: skip
