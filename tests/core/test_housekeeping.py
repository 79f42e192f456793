"""The worker's chores: stored idempotent answers go once past their retention."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.core.config import Settings
from app.core.housekeeping import Housekeeper
from app.models import IdempotencyRecord
from tests.conftest import FakeClock
from tests.fixtures.catalog import ProductFactory, idem, order_body

pytestmark = pytest.mark.anyio


async def stored_keys(app: FastAPI) -> list[str]:
    async with app.state.sessionmaker() as session:
        return list(await session.scalars(select(IdempotencyRecord.key).order_by("key")))


async def test_answers_past_their_retention_are_deleted_and_others_kept(
    app: FastAPI,
    settings: Settings,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    make_product: ProductFactory,
    clock: FakeClock,
) -> None:
    mandarin = await make_product()
    body = order_body((mandarin, 1))
    await client.post("/v1/orders", json=body, headers=idem(partner, "old"))
    clock.advance(timedelta(hours=settings.idempotency_retention_h, minutes=1))
    await client.post("/v1/orders", json=body, headers=idem(partner, "new"))

    removed = await Housekeeper(app.state.sessionmaker, settings, clock=clock).run_once()

    assert removed == 1
    assert await stored_keys(app) == ["new"]
    # The old key is free again: the same request now places a new order.
    again = await client.post("/v1/orders", json=body, headers=idem(partner, "old"))
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers


async def test_the_worker_loop_runs_a_round_at_once_and_stops_when_told(
    app: FastAPI,
    settings: Settings,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    make_product: ProductFactory,
    clock: FakeClock,
) -> None:
    mandarin = await make_product()
    await client.post("/v1/orders", json=order_body((mandarin, 1)), headers=idem(partner, "old"))
    clock.advance(timedelta(hours=settings.idempotency_retention_h + 1))
    hourly = settings.model_copy(update={"housekeeping_interval_s": 3600})
    stop = asyncio.Event()

    housekeeper = Housekeeper(app.state.sessionmaker, hourly, clock=clock)

    running = asyncio.create_task(housekeeper.run(stop))
    async with asyncio.timeout(10):
        while await stored_keys(app):  # noqa: ASYNC110 (the round gives no signal)
            await asyncio.sleep(0.01)
        stop.set()
        await running
