"""BOLA: an owner key aimed at another owner's product is refused and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Certificate, Product, Role
from tests.helpers import CreateProductViaApi, KeyFactory, OwnerFactory, problem

pytestmark = pytest.mark.anyio


async def snapshot(db: AsyncSession) -> list[tuple[Any, ...]]:
    """Every product column that matters, plus every certificate, straight from the database."""
    db.expire_all()
    products = (await db.scalars(select(Product).order_by(Product.id))).all()
    certificates = (await db.scalars(select(Certificate).order_by(Certificate.id))).all()
    return [
        *(
            (p.id, p.owner_id, p.name, p.price_vnd, p.stock, p.status, p.updated_at)
            for p in products
        ),
        *((c.id, c.product_id, c.stars) for c in certificates),
    ]


@pytest.fixture
async def intruder(make_owner: OwnerFactory, make_key: KeyFactory) -> dict[str, str]:
    """An owner key bound to an owner that does not own the product under attack."""
    other = await make_owner(name="Hộ kinh doanh Khác", commune="Chi Lăng")
    return await make_key(Role.owner, owner_id=uuid.UUID(other["id"]))


@pytest.fixture
async def victim(create_product_via_api: CreateProductViaApi) -> dict[str, Any]:
    return await create_product_via_api()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "", {"price_vnd": 1}),
        ("PATCH", "", {"owner_id": "SELF"}),
        ("POST", "/archive", None),
        ("POST", "/restore", None),
        ("POST", "/stock-adjustments", {"delta": -1}),
    ],
)
async def test_owner_key_cannot_touch_another_owners_product(
    client: httpx.AsyncClient,
    db: AsyncSession,
    intruder: dict[str, str],
    victim: dict[str, Any],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    if body and body.get("owner_id") == "SELF":
        me = (await client.get("/v1/owners", params={"q": "khac"})).json()["items"][0]
        body = {"owner_id": me["id"]}
    before = await snapshot(db)

    response = await client.request(
        method, f"/v1/products/{victim['id']}{path}", json=body, headers=intruder
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "not_your_product"
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "loc"),
    [
        ("PATCH", "", {"price_vnd": -1}, {}, ["body", "price_vnd"]),
        ("POST", "/stock-adjustments", {"delta": "x"}, {}, ["body", "delta"]),
        ("POST", "/archive", None, {"Accept-Language": "x" * 501}, ["header", "accept-language"]),
    ],
)
async def test_bad_input_is_422_before_the_product_is_looked_at(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    intruder: dict[str, str],
    victim: dict[str, Any],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    loc: list[str],
) -> None:
    for product_id, key in [
        (uuid.uuid4(), admin),  # no such product
        (victim["id"], intruder),  # another owner's
        (victim["id"], {**admin, "If-Match": '"stale"'}),
    ]:
        response = await client.request(
            method, f"/v1/products/{product_id}{path}", json=body, headers={**key, **headers}
        )

        assert response.status_code == 422
        assert {tuple(e["loc"][:2]) for e in problem(response)["errors"]} == {tuple(loc)}


async def test_owner_key_cannot_create_for_another_owner(
    client: httpx.AsyncClient, db: AsyncSession, intruder: dict[str, str], owner: dict[str, Any]
) -> None:
    body = {
        "owner_id": owner["id"],
        "name": "Giả mạo",
        "group": "food",
        "unit": "kg",
        "price_vnd": 1,
        "commune": "Bắc Sơn",
    }

    response = await client.post("/v1/products", json=body, headers=intruder)

    assert response.status_code == 403
    assert problem(response)["code"] == "not_your_product"
    assert await snapshot(db) == []


async def test_owner_key_cannot_move_its_own_product_to_another_owner(
    client: httpx.AsyncClient,
    db: AsyncSession,
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    owner: dict[str, Any],
    victim: dict[str, Any],
) -> None:
    mine = await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))
    elsewhere = await make_owner(name="Hợp tác xã Nơi khác", commune="Chi Lăng")
    before = await snapshot(db)

    response = await client.patch(
        f"/v1/products/{victim['id']}", json={"owner_id": elsewhere["id"]}, headers=mine
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "not_your_product"
    assert await snapshot(db) == before


async def test_owner_key_cannot_certify_even_its_own_product(
    client: httpx.AsyncClient,
    db: AsyncSession,
    make_key: KeyFactory,
    owner: dict[str, Any],
    victim: dict[str, Any],
) -> None:
    mine = await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))
    before = await snapshot(db)
    body = {"stars": 5, "score": 95, "decision_no": "1/QĐ-UBND", "issued_on": "2025-09-30"}

    response = await client.post(
        f"/v1/products/{victim['id']}/certificates", json=body, headers=mine
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "forbidden_role"
    assert await snapshot(db) == before


async def test_owner_key_cannot_import(
    client: httpx.AsyncClient,
    db: AsyncSession,
    make_key: KeyFactory,
    owner: dict[str, Any],
) -> None:
    mine = await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))
    csv = f"owner_name,product_name,group,unit,price_vnd\n{owner['name']},Giả mạo,food,kg,1\n"

    response = await client.post(
        "/v1/products/import",
        content=csv.encode(),
        headers={**mine, "content-type": "text/csv"},
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "forbidden_role"
    assert await snapshot(db) == []


async def test_owner_key_edits_its_own_product(
    client: httpx.AsyncClient, make_key: KeyFactory, owner: dict[str, Any], victim: dict[str, Any]
) -> None:
    mine = await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))

    response = await client.patch(
        f"/v1/products/{victim['id']}", json={"price_vnd": 52000}, headers=mine
    )

    assert response.status_code == 200
    assert response.json()["price_vnd"] == 52000


async def test_owner_key_creates_for_its_own_owner(
    client: httpx.AsyncClient, make_key: KeyFactory, owner: dict[str, Any]
) -> None:
    mine = await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))
    body = {
        "owner_id": owner["id"],
        "name": "Quýt vàng sấy",
        "group": "food",
        "unit": "bag",
        "price_vnd": 60000,
        "commune": "Bắc Sơn",
    }

    response = await client.post("/v1/products", json=body, headers=mine)

    assert response.status_code == 201


async def test_partner_key_cannot_create_products(
    client: httpx.AsyncClient, partner: dict[str, str], owner: dict[str, Any], db: AsyncSession
) -> None:
    body = {
        "owner_id": owner["id"],
        "name": "X",
        "group": "food",
        "unit": "bag",
        "price_vnd": 1,
        "commune": "Bắc Sơn",
    }

    response = await client.post("/v1/products", json=body, headers=partner)

    assert response.status_code == 403
    assert await snapshot(db) == []


async def test_writes_without_a_key_are_401(
    client: httpx.AsyncClient, victim: dict[str, Any]
) -> None:
    response = await client.post(f"/v1/products/{victim['id']}/archive")

    assert response.status_code == 401
