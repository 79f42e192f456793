"""API keys: issue, list and revoke. Shared by the HTTP API and the `ocop keys` command."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.repository import KeyRepository
from app.core.errors import NotFound
from app.core.pagination import PageQuery
from app.core.security import generate_key, hash_secret, split_token
from app.models.api_key import ApiKey, Role


async def create_key(
    session: AsyncSession, *, name: str, role: Role, owner_id: uuid.UUID | None
) -> tuple[ApiKey, str]:
    """A new key and its secret token, which is never stored and so never shown again."""
    if owner_id is not None and not await KeyRepository(session).owner_exists(owner_id):
        raise NotFound(f"No owner {owner_id}.")
    new = generate_key()
    key = ApiKey(
        name=name, role=role, owner_id=owner_id, prefix=new.prefix, secret_hash=new.secret_hash
    )
    session.add(key)
    await session.flush()
    return key, new.token


async def active_role(session: AsyncSession, token: str) -> Role | None:
    """The role of the unrevoked key `token` authenticates as; None if it does not."""
    parts = split_token(token)
    if parts is None:
        return None
    row = await KeyRepository(session).active_role_and_hash(parts[0])
    if row is None or not hmac.compare_digest(row.secret_hash, hash_secret(parts[1])):
        return None
    role: Role = row.role
    return role


async def get_key(session: AsyncSession, key_id: uuid.UUID) -> ApiKey:
    return await KeyRepository(session).get_or_404(key_id)


async def list_keys(session: AsyncSession, page: PageQuery) -> tuple[list[ApiKey], str | None]:
    return await KeyRepository(session).newest_first(page)


async def revoke(session: AsyncSession, key: ApiKey, now: datetime) -> ApiKey:
    """Revoke a key; revoking twice keeps the first time."""
    if key.revoked_at is None:
        key.revoked_at = now
        await session.flush()
    return key


async def revoke_by_prefix(session: AsyncSession, prefix: str, now: datetime) -> ApiKey:
    key = await KeyRepository(session).get_by_prefix(prefix)
    if key is None:
        raise NotFound(f"No API key with prefix {prefix}.")
    return await revoke(session, key, now)
