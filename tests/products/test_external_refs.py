"""A product's ids in other systems (a shop's SKU): as events have them, a (system, id) pair
names one product only, set by admin or the product's owner, found with `?external_ref=`."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Product, ProductExternalRef, Role
from tests.helpers import CreateProductViaApi, KeyFactory, OwnerFactory, problem

pytestmark = pytest.mark.anyio

SKU = {"system": "shopee", "id": "SKU-1001"}


def product_body(owner: dict[str, Any], name: str, *refs: dict[str, str]) -> dict[str, Any]:
    return {
        "owner_id": owner["id"],
        "name": name,
        "group": "food",
        "unit": "kg",
        "price_vnd": 45000,
        "commune": "Bắc Sơn",
        "external_refs": list(refs),
    }


async def counts(db: AsyncSession) -> tuple[int, int]:
    """(products, product external refs), as committed."""
    await db.rollback()
    products = await db.scalar(select(func.count()).select_from(Product))
    refs = await db.scalar(select(func.count()).select_from(ProductExternalRef))
    return int(products or 0), int(refs or 0)


async def found(client: httpx.AsyncClient, ref: str) -> list[str]:
    response = await client.get("/v1/products", params={"external_ref": ref})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
async def owner_key(make_key: KeyFactory, owner: dict[str, Any]) -> dict[str, str]:
    return await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))


async def test_created_with_refs_shows_them_in_order(
    client: httpx.AsyncClient, admin: dict[str, str], owner: dict[str, Any]
) -> None:
    refs = [{"system": "tiki", "id": "9"}, SKU, {"system": "shopee", "id": "A-1"}]

    response = await client.post(
        "/v1/products", json=product_body(owner, "Quýt", *refs), headers=admin
    )

    assert response.status_code == 201, response.text
    assert response.json()["external_refs"] == [
        {"system": "shopee", "id": "A-1"},
        SKU,
        {"system": "tiki", "id": "9"},
    ]
    read = await client.get(f"/v1/products/{response.json()['id']}")
    assert read.json()["external_refs"] == response.json()["external_refs"]


async def test_the_list_has_the_refs_in_the_order_the_product_has_them(
    client: httpx.AsyncClient, admin: dict[str, str], owner: dict[str, Any]
) -> None:
    """The catalogue gathers each product's refs in its page's statement; their order is the
    one a product read alone shows, case and diacritics included."""
    refs = [
        {"system": "tiki", "id": "b-2"},
        {"system": "tiki", "id": "B-1"},
        {"system": "shopee", "id": "Đ-1"},
        {"system": "shopee", "id": "d-2"},
        {"system": "shopee", "id": "D-3"},
    ]
    created = await client.post(
        "/v1/products", json=product_body(owner, "Quýt", *refs), headers=admin
    )
    assert created.status_code == 201, created.text
    other = await client.post("/v1/products", json=product_body(owner, "Trà"), headers=admin)
    assert other.status_code == 201, other.text

    listed = {item["id"]: item for item in (await client.get("/v1/products")).json()["items"]}

    assert listed[created.json()["id"]]["external_refs"] == created.json()["external_refs"]
    assert sorted(map(str, created.json()["external_refs"])) == sorted(map(str, refs))
    assert listed[other.json()["id"]]["external_refs"] == []


async def test_the_owner_key_sets_refs_on_create_and_patch(
    client: httpx.AsyncClient, owner_key: dict[str, str], owner: dict[str, Any]
) -> None:
    created = await client.post(
        "/v1/products", json=product_body(owner, "Quýt", SKU), headers=owner_key
    )
    assert created.status_code == 201, created.text

    response = await client.patch(
        f"/v1/products/{created.json()['id']}",
        json={"external_refs": [{"system": "lazada", "id": "L-7"}]},
        headers=owner_key,
    )

    assert response.status_code == 200, response.text
    assert response.json()["external_refs"] == [{"system": "lazada", "id": "L-7"}]


async def test_another_owners_key_cannot_set_refs(
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
    make_owner: OwnerFactory,
    make_key: KeyFactory,
) -> None:
    product = await create_product_via_api(external_refs=[SKU])
    other = await make_owner(name="Hộ kinh doanh Khác")
    intruder = await make_key(Role.owner, owner_id=uuid.UUID(other["id"]))

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"external_refs": []}, headers=intruder
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "not_your_product"
    assert await found(client, "shopee:SKU-1001") == [product["id"]]


async def test_a_partner_key_cannot_set_refs(
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
    partner: dict[str, str],
) -> None:
    product = await create_product_via_api()

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"external_refs": [SKU]}, headers=partner
    )

    assert response.status_code == 403
    assert await found(client, "shopee:SKU-1001") == []


async def test_a_taken_pair_is_409_and_names_the_holder(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    owner: dict[str, Any],
    create_product_via_api: CreateProductViaApi,
    db: AsyncSession,
) -> None:
    holder = await create_product_via_api(external_refs=[SKU])

    response = await client.post(
        "/v1/products",
        json=product_body(owner, "Quýt khác", {"system": "tiki", "id": "1"}, SKU),
        headers=admin,
    )

    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "external_ref_taken"
    assert body["external_refs"] == [{**SKU, "product_id": holder["id"]}]
    assert await counts(db) == (1, 1)


async def test_same_id_in_another_system_is_fine(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    owner: dict[str, Any],
    create_product_via_api: CreateProductViaApi,
) -> None:
    await create_product_via_api(external_refs=[SKU])

    response = await client.post(
        "/v1/products",
        json=product_body(owner, "Quýt khác", {"system": "tiki", "id": "SKU-1001"}),
        headers=admin,
    )

    assert response.status_code == 201, response.text


async def test_an_event_and_a_product_may_share_a_pair(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
) -> None:
    await create_product_via_api(external_refs=[SKU])

    response = await client.post(
        "/v1/events",
        json={
            "name": "Hội chợ",
            "kind": "trade_fair",
            "starts_at": "2026-03-01T08:00:00+07:00",
            "ends_at": "2026-03-02T08:00:00+07:00",
            "commune": "Bắc Sơn",
            "external_refs": [SKU],
        },
        headers=admin,
    )

    assert response.status_code == 201, response.text


async def test_two_concurrent_creates_with_one_pair_one_wins(
    client: httpx.AsyncClient, admin: dict[str, str], owner: dict[str, Any], db: AsyncSession
) -> None:
    responses = await asyncio.gather(
        *(
            client.post("/v1/products", json=product_body(owner, f"p{i}", SKU), headers=admin)
            for i in range(4)
        )
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    winner = next(r for r in responses if r.status_code == 201)
    for loser in (r for r in responses if r.status_code == 409):
        assert problem(loser)["external_refs"] == [{**SKU, "product_id": winner.json()["id"]}]
    assert await counts(db) == (1, 1)


async def test_patch_replaces_the_refs_keeping_those_that_stay(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(external_refs=[SKU, {"system": "tiki", "id": "9"}])

    response = await client.patch(
        f"/v1/products/{product['id']}",
        json={"external_refs": [SKU, {"system": "lazada", "id": "L-7"}]},
        headers=admin,
    )

    assert response.status_code == 200, response.text
    assert response.json()["external_refs"] == [{"system": "lazada", "id": "L-7"}, SKU]
    assert await found(client, "tiki:9") == []
    assert await found(client, "lazada:L-7") == [product["id"]]


async def test_patch_with_an_empty_list_clears_the_refs(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(external_refs=[SKU])

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"external_refs": []}, headers=admin
    )

    assert response.status_code == 200, response.text
    assert response.json()["external_refs"] == []
    assert await found(client, "shopee:SKU-1001") == []


async def test_patch_without_refs_keeps_them(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(external_refs=[SKU])

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"price_vnd": 50000}, headers=admin
    )

    assert response.json()["external_refs"] == [SKU]


async def test_patch_to_a_taken_pair_is_409_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    holder = await create_product_via_api(external_refs=[SKU])
    other = await create_product_via_api(name="Quýt khác", price_vnd=40000)

    response = await client.patch(
        f"/v1/products/{other['id']}",
        json={"price_vnd": 1, "external_refs": [SKU]},
        headers=admin,
    )

    assert response.status_code == 409
    assert problem(response)["external_refs"] == [{**SKU, "product_id": holder["id"]}]
    after = (await client.get(f"/v1/products/{other['id']}")).json()
    assert (after["price_vnd"], after["external_refs"]) == (40000, [])


async def test_changing_only_the_refs_moves_updated_at(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(external_refs=[SKU])

    response = await client.patch(
        f"/v1/products/{product['id']}",
        json={"external_refs": [{"system": "tiki", "id": "9"}]},
        headers=admin,
    )

    assert response.status_code == 200, response.text
    updated_at = response.json()["updated_at"]
    assert datetime.fromisoformat(updated_at) > datetime.fromisoformat(product["updated_at"])
    assert (await client.get(f"/v1/products/{product['id']}")).json()["updated_at"] == updated_at


async def test_the_same_refs_again_leave_updated_at(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(external_refs=[SKU])

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"external_refs": [SKU]}, headers=admin
    )

    assert response.json()["updated_at"] == product["updated_at"]


async def test_the_filter_finds_only_the_product_with_that_pair(
    client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    wanted = await create_product_via_api(external_refs=[SKU])
    await create_product_via_api(name="Quýt khác", external_refs=[{"system": "tiki", "id": "1"}])
    await create_product_via_api(name="Quýt nữa", external_refs=[{"system": "tiki", "id": "SKU"}])

    assert await found(client, "shopee:SKU-1001") == [wanted["id"]]
    assert await found(client, "shopee:SKU-1002") == []
    assert await found(client, "tiki:SKU-1001") == []


async def test_an_id_with_a_colon_is_found(
    client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    wanted = await create_product_via_api(external_refs=[{"system": "woo", "id": "shop:42"}])

    assert await found(client, "woo:shop:42") == [wanted["id"]]


@pytest.mark.parametrize(
    ("refs", "loc"),
    [
        ([SKU, SKU], ["body", "external_refs"]),
        ([{"system": "Shopee", "id": "1"}], ["body", "external_refs", 0, "system"]),
        ([{"system": "shopee", "id": "a b"}], ["body", "external_refs", 0, "id"]),
        ([{"system": "shopee", "id": "x" * 201}], ["body", "external_refs", 0, "id"]),
        ([{"system": "s", "id": str(i)} for i in range(21)], ["body", "external_refs"]),
        ([{"system": "shopee"}], ["body", "external_refs", 0, "id"]),
    ],
)
async def test_invalid_refs_are_422_and_write_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    owner: dict[str, Any],
    db: AsyncSession,
    refs: list[dict[str, str]],
    loc: list[Any],
) -> None:
    response = await client.post(
        "/v1/products", json=product_body(owner, "Quýt", *refs), headers=admin
    )

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [loc]
    assert await counts(db) == (0, 0)


async def test_null_refs_on_patch_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(external_refs=[SKU])

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"external_refs": None}, headers=admin
    )

    assert response.status_code == 422
    assert await found(client, "shopee:SKU-1001") == [product["id"]]
