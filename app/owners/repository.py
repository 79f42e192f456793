from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Ordering, SortKey
from app.core.text import fold, like_pattern, search_terms
from app.models.owner import Owner, OwnerKind, OwnerStatus

BY_NAME = Ordering("name", (SortKey(Owner.sort_name, str), SortKey(Owner.id, uuid.UUID)))


async def get(
    session: AsyncSession, owner_id: uuid.UUID, *, for_update: bool = False
) -> Owner | None:
    stmt = select(Owner).where(Owner.id == owner_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


def filtered(
    *,
    kind: OwnerKind | None = None,
    commune: str | None = None,
    province: str | None = None,
    q: str | None = None,
    status: OwnerStatus | None = None,
) -> Select[Any]:
    stmt = select(Owner)
    if kind is not None:
        stmt = stmt.where(Owner.kind == kind)
    if commune is not None:
        stmt = stmt.where(Owner.commune_key == fold(commune))
    if province is not None:
        stmt = stmt.where(Owner.province_key == fold(province))
    if status is not None:
        stmt = stmt.where(Owner.status == status)
    for term in search_terms(q or ""):
        stmt = stmt.where(Owner.search_text.like(like_pattern(term), escape="\\"))
    return stmt


async def page(
    session: AsyncSession, stmt: Select[Any], cursor: str | None, limit: int
) -> tuple[Sequence[Owner], str | None]:
    rows = (await session.execute(BY_NAME.apply(stmt, cursor, limit))).all()
    return BY_NAME.page(rows, limit)
