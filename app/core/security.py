"""API keys: generation, hashing, and the FastAPI dependencies that authenticate and authorise.

A key reads `ocop_<prefix>_<secret>`: the prefix (public, indexed) finds the row, the secret
(256 random bits) is checked against its SHA-256 in constant time. A slow hash adds nothing for
secrets of that entropy, and a fast one keeps every request cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import ClockDep
from app.core.db import SAFE_METHODS, SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.models.api_key import ApiKey, Role

KEY_SCHEME = "ocop"
PREFIX_BYTES = 6


@dataclass(frozen=True)
class NewKey:
    prefix: str
    secret_hash: str
    token: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> NewKey:
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_urlsafe(32)
    return NewKey(
        prefix=prefix, secret_hash=hash_secret(secret), token=f"{KEY_SCHEME}_{prefix}_{secret}"
    )


def split_token(token: str) -> tuple[str, str] | None:
    scheme, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret:
        return None
    return prefix, secret


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, its role and, for owner keys, the owner it is bound to."""

    key_id: uuid.UUID
    role: Role
    owner_id: uuid.UUID | None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def acts_for(self, owner_id: uuid.UUID) -> bool:
        """Admins act for every owner; an owner key only for the owner it is bound to."""
        return self.is_admin or (self.role is Role.owner and self.owner_id == owner_id)


_bearer = HTTPBearer(
    auto_error=False,
    description="An API key: `Authorization: Bearer ocop_<prefix>_<secret>`.",
)


def touch_statement(key_id: uuid.UUID, now: datetime) -> Update:
    """Set a key's `last_used_at`, unless another transaction holds its row.

    The row stays locked until the request's transaction ends, so concurrent requests with the
    same key skip the touch instead of queueing behind it (SKIP LOCKED; SQLite's writers take
    turns anyway): `last_used_at` is a hint, not a ledger. The lock is FOR NO KEY UPDATE, what
    a plain UPDATE takes: FOR UPDATE would also block every transaction inserting a row that
    references the key (an order, an idempotency record), which is a deadlock when one of those
    already holds something the toucher waits for.
    """
    unlocked = (
        select(ApiKey.id)
        .where(ApiKey.id == key_id)
        .with_for_update(key_share=True, skip_locked=True)
        .scalar_subquery()
    )
    return update(ApiKey).where(ApiKey.id == unlocked).values(last_used_at=now)


async def _touch(request: Request, session: AsyncSession, key_id: uuid.UUID, now: datetime) -> None:
    stmt = touch_statement(key_id, now)
    if request.method not in SAFE_METHODS:
        await session.execute(stmt)  # the request's transaction is a writer already
        return
    # A reader's transaction must stay a reader: on SQLite one that starts writing can fail
    # instead of waiting for the lock. A short transaction of its own does the write.
    async with request.app.state.writer_sessionmaker() as own:
        await own.execute(stmt)
        await own.commit()


async def optional_principal(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller's principal, None without a key; 401 for a key that is unknown or revoked."""
    if credentials is None:
        if "authorization" in request.headers:
            raise Unauthorized("Use `Authorization: Bearer <api key>`.", code="invalid_credentials")
        return None
    parts = split_token(credentials.credentials)
    key = None
    if parts is not None:
        key = await session.scalar(select(ApiKey).where(ApiKey.prefix == parts[0]))
    candidate = hash_secret(parts[1]) if parts is not None else ""
    expected = key.secret_hash if key is not None else hash_secret("")
    if key is None or not hmac.compare_digest(candidate, expected):
        raise Unauthorized("Unknown API key.", code="invalid_credentials")
    if key.revoked_at is not None:
        raise Unauthorized("This API key has been revoked.", code="revoked_key")
    now = clock.now()
    interval = timedelta(seconds=request.app.state.settings.api_key_touch_interval_s)
    if key.last_used_at is None or now - key.last_used_at >= interval:
        await _touch(request, session, key.id, now)
    principal = Principal(key_id=key.id, role=key.role, owner_id=key.owner_id)
    request.state.principal = principal
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only keys of the given roles: 401 without a key, 403 otherwise."""
    allowed = frozenset(roles)

    async def dependency(principal: OptionalPrincipal) -> Principal:
        if principal is None:
            raise Unauthorized("This needs an API key.", code="unauthorized")
        if principal.role not in allowed:
            raise Forbidden(f"A {principal.role} key may not do this.", code="forbidden_role")
        return principal

    dependency.__name__ = "require_" + "_or_".join(sorted(allowed))
    return dependency


AdminPrincipal = Annotated[Principal, Depends(require(Role.admin))]
AdminOrOwner = Annotated[Principal, Depends(require(Role.admin, Role.owner))]
AnyPrincipal = Annotated[Principal, Depends(require(Role.admin, Role.owner, Role.partner))]
