from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

VN = timezone(timedelta(hours=7))


def vn(day: int, hour: int = 0, month: int = 11, year: int = 2025) -> datetime:
    """A moment in November 2025, Vietnam time."""
    return datetime(year, month, day, hour, tzinfo=VN)


EventFactory = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def make_event(client: httpx.AsyncClient, admin: dict[str, str]) -> EventFactory:
    """Create an event through the API and return its JSON."""

    async def factory(**fields: Any) -> dict[str, Any]:
        body = {
            "name": "Lễ hội Mùa vàng Bắc Sơn",
            "kind": "festival",
            "starts_at": vn(3, 8).isoformat(),
            "ends_at": vn(9, 22).isoformat(),
            "commune": "Bắc Sơn",
            **fields,
        }
        response = await client.post("/v1/events", json=body, headers=admin)
        assert response.status_code == 201, response.text
        event: dict[str, Any] = response.json()
        return event

    return factory
