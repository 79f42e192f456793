from __future__ import annotations

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.core.config import Environment, Settings
from app.main import create_app
from tests.helpers import problem

pytestmark = pytest.mark.anyio


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_with_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_without_database_is_503() -> None:
    # Nothing listens on port 9 (discard) of the loopback.
    settings = Settings(
        environment=Environment.test,
        database_url="postgresql+asyncpg://nobody@127.0.0.1:9/none",
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/readyz")

    assert response.status_code == 503
    assert problem(response)["code"] == "database_unavailable"
