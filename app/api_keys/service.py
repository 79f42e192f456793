"""API keys: issue, list and revoke. Shared by the HTTP API and the `ocop keys` command."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys import repository
from app.core.errors import NotFound
from app.core.security import generate_key
from app.models.api_key import ApiKey, Role
from app.owners import repository as owners


async def create_key(
    session: AsyncSession, *, name: str, role: Role, owner_id: uuid.UUID | None
) -> tuple[ApiKey, str]:
    """A new key and its secret token, which is never stored and so never shown again."""
    if owner_id is not None and await owners.get(session, owner_id) is None:
        raise NotFound(f"No owner {owner_id}.")
    new = generate_key()
    key = ApiKey(
        name=name, role=role, owner_id=owner_id, prefix=new.prefix, secret_hash=new.secret_hash
    )
    session.add(key)
    await session.flush()
    return key, new.token


async def get_key(session: AsyncSession, key_id: uuid.UUID) -> ApiKey:
    key = await repository.get(session, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    return key


async def list_keys(
    session: AsyncSession, cursor: str | None, limit: int
) -> tuple[Sequence[ApiKey], str | None]:
    return await repository.page(session, cursor, limit)


async def revoke(session: AsyncSession, key: ApiKey, now: datetime) -> ApiKey:
    """Revoke a key; revoking twice keeps the first time."""
    if key.revoked_at is None:
        key.revoked_at = now
        await session.flush()
    return key


async def revoke_by_prefix(session: AsyncSession, prefix: str, now: datetime) -> ApiKey:
    key = await repository.get_by_prefix(session, prefix)
    if key is None:
        raise NotFound(f"No API key with prefix {prefix}.")
    return await revoke(session, key, now)
