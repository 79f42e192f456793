"""API key rows: look-ups by prefix, the `last_used_at` touch, pages; partner keys' event grants."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Row, Update, bindparam, select, update

from app.core import direct
from app.core.pagination import Ordering, PageQuery, SortKey, newest_first
from app.core.repository import Repository
from app.models.api_key import ApiKey, EventGrant, Role
from app.models.event import Event
from app.models.owner import Owner

NEWEST = Ordering(
    "newest",
    (
        SortKey(ApiKey.created_at, datetime, descending=True),
        SortKey(ApiKey.id, uuid.UUID, descending=True),
    ),
)

NEWEST_GRANTS = newest_first(EventGrant.created_at, EventGrant.event_id)


class Credentials(NamedTuple):
    """What authenticating a request reads of the key with a prefix, its event grants
    included."""

    id: uuid.UUID
    role: Role
    owner_id: uuid.UUID | None
    secret_hash: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    event_ids: frozenset[uuid.UUID]


# One row per grant (a key without any: one row, no event).
_CREDENTIALS = direct.Prepared(
    select(
        ApiKey.id,
        ApiKey.role,
        ApiKey.owner_id,
        ApiKey.secret_hash,
        ApiKey.last_used_at,
        ApiKey.revoked_at,
        EventGrant.event_id,
    )
    .outerjoin(EventGrant, EventGrant.api_key_id == ApiKey.id)
    .where(ApiKey.prefix == bindparam("prefix"))
)


class KeyRepository(Repository[ApiKey]):
    model = ApiKey
    noun = "API key"

    async def get_by_prefix(self, prefix: str) -> ApiKey | None:
        return await self.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))

    async def active_role_and_hash(self, prefix: str) -> Row[Role, str] | None:
        """The role and secret hash of the unrevoked key with this prefix."""
        stmt = select(ApiKey.role, ApiKey.secret_hash).where(
            ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None)
        )
        return (await self.session.execute(stmt)).first()

    async def owner_exists(self, owner_id: uuid.UUID) -> bool:
        found = await self.session.scalar(select(Owner.id).where(Owner.id == owner_id))
        return found is not None

    async def event_exists(self, event_id: uuid.UUID) -> bool:
        found = await self.session.scalar(select(Event.id).where(Event.id == event_id))
        return found is not None

    async def credentials(self, prefix: str) -> Credentials | None:
        """The key with this prefix and the events it was granted, in one statement (outside
        any transaction unless the session has one open: every request reads it)."""
        rows = await direct.rows(self.session, _CREDENTIALS, begin=False, prefix=prefix)
        if not rows:
            return None
        key_id, role, owner_id, secret_hash, last_used_at, revoked_at, _ = rows[0]
        return Credentials(
            id=key_id,
            role=role,
            owner_id=owner_id,
            secret_hash=secret_hash,
            last_used_at=last_used_at,
            revoked_at=revoked_at,
            event_ids=frozenset(row[-1] for row in rows if row[-1] is not None),
        )

    async def grant(self, key_id: uuid.UUID, event_id: uuid.UUID) -> EventGrant | None:
        return await self.session.get(EventGrant, (key_id, event_id))

    async def grants_newest_first(
        self, key_id: uuid.UUID, page: PageQuery
    ) -> tuple[list[EventGrant], str | None]:
        stmt = select(EventGrant).where(EventGrant.api_key_id == key_id)
        return await self.page(stmt, NEWEST_GRANTS, page)

    async def newest_first(self, page: PageQuery) -> tuple[list[ApiKey], str | None]:
        return await self.page(select(ApiKey), NEWEST, page)

    @staticmethod
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
