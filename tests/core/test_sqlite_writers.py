"""Concurrent writers wait for each other instead of failing with "database is locked"."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Owner

pytestmark = pytest.mark.anyio


async def test_32_concurrent_writes_all_succeed(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    async def create(i: int) -> httpx.Response:
        body = {"name": f"Hợp tác xã {i}", "kind": "cooperative", "commune": "Bắc Sơn"}
        return await client.post("/v1/owners", json=body, headers=admin)

    async def read() -> httpx.Response:
        return await client.get("/v1/owners", params={"limit": 100})

    responses = await asyncio.gather(*(create(i) for i in range(32)), *(read() for _ in range(8)))

    assert [r.status_code for r in responses] == [201] * 32 + [200] * 8
    assert await db.scalar(select(func.count()).select_from(Owner)) == 32
