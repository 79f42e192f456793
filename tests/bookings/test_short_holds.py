"""`OCOP_BOOKINGS_HOLD_S` (development and tests only): every new hold lasts that many seconds,
so that holds can be watched expiring in real time (tests/bookings/test_concurrency.py)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from pydantic import ValidationError

from app.core.config import Environment, Settings
from tests.helpers import CreateExperienceViaApi, FakeClock, HoldViaApi

pytestmark = pytest.mark.anyio


async def places_left(client: httpx.AsyncClient, product_id: str) -> int:
    detail = await client.get(f"/v1/experiences/{product_id}/availability?date=2025-11-08")
    return int(detail.json()["slots"][0]["places_left"])


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"bookings_hold_s": 30})


async def test_a_hold_lasts_the_set_seconds_whatever_the_experience_says(
    client: httpx.AsyncClient,
    clock: FakeClock,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    product_id = (await create_experience_via_api(hold_minutes=15))["product_id"]

    held = (await hold_via_api(product_id)).json()
    clock.advance(timedelta(seconds=29))
    before = await places_left(client, product_id)
    clock.advance(timedelta(seconds=1))

    assert (held["created_at"], held["expires_at"]) == (
        "2025-11-01T01:00:00Z",
        "2025-11-01T01:00:30Z",
    )
    assert [before, await places_left(client, product_id)] == [39, 40]


def test_production_refuses_a_hold_length_override() -> None:
    with pytest.raises(ValidationError, match="OCOP_BOOKINGS_HOLD_S"):
        Settings(environment=Environment.production, bookings_hold_s=30)
