"""A product's images: https URLs on a host name with alt text by language (`vi` required), at
most 10, in the order given; set by admin or the product's owner."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Product, Role
from tests.helpers import CreateProductViaApi, KeyFactory, OwnerFactory, problem

pytestmark = pytest.mark.anyio

FRONT = {
    "url": "https://cdn.example.vn/quyt/front.jpg",
    "alt": {"vi": "Quýt vàng trong giỏ tre", "en": "Golden mandarins in a bamboo basket"},
}
BACK = {"url": "https://cdn.example.vn/quyt/back.webp?w=800", "alt": {"vi": "Nhãn sản phẩm"}}


def image(url: str = "https://cdn.example.vn/a.jpg", **alt: str) -> dict[str, Any]:
    return {"url": url, "alt": alt or {"vi": "Ảnh"}}


async def product_count(db: AsyncSession) -> int:
    await db.rollback()
    return int(await db.scalar(select(func.count()).select_from(Product)) or 0)


async def test_created_with_images_shows_them_in_order(
    client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    created = await create_product_via_api(images=[BACK, FRONT])

    assert created["images"] == [BACK, FRONT]
    read = await client.get(f"/v1/products/{created['id']}")
    assert read.json()["images"] == [BACK, FRONT]


async def test_a_product_without_images_has_an_empty_list(
    client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    created = await create_product_via_api()

    listed = await client.get("/v1/products")

    assert created["images"] == []
    assert listed.json()["items"][0]["images"] == []


async def test_alt_texts_are_trimmed_and_stored_in_nfc(
    create_product_via_api: CreateProductViaApi,
) -> None:
    created = await create_product_via_api(
        images=[image(vi="  Quy\u0301t va\u0300ng  ", zh="金桔")]
    )

    assert created["images"][0]["alt"] == {"vi": "Quýt vàng", "zh": "金桔"}


async def test_patch_replaces_the_images(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(images=[FRONT, BACK])

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"images": [BACK]}, headers=admin
    )

    assert response.status_code == 200, response.text
    assert response.json()["images"] == [BACK]


async def test_patch_with_an_empty_list_removes_them(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(images=[FRONT])

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"images": []}, headers=admin
    )

    assert response.json()["images"] == []


async def test_patch_without_images_keeps_them(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(images=[FRONT])

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"price_vnd": 1}, headers=admin
    )

    assert response.json()["images"] == [FRONT]


async def test_changing_only_the_images_moves_updated_at(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(images=[FRONT])

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"images": [FRONT, BACK]}, headers=admin
    )

    updated_at = response.json()["updated_at"]
    assert datetime.fromisoformat(updated_at) > datetime.fromisoformat(product["updated_at"])
    assert (await client.get(f"/v1/products/{product['id']}")).json()["updated_at"] == updated_at


async def test_the_owner_key_sets_images(
    client: httpx.AsyncClient, make_key: KeyFactory, create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api()
    owner_key = await make_key(Role.owner, owner_id=uuid.UUID(product["owner_id"]))

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"images": [FRONT]}, headers=owner_key
    )

    assert response.status_code == 200, response.text
    assert response.json()["images"] == [FRONT]


async def test_another_owners_key_cannot_set_images(
    client: httpx.AsyncClient,
    make_owner: OwnerFactory,
    make_key: KeyFactory,
    create_product_via_api: CreateProductViaApi,
) -> None:
    product = await create_product_via_api()
    other = await make_owner(name="Hộ kinh doanh Khác")
    intruder = await make_key(Role.owner, owner_id=uuid.UUID(other["id"]))

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"images": [FRONT]}, headers=intruder
    )

    assert response.status_code == 403
    assert (await client.get(f"/v1/products/{product['id']}")).json()["images"] == []


async def test_a_partner_key_cannot_set_images(
    client: httpx.AsyncClient, partner: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api()

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"images": [FRONT]}, headers=partner
    )

    assert response.status_code == 403
    assert (await client.get(f"/v1/products/{product['id']}")).json()["images"] == []


@pytest.mark.parametrize(
    ("images", "loc"),
    [
        ([image("http://cdn.example.vn/a.jpg")], ["body", "images", 0, "url"]),
        ([image("ftp://cdn.example.vn/a.jpg")], ["body", "images", 0, "url"]),
        ([image("https://user:secret@cdn.example.vn/a.jpg")], ["body", "images", 0, "url"]),
        ([image("https://cdn.example.vn@evil.example/a.jpg")], ["body", "images", 0, "url"]),
        ([image("https://203.0.113.9/a.jpg")], ["body", "images", 0, "url"]),
        ([image("https://localhost/a.jpg")], ["body", "images", 0, "url"]),
        ([image("https://cdn.example.vn:8443/a.jpg")], ["body", "images", 0, "url"]),
        ([image("https://-cdn.example.vn/a.jpg")], ["body", "images", 0, "url"]),
        ([image("https://cdn.example.vn/a b.jpg")], ["body", "images", 0, "url"]),
        ([image('https://cdn.example.vn/"><script>')], ["body", "images", 0, "url"]),
        ([image("https://cdn.example.vn/a.jpg\n")], ["body", "images", 0, "url"]),
        ([image("https://cdn.example.vn/" + "a" * 1978)], ["body", "images", 0, "url"]),
        ([image(en="Mandarins")], ["body", "images", 0, "alt"]),
        ([image(vi="   ")], ["body", "images", 0, "alt", "vi"]),
        ([image(vi="x" * 301)], ["body", "images", 0, "alt", "vi"]),
        ([image(vi="Ảnh", EN="x")], ["body", "images", 0, "alt", "EN", "[key]"]),
        ([{"url": "https://cdn.example.vn/a.jpg"}], ["body", "images", 0, "alt"]),
        ([{**FRONT, "title": "x"}], ["body", "images", 0, "title"]),
        ([image(f"https://cdn.example.vn/{i}.jpg") for i in range(11)], ["body", "images"]),
    ],
)
async def test_invalid_images_are_422_and_write_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    owner: dict[str, Any],
    db: AsyncSession,
    images: list[dict[str, Any]],
    loc: list[Any],
) -> None:
    body = {
        "owner_id": owner["id"],
        "name": "Quýt",
        "group": "food",
        "unit": "kg",
        "price_vnd": 1,
        "commune": "Bắc Sơn",
        "images": images,
    }

    response = await client.post("/v1/products", json=body, headers=admin)

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [loc]
    assert await product_count(db) == 0


async def test_the_longest_url_and_the_most_images_are_taken(
    create_product_via_api: CreateProductViaApi,
) -> None:
    longest = "https://cdn.example.vn/" + "a" * 1977
    images = [image(longest), *(image(f"https://cdn.example.vn/{i}.jpg") for i in range(9))]

    created = await create_product_via_api(images=images)

    assert len(longest) == 2000
    assert [i["url"] for i in created["images"]] == [i["url"] for i in images]


async def test_null_images_on_patch_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(images=[FRONT])

    response = await client.patch(
        f"/v1/products/{product['id']}", json={"images": None}, headers=admin
    )

    assert response.status_code == 422
    assert (await client.get(f"/v1/products/{product['id']}")).json()["images"] == [FRONT]
