"""Owner rules: who may change an owner, and how."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.geography.service import place, place_changes, place_filter
from app.models.owner import Owner, OwnerStatus
from app.owners.repository import OwnerRepository
from app.owners.schemas import OwnerCreate, OwnerQuery, OwnerUpdate


async def get_owner(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    for_update: bool = False,
    code: str | None = None,
) -> Owner:
    return await OwnerRepository(session).get_or_404(owner_id, for_update=for_update, code=code)


async def list_owners(session: AsyncSession, query: OwnerQuery) -> tuple[list[Owner], str | None]:
    return await OwnerRepository(session).search(
        query, await place_filter(session, query.commune, query.province)
    )


async def owners_named(session: AsyncSession, folded_names: Collection[str]) -> list[Owner]:
    """The owners whose folded name (`app.core.text.fold`) is one of these."""
    return await OwnerRepository(session).named(folded_names)


async def create_owner(session: AsyncSession, data: OwnerCreate) -> Owner:
    fields = data.model_dump()
    where = await place(session, fields.pop("commune"), fields.pop("province"))
    owner = Owner(**fields, **where.columns())
    session.add(owner)
    await session.flush()
    return owner


def ensure_can_edit(principal: Principal, owner: Owner) -> None:
    """Admins edit any owner; an owner key only the owner it is bound to."""
    principal.ensure_acts_for(
        owner.id, detail="This key may not edit this owner.", code="not_your_owner"
    )


async def update_owner(session: AsyncSession, owner: Owner, data: OwnerUpdate) -> Owner:
    """Apply a partial update; a new name is a change of the owner's products too (they show
    it)."""
    changes = data.model_dump(exclude_unset=True)
    renamed = "name" in changes and changes["name"] != owner.name
    await place_changes(session, changes, owner.commune, owner.province)
    searched_as = owner.search_text
    for field, value in changes.items():
        setattr(owner, field, value)
    await session.flush()
    repository = OwnerRepository(session)
    if owner.search_text != searched_as:
        await repository.retext_products(owner.id, searched_as, owner.search_text)
    if renamed:
        await repository.touch_products(owner.id)
    return owner


async def set_status(session: AsyncSession, owner: Owner, status: OwnerStatus) -> Owner:
    owner.status = status
    await session.flush()
    return owner
