"""Unique constraints as domain conflicts.

Where a rule is "at most one row with this value" (an external ref, an order's reference), the
database's unique constraint decides, so concurrent writers cannot both win; the writer that
loses is told which row holds the value, as a 409, instead of a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import DomainError


def violates_unique(exc: IntegrityError, table: str, column: str = "") -> bool:
    """Whether a unique constraint of `table` failed (not a foreign key or a CHECK); with
    `column`, one whose first column it is."""
    # PostgreSQL names the constraint (uq_<table>_<columns>), SQLite the columns
    # (<table>.<column>, ...), each first column first.
    message = str(exc.orig)
    return (
        f'"uq_{table}_{column}' in message
        or f"UNIQUE constraint failed: {table}.{column}" in message
    )


async def flush_unique(
    session: AsyncSession,
    change: Callable[[], None],
    *,
    table: str,
    column: str = "",
    conflict: Callable[[], Awaitable[DomainError]],
) -> None:
    """Apply `change` and flush; a unique constraint of `table` failing (one that starts with
    `column`, if given) raises `conflict()`.

    The change happens inside a savepoint (begin_nested flushes what is pending first), which
    keeps the transaction usable for `conflict` to look up who holds the value. A rolled-back
    savepoint expires the objects it touched: read what `conflict` needs before.
    """
    try:
        async with session.begin_nested():
            change()
            await session.flush()
    except IntegrityError as exc:
        if not violates_unique(exc, table, column):
            raise
        raise await conflict() from exc
