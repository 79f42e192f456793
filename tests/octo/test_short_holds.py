"""`OCOP_BOOKINGS_HOLD_S` holds OCTO reservations that many seconds too, whatever
`expirationMinutes` asks."""

from __future__ import annotations

import uuid

import httpx
import pytest

from app.core.config import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"bookings_hold_s": 30})


@pytest.mark.parametrize("minutes", [None, 60])
async def test_a_reservation_lasts_the_set_seconds_whatever_it_asks(
    octo: httpx.AsyncClient, product_id: str, minutes: int | None
) -> None:
    body = {
        "uuid": str(uuid.uuid4()),
        "productId": product_id,
        "optionId": "DEFAULT",
        "availabilityId": "2025-11-08T09:00:00+07:00",
        "unitItems": [{"unitId": "adult"}],
        **({"expirationMinutes": minutes} if minutes else {}),
    }

    answer = await octo.post("/bookings", json=body)

    assert answer.status_code == 200, answer.text
    assert answer.json()["utcExpiresAt"] == "2025-11-01T01:00:30Z"
