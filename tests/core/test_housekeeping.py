"""The worker's chores: stored idempotent answers go once past their retention."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.core.config import Settings
from app.idempotency.housekeeping import Housekeeper
from app.models import IdempotencyRecord
from tests.helpers import FakeClock, InsertProduct, idem, order_body

pytestmark = pytest.mark.anyio


async def stored_keys(app: FastAPI) -> list[str]:
    async with app.state.sessionmaker() as session:
        return list(await session.scalars(select(IdempotencyRecord.key).order_by("key")))


@pytest.fixture
async def stale_order(
    settings: Settings,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    clock: FakeClock,
) -> dict[str, Any]:
    """An order placed with Idempotency-Key "old", its stored answer now just past retention;
    the order's body."""
    body = order_body((await insert_product(), 1))
    await client.post("/v1/orders", json=body, headers=idem(partner, "old"))
    clock.advance(timedelta(hours=settings.idempotency_retention_h, minutes=1))
    return body


async def test_answers_past_their_retention_are_deleted_and_others_kept(
    app: FastAPI,
    settings: Settings,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    clock: FakeClock,
    stale_order: dict[str, Any],
) -> None:
    await client.post("/v1/orders", json=stale_order, headers=idem(partner, "new"))

    removed = await Housekeeper(app.state.sessionmaker, settings, clock=clock).run_once()

    assert removed == 1
    assert await stored_keys(app) == ["new"]
    # The old key is free again: the same request now places a new order.
    again = await client.post("/v1/orders", json=stale_order, headers=idem(partner, "old"))
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers


@pytest.mark.usefixtures("stale_order")
async def test_the_worker_loop_runs_a_round_at_once_and_stops_when_told(
    app: FastAPI, settings: Settings, clock: FakeClock
) -> None:
    hourly = settings.model_copy(update={"housekeeping_interval_s": 3600})
    housekeeper = Housekeeper(app.state.sessionmaker, hourly, clock=clock)
    stop = asyncio.Event()

    running = asyncio.create_task(housekeeper.run(stop))
    async with asyncio.timeout(10):
        while await stored_keys(app):  # noqa: ASYNC110 (the round gives no signal)
            await asyncio.sleep(0.01)
        stop.set()
        await running
