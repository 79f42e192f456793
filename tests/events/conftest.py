from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import CreateEventViaApi, vn


@pytest.fixture
def create_event_via_api(client: httpx.AsyncClient, admin: dict[str, str]) -> CreateEventViaApi:
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
