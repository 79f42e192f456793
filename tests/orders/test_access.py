"""Every order endpoint against every kind of caller: who may, and that refusals change nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Order, OrderStatus, Role
from tests.helpers import (
    InsertProduct,
    KeyFactory,
    OwnerFactory,
    idem,
    order_body,
    order_count,
    stock_of,
)

pytestmark = pytest.mark.anyio

CALLERS = [
    "anonymous",
    "admin",
    "placing_partner",
    "other_partner",
    "selling_owner",
    "other_owner",
    "co_selling_owner",
]


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    order_id: str
    mixed_order_id: str
    product_id: uuid.UUID


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
) -> World:
    seller = uuid.UUID((await make_owner(name="Người bán"))["id"])
    other = uuid.UUID((await make_owner(name="Người khác"))["id"])
    co_seller = uuid.UUID((await make_owner(name="Đồng bán"))["id"])
    product = await insert_product(owner_id=seller, stock=Decimal(100))
    co_product = await insert_product(owner_id=co_seller, name="Hồi", stock=Decimal(100))
    headers = {
        "anonymous": {},
        "admin": await make_key(Role.admin),
        "placing_partner": await make_key(Role.partner, name="placing"),
        "other_partner": await make_key(Role.partner, name="other"),
        "selling_owner": await make_key(Role.owner, owner_id=seller),
        "other_owner": await make_key(Role.owner, owner_id=other),
        "co_selling_owner": await make_key(Role.owner, owner_id=co_seller),
    }
    order = await client.post(
        "/v1/orders", json=order_body((product, 1)), headers=idem(headers["placing_partner"])
    )
    mixed = await client.post(
        "/v1/orders",
        json=order_body((product, 1), (co_product, 1)),
        headers=idem(headers["placing_partner"]),
    )
    return World(headers, order.json()["id"], mixed.json()["id"], product.id)


async def snapshot(db: AsyncSession) -> list[tuple[Any, ...]]:
    await db.rollback()
    rows = await db.execute(
        select(Order.id, Order.status, Order.updated_at)
        .order_by(Order.id)
        .execution_options(populate_existing=True)
    )
    return [tuple(row) for row in rows]


READ = {
    "anonymous": 401,
    "admin": 200,
    "placing_partner": 200,
    "other_partner": 404,
    "selling_owner": 200,
    "other_owner": 404,
    "co_selling_owner": 404,
}


@pytest.mark.parametrize("caller", CALLERS)
async def test_read_one(client: httpx.AsyncClient, world: World, caller: str) -> None:
    response = await client.get(f"/v1/orders/{world.order_id}", headers=world.headers[caller])

    assert response.status_code == READ[caller]


PLACE = {
    "anonymous": 401,
    "admin": 201,
    "placing_partner": 201,
    "other_partner": 201,
    "selling_owner": 403,
    "other_owner": 403,
    "co_selling_owner": 403,
}


@pytest.mark.parametrize("caller", CALLERS)
async def test_place(
    client: httpx.AsyncClient, world: World, db: AsyncSession, caller: str
) -> None:
    count_before = await order_count(db)

    response = await client.post(
        "/v1/orders", json=order_body((world.product_id, 1)), headers=idem(world.headers[caller])
    )

    assert response.status_code == PLACE[caller]
    assert await order_count(db) == count_before + (1 if PLACE[caller] == 201 else 0)


LIST = {
    "anonymous": 401,
    "admin": 200,
    "placing_partner": 200,
    "other_partner": 200,
    "selling_owner": 200,
    "other_owner": 200,
    "co_selling_owner": 200,
}
LISTED = {
    "admin": 2,
    "placing_partner": 2,
    "other_partner": 0,
    "selling_owner": 2,
    "other_owner": 0,
    "co_selling_owner": 1,
}


@pytest.mark.parametrize("caller", CALLERS)
async def test_list(client: httpx.AsyncClient, world: World, caller: str) -> None:
    response = await client.get("/v1/orders", headers=world.headers[caller])

    assert response.status_code == LIST[caller]
    if response.status_code == 200:
        assert len(response.json()["items"]) == LISTED[caller]


MOVES: dict[str, dict[str, int]] = {
    "confirm": {
        "anonymous": 401,
        "admin": 200,
        "placing_partner": 403,
        "other_partner": 404,
        "selling_owner": 200,
        "other_owner": 404,
        "co_selling_owner": 404,
    },
    "fulfil": {
        "anonymous": 401,
        "admin": 409,
        "placing_partner": 403,
        "other_partner": 404,
        "selling_owner": 409,
        "other_owner": 404,
        "co_selling_owner": 404,
    },
    "cancel": {
        "anonymous": 401,
        "admin": 200,
        "placing_partner": 200,
        "other_partner": 404,
        "selling_owner": 200,
        "other_owner": 404,
        "co_selling_owner": 404,
    },
}


@pytest.mark.parametrize("move", list(MOVES))
@pytest.mark.parametrize("caller", CALLERS)
async def test_moves(
    client: httpx.AsyncClient, world: World, db: AsyncSession, move: str, caller: str
) -> None:
    before = await snapshot(db)
    stock_before = await stock_of(db, world.product_id)

    response = await client.post(
        f"/v1/orders/{world.order_id}/{move}", headers=world.headers[caller]
    )

    assert response.status_code == MOVES[move][caller]
    if response.status_code != 200:
        assert await snapshot(db) == before
        assert await stock_of(db, world.product_id) == stock_before


MIXED = {
    "anonymous": 401,
    "admin": 200,
    "placing_partner": 403,
    "other_partner": 404,
    "selling_owner": 403,
    "other_owner": 404,
    "co_selling_owner": 403,
}


@pytest.mark.parametrize("caller", CALLERS)
async def test_confirming_an_order_with_other_owners_products(
    client: httpx.AsyncClient, world: World, db: AsyncSession, caller: str
) -> None:
    before = await snapshot(db)

    response = await client.post(
        f"/v1/orders/{world.mixed_order_id}/confirm", headers=world.headers[caller]
    )

    assert response.status_code == MIXED[caller]
    if response.status_code != 200:
        assert await snapshot(db) == before
    else:
        assert response.json()["status"] == OrderStatus.confirmed
