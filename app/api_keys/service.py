"""API keys: issue, list and revoke, and grant partner keys rights on events. Shared by the HTTP
API and the `ocop keys` command."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.repository import KeyRepository
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.pagination import PageQuery
from app.core.security import generate_key, hash_secret, split_token
from app.models.api_key import ApiKey, EventGrant, Role


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


async def get_key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey:
    key = await KeyRepository(session).get_by_prefix(prefix)
    if key is None:
        raise NotFound(f"No API key with prefix {prefix}.")
    return key


async def revoke_by_prefix(session: AsyncSession, prefix: str, now: datetime) -> ApiKey:
    return await revoke(session, await get_key_by_prefix(session, prefix), now)


# ---------------------------------------------------------------------------------------------
# Partner keys' grants on events


def _no_grant(key_id: uuid.UUID, event_id: uuid.UUID) -> NotFound:
    return NotFound(f"API key {key_id} holds no grant on event {event_id}.", code="no_such_grant")


async def grant_event(
    session: AsyncSession,
    key_id: uuid.UUID,
    event_id: uuid.UUID,
    *,
    granted_by: uuid.UUID | None,
    now: datetime,
) -> tuple[EventGrant, bool]:
    """Grant a partner key rights on an event; the grant, and whether it is new (granting again
    keeps the first grant). 404 for an unknown key or event, 422 for a key that is not a
    partner's, 409 for a revoked key."""
    repo = KeyRepository(session)
    # Locked, so that two grants of one pair at once find each other instead of colliding.
    key = await repo.get_or_404(key_id, for_update=True)
    if key.role is not Role.partner:
        raise Unprocessable(
            f"Only partner keys hold grants on events; this is an {key.role} key.",
            code="not_a_partner_key",
        )
    if key.revoked_at is not None:
        raise Conflict("This API key has been revoked.", code="revoked_key")
    if not await repo.event_exists(event_id):
        raise NotFound(f"No event {event_id}.", code="unknown_event")
    existing = await repo.grant(key_id, event_id)
    if existing is not None:
        return existing, False
    grant = EventGrant(
        api_key_id=key_id, event_id=event_id, granted_by_key_id=granted_by, created_at=now
    )
    session.add(grant)
    await session.flush()
    return grant, True


async def get_grant(session: AsyncSession, key_id: uuid.UUID, event_id: uuid.UUID) -> EventGrant:
    repo = KeyRepository(session)
    await repo.get_or_404(key_id)
    grant = await repo.grant(key_id, event_id)
    if grant is None:
        raise _no_grant(key_id, event_id)
    return grant


async def list_grants(
    session: AsyncSession, key_id: uuid.UUID, page: PageQuery
) -> tuple[list[EventGrant], str | None]:
    """The key's grants, newest first; 404 for an unknown key."""
    repo = KeyRepository(session)
    await repo.get_or_404(key_id)
    return await repo.grants_newest_first(key_id, page)


async def revoke_grant(session: AsyncSession, key_id: uuid.UUID, event_id: uuid.UUID) -> None:
    """Take a grant back: the key loses its rights on the event at once."""
    await session.delete(await get_grant(session, key_id, event_id))
    await session.flush()
