"""The request body limit: 413 with or without Content-Length, nothing read beyond it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Owner
from tests.helpers import problem
from tests.servers import api_server

pytestmark = pytest.mark.anyio

LIMIT = 1_048_576


def owner_body(padding: int = 0) -> bytes:
    return b'{"name": "HTX", "kind": "cooperative", "commune": "Bac Son' + b"x" * padding + b'"}'


async def test_a_declared_length_over_the_limit_is_refused_unread(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    response = await client.post(
        "/v1/owners",
        content=owner_body(LIMIT),
        headers={**admin, "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    body = problem(response)
    assert body["code"] == "payload_too_large"
    assert str(LIMIT) in body["detail"]
    assert await db.scalar(select(func.count()).select_from(Owner)) == 0


async def test_a_streamed_body_is_refused_once_it_passes_the_limit(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(64):  # 4 MiB in all, if it were all read
            sent += 1
            yield b" " * 65_536

    response = await client.post(
        "/v1/owners", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert problem(response)["code"] == "payload_too_large"
    assert sent == LIMIT // 65_536 + 1  # the chunk that passed the limit was the last read
    assert await db.scalar(select(func.count()).select_from(Owner)) == 0


async def test_a_body_at_the_limit_is_accepted(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = owner_body()
    padded = body[:-1] + b" " * (LIMIT - len(body)) + b"}"

    response = await client.post(
        "/v1/owners", content=padded, headers={**admin, "Content-Type": "application/json"}
    )

    assert len(padded) == LIMIT
    assert response.status_code == 201, response.text


def twenty_megabytes() -> Iterator[bytes]:
    for _ in range(20):
        yield b"x" * 1_000_000


def test_a_real_server_refuses_20_mb_and_stays_healthy(database_url: str) -> None:
    with api_server(database_url) as server, httpx.Client(base_url=server.url) as http:
        declared = http.post("/v1/owners", content=b"x" * 20_000_000, timeout=30)
        chunked = http.post("/v1/owners", content=twenty_megabytes(), timeout=30)
        health = http.get("/healthz")

    assert declared.status_code == 413
    assert problem(declared)["code"] == "payload_too_large"
    assert chunked.status_code == 413
    assert problem(chunked)["code"] == "payload_too_large"
    assert problem(chunked)["title"] == problem(declared)["title"]
    assert health.status_code == 200
