"""Cache-Control: public catalogue reads, private keyed reads, no-store for secrets and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.main import create_app
from tests.helpers import FakeClock, InsertProduct

pytestmark = pytest.mark.anyio

PUBLIC = "public, max-age=30, stale-while-revalidate=30"


def _vary(response: httpx.Response) -> list[str]:
    return [part.strip() for part in response.headers["vary"].split(",")]


async def test_a_public_read_is_cacheable_by_anyone_for_a_short_while(
    client: httpx.AsyncClient, insert_product: InsertProduct
) -> None:
    product = await insert_product()

    response = await client.get(f"/v1/products/{product.id}")

    assert response.status_code == 200
    assert response.headers["cache-control"] == PUBLIC
    assert _vary(response) == ["Accept-Language", "Authorization"]
    assert response.headers["etag"].startswith('"')


async def test_a_public_list_is_cacheable_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events")

    assert response.headers["cache-control"] == PUBLIC


async def test_the_304_carries_the_same_policy(
    client: httpx.AsyncClient, insert_product: InsertProduct
) -> None:
    product = await insert_product()
    etag = (await client.get(f"/v1/products/{product.id}")).headers["etag"]

    response = await client.get(f"/v1/products/{product.id}", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.headers["cache-control"] == PUBLIC
    assert _vary(response) == ["Accept-Language", "Authorization"]


async def test_a_keyed_read_is_private_and_revalidated(
    client: httpx.AsyncClient, admin: dict[str, str], insert_product: InsertProduct
) -> None:
    product = await insert_product()

    response = await client.get(f"/v1/products/{product.id}", headers=admin)

    assert response.headers["cache-control"] == "private, no-cache"
    assert _vary(response) == ["Accept-Language", "Authorization"]


async def test_keys_are_never_stored(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    listed = await client.get("/v1/api-keys", headers=admin)
    created = await client.post(
        "/v1/api-keys", json={"name": "shop", "role": "partner"}, headers=admin
    )

    assert listed.headers["cache-control"] == "no-store"
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"


async def test_webhooks_and_their_secrets_are_never_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["order.created"]},
        headers=admin,
    )
    read = await client.get(f"/v1/webhooks/{created.json()['id']}", headers=admin)

    assert created.headers["cache-control"] == "no-store"
    assert read.status_code == 200
    assert read.headers["cache-control"] == "no-store"


async def test_health_is_never_stored(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.headers["cache-control"] == "no-store"


async def test_an_error_is_never_stored(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/products/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"


async def test_a_write_answer_gets_no_policy(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/owners",
        json={"name": "HTX Hồi", "kind": "cooperative", "commune": "Văn Quan"},
        headers=admin,
    )

    assert response.status_code == 201
    assert "cache-control" not in response.headers


@pytest.fixture
async def revalidating_client(
    settings: Settings, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"public_cache_max_age_s": 0}), clock=clock)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_max_age_zero_makes_public_reads_revalidate_every_time(
    revalidating_client: httpx.AsyncClient,
) -> None:
    response = await revalidating_client.get("/v1/taxonomy")

    assert response.headers["cache-control"] == "public, no-cache"
