from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import split_token
from app.models import ApiKey, OrderLine, OrderStatus, OrderStatusChange, Role
from tests.helpers import (
    FakeClock,
    InsertProduct,
    KeyFactory,
    place_order,
    problem,
    stock_of,
)

pytestmark = pytest.mark.anyio


async def test_pending_confirmed_fulfilled_with_history(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    insert_product: InsertProduct,
    clock: FakeClock,
) -> None:
    mandarin = await insert_product()
    order = await place_order(client, partner, (mandarin, 1))

    clock.advance(timedelta(minutes=5))
    confirmed = await client.post(f"/v1/orders/{order['id']}/confirm", headers=admin)
    clock.advance(timedelta(hours=2))
    fulfilled = await client.post(f"/v1/orders/{order['id']}/fulfil", headers=admin)

    assert confirmed.status_code == 200
    assert fulfilled.status_code == 200
    history = fulfilled.json()["history"]
    assert [h["status"] for h in history] == ["pending", "confirmed", "fulfilled"]
    assert history[2]["at"] == clock.now().isoformat().replace("+00:00", "Z")


async def key_id(db: AsyncSession, headers: dict[str, str]) -> uuid.UUID:
    """The id of the API key these headers carry."""
    parts = split_token(headers["Authorization"].removeprefix("Bearer "))
    assert parts is not None
    found = await db.scalar(select(ApiKey.id).where(ApiKey.prefix == parts[0]))
    assert found is not None
    return found


async def test_every_status_change_records_the_key_that_made_it(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    make_key: KeyFactory,
    make_owner: Any,
    insert_product: InsertProduct,
    clock: FakeClock,
    db: AsyncSession,
) -> None:
    seller = uuid.UUID((await make_owner(name="HTX Quýt vàng Bắc Sơn"))["id"])
    seller_key = await make_key(Role.owner, owner_id=seller)
    mandarin = await insert_product(owner_id=seller)
    fulfilled = await place_order(client, partner, (mandarin, 1))
    clock.advance(timedelta(minutes=1))
    cancelled = await place_order(client, partner, (mandarin, 1))

    for order_id, move, headers in [
        (fulfilled["id"], "confirm", seller_key),
        (fulfilled["id"], "fulfil", admin),
        (cancelled["id"], "cancel", partner),
    ]:
        clock.advance(timedelta(minutes=1))
        response = await client.post(f"/v1/orders/{order_id}/{move}", headers=headers)
        assert response.status_code == 200, response.text

    await db.rollback()
    rows = await db.execute(
        select(OrderStatusChange.order_id, OrderStatusChange.to_status, OrderStatusChange.by_key_id)
        .order_by(OrderStatusChange.at, OrderStatusChange.id)
        .execution_options(populate_existing=True)
    )
    changes = [(str(order_id), status, by) for order_id, status, by in rows]
    partner_id, admin_id, seller_id = [await key_id(db, h) for h in (partner, admin, seller_key)]
    assert changes == [
        (fulfilled["id"], OrderStatus.pending, partner_id),
        (cancelled["id"], OrderStatus.pending, partner_id),
        (fulfilled["id"], OrderStatus.confirmed, seller_id),
        (fulfilled["id"], OrderStatus.fulfilled, admin_id),
        (cancelled["id"], OrderStatus.cancelled, partner_id),
    ]


@pytest.mark.parametrize(
    ("moves", "refused"),
    [
        (["fulfil"], "fulfil"),  # pending -> fulfilled skips confirmation
        (["confirm", "confirm"], "confirm"),
        (["confirm", "fulfil", "cancel"], "cancel"),  # fulfilled is final
        (["cancel", "confirm"], "confirm"),
        (["cancel", "cancel"], "cancel"),
    ],
)
async def test_other_moves_are_409(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    insert_product: InsertProduct,
    moves: list[str],
    refused: str,
) -> None:
    mandarin = await insert_product()
    order = await place_order(client, partner, (mandarin, 1))
    for move in moves[:-1]:
        assert (
            await client.post(f"/v1/orders/{order['id']}/{move}", headers=admin)
        ).status_code == 200
    before = (await client.get(f"/v1/orders/{order['id']}", headers=admin)).json()

    response = await client.post(f"/v1/orders/{order['id']}/{refused}", headers=admin)

    assert response.status_code == 409
    assert problem(response)["code"] == "invalid_transition"
    assert (await client.get(f"/v1/orders/{order['id']}", headers=admin)).json() == before


async def test_cancel_returns_the_stock(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(10))
    order = await place_order(client, partner, (mandarin, 2.5))
    assert await stock_of(db, mandarin) == Decimal("7.5")

    response = await client.post(f"/v1/orders/{order['id']}/cancel", headers=partner)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert await stock_of(db, mandarin) == Decimal(10)


async def set_stock(
    client: httpx.AsyncClient, headers: dict[str, str], product: Any, stock: float | None
) -> None:
    response = await client.patch(
        f"/v1/products/{product.id}", json={"stock": stock}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["stock"] == stock


async def test_cancel_returns_nothing_that_was_not_taken(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=None)
    order = await place_order(client, partner, (mandarin, 5))
    await set_stock(client, admin, mandarin, 10)

    response = await client.post(f"/v1/orders/{order['id']}/cancel", headers=partner)

    assert response.status_code == 200, response.text
    assert await stock_of(db, mandarin) == Decimal(10)


async def test_cancel_after_the_stock_stopped_being_tracked_returns_nothing(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(10))
    order = await place_order(client, partner, (mandarin, 4))
    await set_stock(client, admin, mandarin, None)

    response = await client.post(f"/v1/orders/{order['id']}/cancel", headers=partner)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert await stock_of(db, mandarin) is None


async def test_cancel_after_a_recount_returns_what_was_taken(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(10))
    tea = await insert_product(stock=None, name="Trà Bổ Khai", unit_step=Decimal(1))
    order = await place_order(client, partner, (mandarin, 4), (tea, 3), (mandarin, 0.5))
    await set_stock(client, admin, mandarin, 20)
    await set_stock(client, admin, tea, 7)

    response = await client.post(f"/v1/orders/{order['id']}/cancel", headers=partner)

    assert response.status_code == 200, response.text
    assert await stock_of(db, mandarin) == Decimal("24.5")
    assert await stock_of(db, tea) == Decimal(7)


async def test_each_line_records_the_stock_it_took(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(10))
    temple = await insert_product(stock=None, name="Đình Bắc Lệ", unit_step=Decimal(1))
    order = await place_order(client, partner, (mandarin, 2.5), (temple, 2))

    await db.rollback()
    lines = (
        await db.execute(
            select(OrderLine.product_id, OrderLine.quantity, OrderLine.stock_taken).where(
                OrderLine.order_id == uuid.UUID(order["id"])
            )
        )
    ).all()

    assert sorted(lines) == sorted(
        [(mandarin.id, Decimal("2.5"), Decimal("2.5")), (temple.id, Decimal(2), Decimal(0))]
    )


async def test_two_concurrent_cancels_return_the_stock_once(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(10))
    order = await place_order(client, partner, (mandarin, 4))

    responses = await asyncio.gather(
        client.post(f"/v1/orders/{order['id']}/cancel", headers=partner),
        client.post(f"/v1/orders/{order['id']}/cancel", headers=admin),
    )

    assert sorted(r.status_code for r in responses) == [200, 409]
    assert await stock_of(db, mandarin) == Decimal(10)
    await db.rollback()
    changes = await db.scalar(
        select(func.count())
        .select_from(OrderStatusChange)
        .where(OrderStatusChange.order_id == uuid.UUID(order["id"]))
    )
    assert changes == 2  # pending, cancelled


async def test_order_lists_show_only_what_a_key_may_see(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    admin: dict[str, str],
    insert_product: InsertProduct,
    make_owner: Any,
    clock: FakeClock,
) -> None:
    ngoc_que = uuid.UUID((await make_owner(name="Công ty TNHH MTV Ngọc Quế"))["id"])
    bac_son = uuid.UUID((await make_owner(name="HTX Quýt vàng Bắc Sơn"))["id"])
    tea = await insert_product(owner_id=ngoc_que, name="Trà", unit="box", unit_step=Decimal(1))
    mandarin = await insert_product(owner_id=bac_son)
    shop = await make_key(Role.partner, name="shop")
    app_backend = await make_key(Role.partner, name="app")
    tea_order = await place_order(client, shop, (tea, 1))
    clock.advance(timedelta(seconds=1))
    mixed_order = await place_order(client, app_backend, (tea, 1), (mandarin, 1))
    clock.advance(timedelta(seconds=1))
    mandarin_order = await place_order(client, app_backend, (mandarin, 1))
    tea_owner = await make_key(Role.owner, owner_id=ngoc_que)

    async def listed(headers: dict[str, str]) -> list[str]:
        response = await client.get("/v1/orders", headers=headers)
        assert response.status_code == 200
        return [o["id"] for o in response.json()["items"]]

    assert await listed(admin) == [mandarin_order["id"], mixed_order["id"], tea_order["id"]]
    assert await listed(shop) == [tea_order["id"]]
    assert await listed(app_backend) == [mandarin_order["id"], mixed_order["id"]]
    assert await listed(tea_owner) == [mixed_order["id"], tea_order["id"]]


async def test_order_list_pages_and_filters(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    insert_product: InsertProduct,
    clock: FakeClock,
) -> None:
    mandarin = await insert_product()
    ids = []
    for _ in range(5):
        ids.append((await place_order(client, partner, (mandarin, 1)))["id"])
        clock.advance(timedelta(seconds=1))
    await client.post(f"/v1/orders/{ids[0]}/cancel", headers=admin)

    first = (await client.get("/v1/orders", params={"limit": 3}, headers=admin)).json()
    second = (
        await client.get(
            "/v1/orders", params={"limit": 3, "cursor": first["next_cursor"]}, headers=admin
        )
    ).json()
    cancelled = (
        await client.get("/v1/orders", params={"status": "cancelled"}, headers=admin)
    ).json()

    assert [o["id"] for o in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert [o["id"] for o in cancelled["items"]] == [ids[0]]
