"""Owner rules: who may change an owner, and how."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.core.errors import Forbidden, NotFound
from app.models.owner import Owner, OwnerKind, OwnerStatus
from app.owners import repository
from app.owners.schemas import OwnerCreate, OwnerUpdate


async def get_owner(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    for_update: bool = False,
    code: str | None = None,
) -> Owner:
    owner = await repository.get(session, owner_id, for_update=for_update)
    if owner is None:
        raise NotFound(f"No owner {owner_id}.", code=code)
    return owner


async def list_owners(
    session: AsyncSession,
    *,
    kind: OwnerKind | None,
    commune: str | None,
    province: str | None,
    q: str | None,
    status: OwnerStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Owner], str | None]:
    stmt = repository.filtered(kind=kind, commune=commune, province=province, q=q, status=status)
    return await repository.page(session, stmt, cursor, limit)


async def create_owner(session: AsyncSession, data: OwnerCreate) -> Owner:
    owner = Owner(**data.model_dump())
    session.add(owner)
    await session.flush()
    return owner


def ensure_can_edit(principal: Principal, owner: Owner) -> None:
    """Admins edit any owner; an owner key only the owner it is bound to."""
    if not principal.acts_for(owner.id):
        raise Forbidden("This key may not edit this owner.", code="not_your_owner")


async def update_owner(session: AsyncSession, owner: Owner, data: OwnerUpdate) -> Owner:
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(owner, field, value)
    await session.flush()
    return owner


async def set_status(session: AsyncSession, owner: Owner, status: OwnerStatus) -> Owner:
    owner.status = status
    await session.flush()
    return owner
