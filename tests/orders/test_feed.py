"""The orders' change feed: `GET /v1/orders?updated_since=...`, then its cursors."""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.models import Role
from tests.helpers import (
    EPOCH,
    QUICK_FEED,
    InsertEvent,
    InsertProduct,
    KeyFactory,
    OwnerFactory,
    idem,
    order_body,
    place_order,
    problem,
    read_feed,
    read_list,
    settle,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=QUICK_FEED)


async def test_each_key_is_served_the_orders_it_may_see_in_every_status(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
) -> None:
    seller = (await make_owner(name="Hợp tác xã Bán"))["id"]
    seller_key = await make_key(Role.owner, owner_id=uuid.UUID(seller))
    other_partner = await make_key(Role.partner, name="other partner")
    mine = await insert_product(owner_id=seller)
    theirs = await insert_product()
    cancelled = await place_order(client, partner, (mine, 1))
    confirmed = await place_order(client, partner, (theirs, 1))
    other = await place_order(client, other_partner, (mine, 1))
    await client.post(f"/v1/orders/{cancelled['id']}/cancel", headers=partner)
    await client.post(f"/v1/orders/{confirmed['id']}/confirm", headers=admin)
    await settle(app)

    def served(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [(item["id"], item["status"]) for item in items]

    assert served((await read_feed(client, "/v1/orders", headers=partner))[0]) == [
        (cancelled["id"], "cancelled"),
        (confirmed["id"], "confirmed"),
    ]
    assert served((await read_feed(client, "/v1/orders", headers=seller_key))[0]) == [
        (other["id"], "pending"),
        (cancelled["id"], "cancelled"),
    ]
    assert served((await read_feed(client, "/v1/orders", headers=admin))[0]) == [
        (other["id"], "pending"),
        (cancelled["id"], "cancelled"),
        (confirmed["id"], "confirmed"),
    ]


async def test_the_feed_needs_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/orders", params={"updated_since": EPOCH})

    assert response.status_code == 401


async def test_the_feed_may_be_of_one_event(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
) -> None:
    product = await insert_product()
    event = await insert_event(products={product.id: None})
    at_event = await place_order(client, partner, (product, 1))
    response = await client.post(
        "/v1/orders",
        json=order_body((product, 1), event_id=str(event.id)),
        headers=idem(partner),
    )
    await settle(app)

    items, _cursor = await read_feed(client, "/v1/orders", headers=partner, event_id=str(event.id))

    assert at_event["event_id"] is None
    assert [item["id"] for item in items] == [response.json()["id"]]


async def test_the_feed_takes_no_status_filter(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    response = await client.get(
        "/v1/orders", params={"updated_since": EPOCH, "status": "pending"}, headers=partner
    )

    assert response.status_code == 422
    (error,) = problem(response)["errors"]
    assert error["msg"].endswith("it does not combine with status")


# Every move of an order moves its `updated_at`, and the feed serves it again.


@pytest.mark.parametrize(
    ("before", "move"),
    [((), "confirm"), (("confirm",), "fulfil"), ((), "cancel"), (("confirm",), "cancel")],
)
async def test_every_status_move_moves_updated_at_and_is_served_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    before: tuple[str, ...],
    move: str,
) -> None:
    order = await place_order(client, admin, (await insert_product(), 1))
    for earlier in before:
        await client.post(f"/v1/orders/{order['id']}/{earlier}", headers=admin)
    await settle(app)
    served, cursor = await read_feed(client, "/v1/orders", headers=admin)

    response = await client.post(f"/v1/orders/{order['id']}/{move}", headers=admin)
    await settle(app)
    after, _cursor = await read_feed(client, "/v1/orders", cursor, headers=admin)

    assert response.status_code == 200, response.text
    assert [item["id"] for item in after] == [order["id"]]
    assert datetime.fromisoformat(after[0]["updated_at"]) > datetime.fromisoformat(
        served[0]["updated_at"]
    )
    assert after[0] == (await client.get(f"/v1/orders/{order['id']}", headers=admin)).json()


# Mirrors kept from the feed, one per key, equal what each key may see.


@pytest.mark.parametrize("seed", [31, 32, 33])
async def test_mirrors_built_from_the_feed_equal_the_live_orders(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
    seed: int,
) -> None:
    rng = random.Random(seed)
    seller = (await make_owner(name="Hợp tác xã Bán"))["id"]
    keys = {
        "admin": admin,
        "partner": partner,
        "other partner": await make_key(Role.partner, name="other partner"),
        "seller": await make_key(Role.owner, owner_id=uuid.UUID(seller)),
    }
    products = [await insert_product(owner_id=seller), await insert_product()]
    ids: list[str] = []
    mirrors: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in keys}
    cursors: dict[str, str | None] = dict.fromkeys(keys)
    received: list[tuple[str, str, str]] = []

    async def create() -> None:
        placer = keys[rng.choice(["admin", "partner", "other partner"])]
        items = [
            (product, rng.randint(1, 3)) for product in rng.sample(products, rng.randint(1, 2))
        ]
        ids.append((await place_order(client, placer, *items))["id"])

    async def move() -> None:
        action = rng.choice(["confirm", "fulfil", "cancel"])
        response = await client.post(f"/v1/orders/{rng.choice(ids)}/{action}", headers=admin)
        assert response.status_code in (200, 409), response.text  # not from that status

    for _batch in range(5):
        for _ in range(rng.randint(2, 8)):
            await (create() if len(ids) < 2 or rng.random() < 0.4 else move())
        await settle(app)
        for name, headers in keys.items():
            items, cursors[name] = await read_feed(
                client, "/v1/orders", cursors[name], headers=headers, limit=5
            )
            for item in items:
                mirrors[name][item["id"]] = item
                received.append((name, item["id"], item["updated_at"]))

            live = await read_list(client, "/v1/orders", headers=headers)
            assert mirrors[name] == {item["id"]: item for item in live}
    assert sorted(mirrors["admin"]) == sorted(ids)
    assert len(set(received)) == len(received)
