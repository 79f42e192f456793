"""A partner's own order `reference` (one order per reference and key) and its `metadata`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.schemas import canonical
from app.idempotency.service import fingerprint
from app.models import Product, Role
from app.orders import service
from app.orders.schemas import OrderCreate
from tests.helpers import (
    InsertProduct,
    KeyFactory,
    idem,
    order_body,
    order_count,
    problem,
    stock_of,
)

pytestmark = pytest.mark.anyio

METADATA = {"shop_order_id": "100234", "campaign": "tet_2026", "ghi_chu": "Giao giờ hành chính"}

Place = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def mandarin(insert_product: InsertProduct) -> Product:
    return await insert_product(stock=Decimal(100), unit_step=Decimal(1))


@pytest.fixture
def place(client: httpx.AsyncClient, mandarin: Product) -> Place:
    """Place an order of 1 kg of the mandarin with these headers and extra body fields."""

    async def post(
        headers: dict[str, str], key: str | None = None, **fields: Any
    ) -> httpx.Response:
        return await client.post(
            "/v1/orders", json=order_body((mandarin, 1), **fields), headers=idem(headers, key)
        )

    return post


async def test_reference_and_metadata_are_stored_and_returned(
    client: httpx.AsyncClient, partner: dict[str, str], place: Place
) -> None:
    placed = await place(partner, reference="WEB-100234", metadata=METADATA)

    assert placed.status_code == 201, placed.text
    assert (placed.json()["reference"], placed.json()["metadata"]) == ("WEB-100234", METADATA)
    read = await client.get(f"/v1/orders/{placed.json()['id']}", headers=partner)
    assert (read.json()["reference"], read.json()["metadata"]) == ("WEB-100234", METADATA)
    listed = await client.get("/v1/orders", headers=partner)
    assert listed.json()["items"][0]["metadata"] == METADATA


async def test_without_them_an_order_has_no_reference_and_empty_metadata(
    partner: dict[str, str], place: Place
) -> None:
    first, second = await place(partner), await place(partner)

    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["reference"], first.json()["metadata"]) == (None, {})


async def test_the_same_reference_from_the_same_key_is_409_naming_the_order(
    partner: dict[str, str], place: Place, mandarin: Product, db: AsyncSession
) -> None:
    first = await place(partner, reference="WEB-1")

    again = await place(partner, reference="WEB-1", note="sent twice")

    assert again.status_code == 409
    body = problem(again)
    assert body["code"] == "reference_taken"
    assert (body["order_id"], body["number"]) == (first.json()["id"], first.json()["number"])
    assert await order_count(db) == 1
    assert await stock_of(db, mandarin) == Decimal(99)


async def test_a_taken_reference_is_refused_before_the_items_are_checked(
    client: httpx.AsyncClient, partner: dict[str, str], place: Place
) -> None:
    first = await place(partner, reference="WEB-1")

    again = await client.post(
        "/v1/orders",
        json=order_body((uuid.uuid4(), 1), reference="WEB-1"),
        headers=idem(partner),
    )

    assert again.status_code == 409
    assert problem(again)["order_id"] == first.json()["id"]


async def test_a_cancelled_order_keeps_its_reference(
    client: httpx.AsyncClient, partner: dict[str, str], place: Place
) -> None:
    first = await place(partner, reference="WEB-1")
    await client.post(f"/v1/orders/{first.json()['id']}/cancel", headers=partner)

    again = await place(partner, reference="WEB-1")

    assert again.status_code == 409
    assert problem(again)["order_id"] == first.json()["id"]


async def test_another_key_may_use_the_same_reference(
    partner: dict[str, str], make_key: KeyFactory, place: Place, db: AsyncSession
) -> None:
    other = await make_key(Role.partner, name="another shop")
    await place(partner, reference="WEB-1")

    response = await place(other, reference="WEB-1")

    assert response.status_code == 201, response.text
    assert await order_count(db) == 2


async def test_the_same_idempotency_key_and_body_replay_the_order(
    partner: dict[str, str], place: Place, db: AsyncSession
) -> None:
    first = await place(partner, key="k1", reference="WEB-1", metadata=METADATA)

    again = await place(
        partner, key="k1", reference="WEB-1", metadata=dict(reversed(METADATA.items()))
    )

    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await order_count(db) == 1


async def test_the_same_idempotency_key_with_other_metadata_is_422(
    partner: dict[str, str], place: Place, db: AsyncSession
) -> None:
    await place(partner, key="k1", reference="WEB-1", metadata=METADATA)

    again = await place(partner, key="k1", reference="WEB-1", metadata={"campaign": "other"})

    assert again.status_code == 422
    assert problem(again)["code"] == "idempotency_key_reused"
    assert await order_count(db) == 1


def test_reference_and_metadata_are_part_of_the_fingerprint() -> None:
    def digest(**fields: Any) -> str:
        body = OrderCreate.model_validate(order_body((uuid.UUID(int=1), 1), **fields))
        return fingerprint("POST", "/v1/orders", canonical(body))

    assert digest(reference="A") != digest(reference="B") != digest()
    assert digest(metadata={"a": "1", "b": "2"}) == digest(metadata={"b": "2", "a": "1"})
    assert digest(metadata={"a": "1"}) != digest(metadata={"a": "2"}) != digest()


async def test_concurrent_orders_with_one_reference_place_one(
    partner: dict[str, str], place: Place, mandarin: Product, db: AsyncSession
) -> None:
    async def racer() -> httpx.Response:
        """One client: its own Idempotency-Key, retried on 503 as the contract says a client
        may (on a loaded machine a loser can wait out the statement timeout behind the
        winner); a retry must then find the winner's order, never place a second."""
        key = str(uuid.uuid4())
        for _ in range(5):
            response = await place(partner, key, reference="WEB-1")
            if response.status_code != 503:
                return response
        return response

    responses = await asyncio.gather(*(racer() for _ in range(4)))

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [
        r.text for r in responses
    ]
    winner = next(r for r in responses if r.status_code == 201)
    for loser in (r for r in responses if r.status_code == 409):
        assert problem(loser)["order_id"] == winner.json()["id"]
    assert await order_count(db) == 1
    assert await stock_of(db, mandarin) == Decimal(99)


@pytest.mark.postgres_only
async def test_two_orders_past_the_check_at_once_place_one(
    partner: dict[str, str],
    place: Place,
    mandarin: Product,
    db: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both find the reference free, then both insert: the unique constraint decides."""
    both_checked = asyncio.Barrier(2)
    check = service._ensure_reference_free

    async def check_then_wait(*args: Any) -> None:
        await check(*args)
        await both_checked.wait()

    monkeypatch.setattr(service, "_ensure_reference_free", check_then_wait)

    responses = await asyncio.gather(
        place(partner, reference="WEB-1"), place(partner, reference="WEB-1")
    )

    assert sorted(r.status_code for r in responses) == [201, 409]
    winner = next(r for r in responses if r.status_code == 201)
    loser = next(r for r in responses if r.status_code == 409)
    assert problem(loser)["code"] == "reference_taken"
    assert (problem(loser)["order_id"], problem(loser)["number"]) == (
        winner.json()["id"],
        winner.json()["number"],
    )
    assert await order_count(db) == 1
    assert await stock_of(db, mandarin) == Decimal(99)


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"reference": ""}, ["body", "reference"]),
        ({"reference": "WEB 1"}, ["body", "reference"]),
        ({"reference": "x" * 201}, ["body", "reference"]),
        ({"reference": 100234}, ["body", "reference"]),
        ({"metadata": {f"k{i}": "v" for i in range(21)}}, ["body", "metadata"]),
        ({"metadata": {"Campaign": "x"}}, ["body", "metadata", "Campaign", "[key]"]),
        ({"metadata": {"shop-id": "x"}}, ["body", "metadata", "shop-id", "[key]"]),
        ({"metadata": {"k" * 41: "x"}}, ["body", "metadata", "k" * 41, "[key]"]),
        ({"metadata": {"": "x"}}, ["body", "metadata", "", "[key]"]),
        ({"metadata": {"note": "x" * 501}}, ["body", "metadata", "note"]),
        ({"metadata": {"note": "a\x00b"}}, ["body", "metadata", "note"]),
        ({"metadata": {"count": 3}}, ["body", "metadata", "count"]),
        ({"metadata": {"nested": {"a": "b"}}}, ["body", "metadata", "nested"]),
        ({"metadata": ["a"]}, ["body", "metadata"]),
    ],
)
async def test_out_of_bounds_is_422_and_places_nothing(
    partner: dict[str, str],
    place: Place,
    db: AsyncSession,
    fields: dict[str, Any],
    loc: list[Any],
) -> None:
    response = await place(partner, **fields)

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [loc]
    assert await order_count(db) == 0


async def test_the_largest_metadata_is_taken(partner: dict[str, str], place: Place) -> None:
    metadata = {f"{i:02d}" + "k" * 38: "v" * 500 for i in range(20)}

    response = await place(partner, reference="x" * 200, metadata=metadata)

    assert response.status_code == 201, response.text
    assert response.json()["metadata"] == metadata
