from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Ordering, SortKey
from app.models.api_key import ApiKey

NEWEST = Ordering(
    "newest",
    (
        SortKey(ApiKey.created_at, datetime, descending=True),
        SortKey(ApiKey.id, uuid.UUID, descending=True),
    ),
)


async def get(session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


async def get_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))


async def page(
    session: AsyncSession, cursor: str | None, limit: int
) -> tuple[Sequence[ApiKey], str | None]:
    stmt: Any = select(ApiKey)
    rows = (await session.execute(NEWEST.apply(stmt, cursor, limit))).all()
    return NEWEST.page(rows, limit)
