"""Who is calling: the FastAPI dependencies that authenticate a request's API key and admit
the roles an endpoint allows.

A key reads `ocop_<prefix>_<secret>` (`app.core.security`): the prefix finds the row, the secret
is checked against its SHA-256 in constant time.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api_keys.repository import KeyRepository
from app.core.clock import clock_of
from app.core.config import settings_of
from app.core.db import SAFE_METHODS, session_of
from app.core.errors import Forbidden, Unauthorized
from app.core.security import hash_secret, split_token
from app.models.api_key import Role


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, its role, for owner keys the owner it is bound to, and for
    partner keys the events an admin granted it."""

    key_id: uuid.UUID
    role: Role
    owner_id: uuid.UUID | None
    event_ids: frozenset[uuid.UUID] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def acts_for(self, owner_id: uuid.UUID) -> bool:
        """Admins act for every owner; an owner key only for the owner it is bound to."""
        return self.is_admin or (self.role is Role.owner and self.owner_id == owner_id)

    def ensure_acts_for(
        self,
        owner_id: uuid.UUID,
        *,
        detail: str = "This key may not act for this owner.",
        code: str,
    ) -> None:
        """The "admin, or this owner's key" rule, refused as 403 `code`."""
        if not self.acts_for(owner_id):
            raise Forbidden(detail, code=code)

    def covers_event(self, event_id: uuid.UUID) -> bool:
        """Admins act on every event; a partner key on the events it was granted (link their
        external ids, read their sales, hear their changes)."""
        return self.is_admin or (self.role is Role.partner and event_id in self.event_ids)

    def ensure_covers_event(
        self, event_id: uuid.UUID, *, detail: str = "This key was not granted this event."
    ) -> None:
        """The "admin, or a partner key granted this event" rule, refused as 403
        `event_not_granted` (events are public: refusing does not leak that one exists)."""
        if not self.covers_event(event_id):
            raise Forbidden(detail, code="event_not_granted")


_bearer = HTTPBearer(
    auto_error=False,
    description="An API key: `Authorization: Bearer ocop_<prefix>_<secret>`.",
)


async def _touch(request: Request, key_id: uuid.UUID, now: datetime) -> None:
    stmt = KeyRepository.touch_statement(key_id, now)
    if request.method not in SAFE_METHODS:
        await session_of(request).execute(stmt)  # the request's transaction is a writer already
        return
    # A reader's transaction must stay a reader: on SQLite one that starts writing can fail
    # instead of waiting for the lock. A short transaction of its own does the write.
    async with request.app.state.writer_sessionmaker() as own:
        await own.execute(stmt)
        await own.commit()


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller's principal, None without a key; 401 for a key that is unknown or revoked.

    Every authenticated request solves it: the session, clock and settings are read from the
    request (`session_of`, `clock_of`, `settings_of`), not dependencies of their own."""
    if credentials is None:
        if "authorization" in request.headers:
            raise Unauthorized("Use `Authorization: Bearer <api key>`.", code="invalid_credentials")
        return None
    parts = split_token(credentials.credentials)
    key = None
    if parts is not None:
        key = await KeyRepository(session_of(request)).credentials(parts[0])
    candidate = hash_secret(parts[1]) if parts is not None else ""
    expected = key.secret_hash if key is not None else hash_secret("")
    if key is None or not hmac.compare_digest(candidate, expected):
        raise Unauthorized("Unknown API key.", code="invalid_credentials")
    if key.revoked_at is not None:
        raise Unauthorized("This API key has been revoked.", code="revoked_key")
    now = clock_of(request).now()
    interval = timedelta(seconds=settings_of(request).api_key_touch_interval_s)
    if key.last_used_at is None or now - key.last_used_at >= interval:
        await _touch(request, key.id, now)
    # Only partner keys hold grants (`EventGrant`).
    granted = key.event_ids if key.role is Role.partner else frozenset()
    principal = Principal(key_id=key.id, role=key.role, owner_id=key.owner_id, event_ids=granted)
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
AdminOrPartner = Annotated[Principal, Depends(require(Role.admin, Role.partner))]
AnyPrincipal = Annotated[Principal, Depends(require(Role.admin, Role.owner, Role.partner))]
