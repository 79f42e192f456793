"""Locks for work the database's constraints cannot serialise on their own.

PostgreSQL transaction-scoped advisory locks, named by any string (hashed to the lock's 64-bit
key), released when the transaction ends, however it ends: a commit, a rollback, or the server
ending a session whose client is gone. SQLite has none; see each function for what stands in.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def take_turns(session: AsyncSession, name: str) -> None:
    """Hold `name` until the session's writer transaction ends, so that the transactions that
    call this with the same name run one after another.

    For work that matches records by something the database does not enforce (a name, say),
    where two at once would each find nothing and each create. PostgreSQL: a
    transaction-scoped advisory lock. SQLite: nothing to add, a writer transaction
    (`begin_write`, BEGIN IMMEDIATE) already excludes every other writer.
    """
    if _is_postgresql(session):
        await session.execute(select(func.pg_advisory_xact_lock(_key(name))))
