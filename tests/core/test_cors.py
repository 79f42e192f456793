"""CORS for the configured origins only (OCOP_CORS_ORIGINS; none by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import ValidationError

from app.core.config import Environment, Settings
from app.main import create_app
from tests.helpers import FakeClock, problem

pytestmark = pytest.mark.anyio

SHOP = "https://shop.example"
PREFLIGHT = {
    "Origin": SHOP,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


@pytest.fixture
async def cors_client(settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(update={"cors_origins": [SHOP, "http://localhost:3000"]})
    app = create_app(configured, clock=clock)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_a_preflight_from_a_configured_origin_is_allowed(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.options("/v1/orders", headers=PREFLIGHT)

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SHOP
    assert response.headers["access-control-allow-methods"] == "GET, HEAD, POST, PUT, PATCH, DELETE"
    assert response.headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Authorization, Content-Language, Content-Type, "
        "Idempotency-Key, If-Match, If-None-Match, X-Request-ID"
    )
    assert "access-control-allow-credentials" not in response.headers


async def test_a_preflight_from_another_origin_is_a_problem(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.options(
        "/v1/orders", headers={**PREFLIGHT, "Origin": "https://evil.example"}
    )

    assert response.status_code == 400
    assert problem(response)["code"] == "cors_refused"
    assert "access-control-allow-origin" not in response.headers


async def test_an_answer_to_a_configured_origin_exposes_what_clients_read(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.get("/v1/taxonomy", headers={"Origin": SHOP})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SHOP
    assert response.headers["access-control-expose-headers"] == (
        "ETag, Location, X-Request-ID, RateLimit, RateLimit-Policy, Retry-After, "
        "Idempotent-Replayed, Content-Disposition"
    )
    assert "Origin" in [part.strip() for part in response.headers["vary"].split(",")]


async def test_an_error_to_a_configured_origin_is_readable_too(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.get("/v1/orders", headers={"Origin": SHOP})

    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == SHOP


async def test_an_answer_to_another_origin_does_not_allow_it(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.get("/v1/taxonomy", headers={"Origin": "https://evil.example"})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_without_configured_origins_there_is_no_cors(client: httpx.AsyncClient) -> None:
    preflight = await client.options("/v1/orders", headers=PREFLIGHT)
    read = await client.get("/v1/taxonomy", headers={"Origin": SHOP})

    assert preflight.status_code == 204  # a plain OPTIONS: what the path allows
    assert preflight.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in read.headers


def test_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCOP_CORS_ORIGINS", " https://shop.example ,http://localhost:3000,")

    assert Settings(environment=Environment.test).cors_origins == [
        "https://shop.example",
        "http://localhost:3000",
    ]


@pytest.mark.parametrize(
    "origin", ["https://shop.example/", "shop.example", "https://shop.example/app"]
)
def test_what_is_not_an_origin_is_refused(origin: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(environment=Environment.test, cors_origins=[origin])
