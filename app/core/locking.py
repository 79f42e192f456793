"""Locks for work the database's constraints cannot serialise on their own."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def take_turns(session: AsyncSession, name: str) -> None:
    """Hold `name` until the session's writer transaction ends, so that the transactions that
    call this with the same name run one after another.

    For work that matches records by something the database does not enforce (a name, say),
    where two at once would each find nothing and each create. PostgreSQL: a
    transaction-scoped advisory lock. SQLite: nothing to add, a writer transaction
    (`begin_write`, BEGIN IMMEDIATE) already excludes every other writer.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(key)))
