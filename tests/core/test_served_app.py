"""`ocop serve` runs `create_served_app`: once started, its long-lived objects are frozen out of
the garbage collector's sight and young collections are rarer (the suite's own apps are not)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.main import GC_GENERATION0_THRESHOLD, create_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def gc_state() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("gc_state")
async def test_a_served_app_tunes_the_collector_once_started(settings: Settings) -> None:
    gc.unfreeze()
    default = gc.get_threshold()
    app = create_app(settings, tune_gc=True)
    assert gc.get_freeze_count() == 0
    async with LifespanManager(app):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_GENERATION0_THRESHOLD, *default[1:])


@pytest.mark.usefixtures("gc_state")
async def test_an_app_of_the_suite_leaves_the_collector_alone(settings: Settings) -> None:
    gc.unfreeze()
    default = gc.get_threshold()
    async with LifespanManager(create_app(settings)):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == default
