from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.webhooks.worker import DeliveryWorker
from tests.helpers import FakeClock
from tests.webhooks.receiver import Receiver, running


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP receiver on 127.0.0.1 that records what webhooks it gets."""
    async with running(Receiver()) as r:
        yield r


@pytest.fixture
async def worker(
    app: FastAPI, settings: Settings, clock: FakeClock
) -> AsyncIterator[DeliveryWorker]:
    """The delivery worker of `ocop worker`, run in the test's process on the test's clock."""
    w = DeliveryWorker(app.state.sessionmaker, settings, clock=clock)
    yield w
    await w.aclose()
