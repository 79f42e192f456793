"""Finding an order by its `number` and by the partner's `reference`: the same rule as reading it
by id (admins every order, a partner those it placed, an owner those with its products)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.models import Role
from tests.helpers import InsertProduct, KeyFactory, OwnerFactory, idem, order_body, problem

pytestmark = pytest.mark.anyio


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    order: dict[str, Any]
    other_order: dict[str, Any]


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
) -> World:
    """Two partners each placed an order with reference `WEB-1`, of different owners' products."""
    seller = uuid.UUID((await make_owner(name="Người bán"))["id"])
    other_seller = uuid.UUID((await make_owner(name="Người bán khác"))["id"])
    product = await insert_product(owner_id=seller, stock=Decimal(100))
    other_product = await insert_product(owner_id=other_seller, name="Hồi", stock=Decimal(100))
    headers = {
        "anonymous": {},
        "admin": await make_key(Role.admin),
        "placing_partner": await make_key(Role.partner, name="placing"),
        "other_partner": await make_key(Role.partner, name="other"),
        "selling_owner": await make_key(Role.owner, owner_id=seller),
        "other_owner": await make_key(Role.owner, owner_id=other_seller),
    }
    order = await client.post(
        "/v1/orders",
        json=order_body((product, 1), reference="WEB-1"),
        headers=idem(headers["placing_partner"]),
    )
    other_order = await client.post(
        "/v1/orders",
        json=order_body((other_product, 1), reference="WEB-1"),
        headers=idem(headers["other_partner"]),
    )
    assert (order.status_code, other_order.status_code) == (201, 201)
    return World(headers, order.json(), other_order.json())


BY_NUMBER = {
    "anonymous": 401,
    "admin": 200,
    "placing_partner": 200,
    "other_partner": 404,
    "selling_owner": 200,
    "other_owner": 404,
}


@pytest.mark.parametrize("caller", list(BY_NUMBER))
async def test_by_number_as_reading_by_id(
    client: httpx.AsyncClient, world: World, caller: str
) -> None:
    number = world.order["number"]

    response = await client.get(f"/v1/orders/by-number/{number}", headers=world.headers[caller])
    by_id = await client.get(f"/v1/orders/{world.order['id']}", headers=world.headers[caller])

    assert response.status_code == by_id.status_code == BY_NUMBER[caller]
    if response.status_code == 200:
        assert response.json() == by_id.json() == world.order
        assert response.headers["etag"] == by_id.headers["etag"]
    else:
        assert problem(response)["code"] == problem(by_id)["code"]


async def test_by_number_ignores_case(client: httpx.AsyncClient, world: World) -> None:
    number = world.order["number"].lower()

    response = await client.get(
        f"/v1/orders/by-number/{number}", headers=world.headers["placing_partner"]
    )

    assert response.status_code == 200
    assert response.json()["id"] == world.order["id"]


async def test_an_unknown_number_is_404(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get(
        "/v1/orders/by-number/LS000101-00000000", headers=world.headers["admin"]
    )

    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


async def test_a_malformed_number_is_422(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/v1/orders/by-number/LS%20251103", headers=world.headers["admin"])

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [["path", "number"]]


async def test_by_number_answers_304_to_its_etag(client: httpx.AsyncClient, world: World) -> None:
    path = f"/v1/orders/by-number/{world.order['number']}"
    headers = world.headers["placing_partner"]
    etag = (await client.get(path, headers=headers)).headers["etag"]

    response = await client.get(path, headers={**headers, "If-None-Match": etag})

    assert response.status_code == 304


BY_REFERENCE = {
    "admin": ["mine", "other"],
    "placing_partner": ["mine"],
    "other_partner": ["other"],
    "selling_owner": ["mine"],
    "other_owner": ["other"],
}


@pytest.mark.parametrize("caller", list(BY_REFERENCE))
async def test_by_reference_lists_what_the_key_may_see(
    client: httpx.AsyncClient, world: World, caller: str
) -> None:
    ids = {world.order["id"]: "mine", world.other_order["id"]: "other"}

    response = await client.get(
        "/v1/orders", params={"reference": "WEB-1"}, headers=world.headers[caller]
    )

    assert response.status_code == 200
    assert sorted(ids[item["id"]] for item in response.json()["items"]) == BY_REFERENCE[caller]


async def test_by_reference_finds_nothing_for_another_reference(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(
        "/v1/orders", params={"reference": "WEB-2"}, headers=world.headers["admin"]
    )

    assert response.json()["items"] == []


async def test_by_reference_needs_a_key(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/v1/orders", params={"reference": "WEB-1"})

    assert response.status_code == 401
