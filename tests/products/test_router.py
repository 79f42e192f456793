from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Product
from tests.helpers import CreateProductViaApi, problem

pytestmark = pytest.mark.anyio


async def count_products(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Product)) or 0)


async def test_admin_creates_product_with_owner_embedded(
    client: httpx.AsyncClient, admin: dict[str, str], owner: dict[str, Any]
) -> None:
    body = {
        "owner_id": owner["id"],
        "name": "Quýt vàng Bắc Sơn",
        "group": "food",
        "unit": "kg",
        "unit_step": 0.5,
        "price_vnd": 45000,
        "stock": 1200.5,
        "commune": "Bắc Sơn",
    }

    response = await client.post("/v1/products", json=body, headers=admin)

    assert response.status_code == 201, response.text
    product = response.json()
    assert response.headers["location"] == f"/v1/products/{product['id']}"
    assert product["owner"] == {"id": owner["id"], "name": owner["name"]}
    assert product["unit_step"] == 0.5
    assert product["stock"] == 1200.5
    assert product["stars"] is None
    assert product["status"] == "active"
    assert product["province"] == "Lạng Sơn"
    assert product["language"] == "vi"
    assert response.headers["content-language"] == "vi"


async def test_product_is_readable_by_anyone_with_etag(
    client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api()

    response = await client.get(f"/v1/products/{product['id']}")

    assert response.status_code == 200
    assert response.json() == product
    again = await client.get(
        f"/v1/products/{product['id']}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


async def test_unknown_product_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/products/{uuid.uuid4()}")

    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


async def test_create_for_unknown_owner_is_404_and_writes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    body = {
        "owner_id": str(uuid.uuid4()),
        "name": "Trà",
        "group": "beverage",
        "unit": "box",
        "price_vnd": 1,
        "commune": "Hữu Lũng",
    }

    response = await client.post("/v1/products", json=body, headers=admin)

    assert response.status_code == 404
    assert problem(response)["code"] == "owner_not_found"
    assert await count_products(db) == 0


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"unit_step": 0}, ["body", "unit_step"]),
        ({"unit_step": 0.0005}, ["body", "unit_step"]),
        ({"stock": -1}, ["body", "stock"]),
        ({"stock": "5"}, ["body", "stock"]),
        ({"price_vnd": 1.5}, ["body", "price_vnd"]),
        ({"group": "weapons"}, ["body", "group"]),
        ({"unit": "tonne"}, ["body", "unit"]),
        (
            {"translations": {"english": {"name": "x"}}},
            ["body", "translations", "english", "[key]"],
        ),
        ({"translations": {"en": {"description": "x"}}}, ["body", "translations", "en", "name"]),
        ({"stars": 5}, ["body", "stars"]),
    ],
)
async def test_invalid_product_is_422_and_writes_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    owner: dict[str, Any],
    db: AsyncSession,
    fields: dict[str, Any],
    loc: list[str],
) -> None:
    body = {
        "owner_id": owner["id"],
        "name": "Quýt vàng Bắc Sơn",
        "group": "food",
        "unit": "kg",
        "price_vnd": 45000,
        "commune": "Bắc Sơn",
        **fields,
    }

    response = await client.post("/v1/products", json=body, headers=admin)

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [loc]
    assert await count_products(db) == 0


async def test_quantities_are_exact_through_the_api(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(unit_step=0.1, stock=0.1)

    response = await client.post(
        f"/v1/products/{product['id']}/stock-adjustments", json={"delta": 0.2}, headers=admin
    )

    assert response.status_code == 200, response.text
    assert response.json()["stock"] == 0.3
    assert '"stock":0.3,' in response.text


async def test_stock_cannot_go_below_zero(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
    db: AsyncSession,
) -> None:
    product = await create_product_via_api(stock=1.5)

    response = await client.post(
        f"/v1/products/{product['id']}/stock-adjustments", json={"delta": -1.501}, headers=admin
    )

    assert response.status_code == 409
    assert problem(response)["code"] == "insufficient_stock"
    stored = await db.get(Product, uuid.UUID(product["id"]))
    assert stored is not None
    assert str(stored.stock) == "1.5"


async def test_stock_cannot_go_above_the_largest_quantity(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
    db: AsyncSession,
) -> None:
    # Adjustments used to add past it: the API then showed a stock it refuses as input (a PATCH
    # of the stock read back answered 422), and enough of them overflowed the column (a 500).
    product = await create_product_via_api(stock=999999999999.5)

    response = await client.post(
        f"/v1/products/{product['id']}/stock-adjustments", json={"delta": 0.5}, headers=admin
    )

    assert response.status_code == 409
    assert problem(response) == {
        "type": "https://ocop-api.dev/problems/stock_limit",
        "title": "Conflict",
        "status": 409,
        "detail": "Stock is at most 999999999999.999 kg; 999999999999.5 kg and 0.5 more is over.",
        "code": "stock_limit",
    }
    stored = await db.get(Product, uuid.UUID(product["id"]))
    assert stored is not None
    assert str(stored.stock) == "999999999999.5"


async def test_untracked_stock_cannot_be_adjusted(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(group="tourism", unit="visit", unit_step=1, stock=None)

    response = await client.post(
        f"/v1/products/{product['id']}/stock-adjustments", json={"delta": 1}, headers=admin
    )

    assert response.status_code == 409
    assert problem(response)["code"] == "stock_not_tracked"


async def test_patch_with_current_etag_updates(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api()
    etag = (await client.get(f"/v1/products/{product['id']}")).headers["etag"]

    response = await client.patch(
        f"/v1/products/{product['id']}",
        json={"price_vnd": 50000},
        headers={**admin, "If-Match": etag},
    )

    assert response.status_code == 200
    assert response.json()["price_vnd"] == 50000
    assert response.headers["etag"] != etag


async def test_patch_with_stale_etag_is_412_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api()
    etag = (await client.get(f"/v1/products/{product['id']}")).headers["etag"]
    await client.patch(f"/v1/products/{product['id']}", json={"price_vnd": 1}, headers=admin)

    response = await client.patch(
        f"/v1/products/{product['id']}",
        json={"price_vnd": 2},
        headers={**admin, "If-Match": etag},
    )

    assert response.status_code == 412
    assert (await client.get(f"/v1/products/{product['id']}")).json()["price_vnd"] == 1


async def test_patch_rejects_null_for_required_field(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api()

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"name": None}, headers=admin
    )

    assert response.status_code == 422


async def test_admin_moves_product_to_another_owner(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
    make_owner: Any,
) -> None:
    product = await create_product_via_api()
    other = await make_owner(name="Công ty TNHH MTV Ngọc Quế", commune="Hữu Lũng")

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"owner_id": other["id"]}, headers=admin
    )

    assert response.status_code == 200
    assert response.json()["owner"] == {"id": other["id"], "name": other["name"]}


async def test_archived_product_is_readable_but_not_listed(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    kept = await create_product_via_api(name="Trà Bổ Khai")
    archived = await create_product_via_api()

    response = await client.post(f"/v1/products/{archived['id']}/archive", headers=admin)

    assert response.status_code == 200
    assert response.json()["status"] == "archived"
    assert (await client.get(f"/v1/products/{archived['id']}")).json()["status"] == "archived"
    listed = (await client.get("/v1/products")).json()["items"]
    assert [p["id"] for p in listed] == [kept["id"]]


async def test_restored_product_is_listed_again(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api()
    await client.post(f"/v1/products/{product['id']}/archive", headers=admin)

    response = await client.post(f"/v1/products/{product['id']}/restore", headers=admin)

    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert [p["id"] for p in (await client.get("/v1/products")).json()["items"]] == [product["id"]]


async def test_taxonomy_lists_the_six_groups(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/taxonomy")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [g["code"] for g in items] == [
        "food",
        "beverage",
        "herbal",
        "handicraft",
        "flora_fauna",
        "tourism",
    ]
    assert items[1] == {"code": "beverage", "name_vi": "Đồ uống", "name_en": "Beverages"}
