from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.schemas import canonical
from app.idempotency.service import fingerprint, purge
from app.models import ApiKey, IdempotencyRecord, IdempotencyStatus, Order, Role
from app.orders.schemas import OrderCreate
from tests.helpers import (
    FakeClock,
    InsertProduct,
    KeyFactory,
    idem,
    order_body,
    order_count,
    problem,
    stock_of,
)

pytestmark = pytest.mark.anyio


async def test_missing_key_is_400_and_writes_nothing(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product()

    response = await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=partner)

    assert response.status_code == 400
    assert problem(response)["code"] == "idempotency_key_required"
    assert await order_count(db) == 0


async def test_the_openapi_document_says_the_key_is_required(client: httpx.AsyncClient) -> None:
    # It said "required": false, so clients (and Schemathesis) were told they could leave out
    # a header without which every order is refused (400 idempotency_key_required).
    operation = (await client.get("/openapi.json")).json()["paths"]["/v1/orders"]["post"]

    assert operation["parameters"] == [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": "A unique key per intended operation (a UUID is ideal); retries "
            "reuse it. Without it the request is refused (400 `idempotency_key_required`).",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": 255,
                "pattern": r"^[\x21-\x7e]+$",
            },
        }
    ]


async def test_same_key_same_body_replays_the_stored_answer(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(10))
    headers = idem(partner)

    first = await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=headers)
    again = await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await order_count(db) == 1
    assert await stock_of(db, mandarin) == Decimal(9)


async def test_same_key_other_body_is_422(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(10))
    headers = idem(partner)
    await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=headers)

    response = await client.post("/v1/orders", json=order_body((mandarin, 2)), headers=headers)

    assert response.status_code == 422
    assert problem(response)["code"] == "idempotency_key_reused"
    assert await order_count(db) == 1
    assert await stock_of(db, mandarin) == Decimal(9)


@pytest.mark.parametrize("again", [1.0, "1.000", "1e0", "0.1e1"])
async def test_the_same_quantity_written_otherwise_is_the_same_request(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
    again: float | str,
) -> None:
    mandarin = await insert_product(stock=Decimal(10))
    headers = {**idem(partner), "content-type": "application/json"}
    body = order_body((mandarin, 1))
    first = await client.post("/v1/orders", json=body, headers=headers)
    assert first.status_code == 201, first.text

    # The same order with `1` written as `1.0`, `1.000`, `1e0`: JSON text, as a client sends it.
    text = json.dumps(body).replace('"quantity": 1}', f'"quantity": {again}}}')
    assert text != json.dumps(body)
    response = await client.post("/v1/orders", content=text, headers=headers)

    assert response.status_code == 201, response.text
    assert response.headers["idempotent-replayed"] == "true"
    assert response.json() == first.json()
    assert await order_count(db) == 1
    assert await stock_of(db, mandarin) == Decimal(9)


def test_equal_requests_have_one_fingerprint_and_others_differ() -> None:
    product = uuid.uuid4()

    def digest(*quantities: float | Decimal) -> str:
        body = order_body()
        body["items"] = [{"product_id": str(product), "quantity": q} for q in quantities]
        return fingerprint("POST", "/v1/orders", canonical(OrderCreate.model_validate(body)))

    assert digest(1) == digest(1.0) == digest(Decimal("1.000")) == digest(Decimal("1E+0"))
    assert digest(100) == digest(Decimal("100.000")) == digest(Decimal("1E+2"))
    assert digest(1) != digest(2)
    assert digest(0.5) != digest(5)
    assert digest(1, 2) != digest(2, 1)


async def test_keys_are_scoped_to_the_api_key(
    client: httpx.AsyncClient, make_key: KeyFactory, insert_product: InsertProduct, db: AsyncSession
) -> None:
    mandarin = await insert_product()
    shop = await make_key(Role.partner, name="shop")
    app_backend = await make_key(Role.partner, name="app")

    first = await client.post(
        "/v1/orders", json=order_body((mandarin, 1)), headers=idem(shop, "order-1")
    )
    second = await client.post(
        "/v1/orders", json=order_body((mandarin, 1)), headers=idem(app_backend, "order-1")
    )

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert await order_count(db) == 2


async def _claim_in_progress(
    app: FastAPI,
    token_header: dict[str, str],
    key: str,
    body: dict[str, object],
    locked_for: timedelta,
    clock: FakeClock,
) -> None:
    """What a request still being processed (in another process, say) leaves behind."""
    prefix = token_header["Authorization"].split("_")[1]
    async with app.state.writer_sessionmaker() as session:
        api_key = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        assert api_key is not None
        session.add(
            IdempotencyRecord(
                api_key_id=api_key.id,
                key=key,
                request_hash=fingerprint(
                    "POST", "/v1/orders", canonical(OrderCreate.model_validate(body))
                ),
                status=IdempotencyStatus.in_progress,
                claim_token=uuid.uuid4(),
                locked_until=clock.now() + locked_for,
            )
        )
        await session.commit()


async def test_key_still_in_progress_is_409(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    clock: FakeClock,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product()
    body = order_body((mandarin, 1))
    await _claim_in_progress(app, partner, "busy", body, timedelta(seconds=30), clock)

    response = await client.post("/v1/orders", json=body, headers=idem(partner, "busy"))

    assert response.status_code == 409
    assert problem(response)["code"] == "idempotency_in_progress"
    assert response.headers["retry-after"] == "1"
    assert await order_count(db) == 0


async def test_abandoned_claim_is_taken_over_after_its_lock(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    clock: FakeClock,
    db: AsyncSession,
) -> None:
    """A process that died mid-request leaves a claim; once its lock runs out a retry proceeds."""
    mandarin = await insert_product()
    body = order_body((mandarin, 1))
    first = await client.post("/v1/orders", json=body, headers=idem(partner, "crashed"))
    assert first.status_code == 201
    async with app.state.writer_sessionmaker() as session:  # make it look abandoned
        record = await session.scalar(select(IdempotencyRecord))
        assert record is not None
        record.status = IdempotencyStatus.in_progress
        record.locked_until = clock.now() + timedelta(seconds=60)
        await session.execute(delete(Order))
        await session.commit()

    while_locked = await client.post("/v1/orders", json=body, headers=idem(partner, "crashed"))
    clock.advance(timedelta(seconds=61))
    after_lock = await client.post("/v1/orders", json=body, headers=idem(partner, "crashed"))

    assert while_locked.status_code == 409
    assert after_lock.status_code == 201
    assert await order_count(db) == 1


async def test_failed_attempt_releases_the_key(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    app: FastAPI,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(1))
    headers = idem(partner)
    body = order_body((mandarin, 2))
    refused = await client.post("/v1/orders", json=body, headers=headers)
    async with app.state.writer_sessionmaker() as session:
        product = await session.get(type(mandarin), mandarin.id)
        assert product is not None
        product.stock = Decimal(5)
        await session.commit()

    retried = await client.post("/v1/orders", json=body, headers=headers)

    assert refused.status_code == 409
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert await stock_of(db, mandarin) == Decimal(3)


async def test_concurrent_duplicates_create_one_order(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(100))
    headers = idem(partner)
    body = order_body((mandarin, 1))

    responses = await asyncio.gather(
        *(client.post("/v1/orders", json=body, headers=headers) for _ in range(5))
    )

    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 5 - sum(r.status_code == 409 for r in responses)
    assert {r.json()["id"] for r in created} == {created[0].json()["id"]}
    assert await order_count(db) == 1
    assert await stock_of(db, mandarin) == Decimal(99)


async def test_purge_keeps_recent_answers(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    clock: FakeClock,
) -> None:
    mandarin = await insert_product()
    await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=idem(partner, "old"))
    clock.advance(timedelta(hours=30))
    await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=idem(partner, "new"))

    async with app.state.writer_sessionmaker() as session:
        removed = await purge(session, older_than=clock.now() - timedelta(hours=24))
        await session.commit()
        remaining = list(await session.scalars(select(IdempotencyRecord.key)))
        orders = await session.scalar(select(func.count()).select_from(Order))

    assert removed == 1
    assert remaining == ["new"]
    assert orders == 2
