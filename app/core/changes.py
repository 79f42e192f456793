"""Change feeds: lists in the order their rows last changed, safe to follow while others write.

A list read with `updated_since` (products, events, orders, bookings) serves rows in
(`updated_at`, `id`) order from that moment on, archived and cancelled ones too, and always
hands back a cursor to poll with later (`app.core.pagination`). A mirror that applies each
page, then polls with the last cursor, keeps an exact copy: nothing missed, nothing served
twice for one change.

Why a plain `updated_at > last seen` would miss changes: `updated_at` is stamped when a
transaction writes the row, but the row is visible only once the transaction commits, and
transactions do not commit in the order they stamp. Say A stamps a row at 10:00:00.1 and
commits at 10:00:00.9, while B stamps at 10:00:00.5 and commits at 10:00:00.6. A reader at
10:00:00.7 sees B's row, not yet A's, and moves its cursor past 10:00:00.5; A's row, stamped
before the cursor, is then never served.

The remedy here: a feed serves only rows stamped at least `OCOP_FEED_SETTLE_S` ago (its
*horizon*, `feed_horizon`), and every transaction that writes a row with `updated_at` must
commit within `OCOP_FEED_COMMIT_DEADLINE_S` of its first such write, or its commit is refused
(503 `commit_deadline`, the transaction rolled back: `TrackedSession`). A row stamped before
the horizon was therefore committed, or rolled back, at least (settle - deadline) before the
read, and every write still to come stamps later than the horizon: what the feed serves up to
its horizon is final, whatever the number of API processes or their concurrency. The margin
between the two settings covers the COMMIT itself and the clocks of the API processes, which
stamp (`app.core.orm.utcnow`: NTP keeps them within milliseconds of each other). PostgreSQL's
own timeouts (statement, idle in transaction) are per statement and cannot bound a whole
transaction before version 17, hence the guard; on SQLite, writers are serialised anyway, and
the guard bounds how long one may hold the write lock once it has written.

The price: a change appears in the feeds `OCOP_FEED_SETTLE_S` after it is made (15 s by
default), and a request that takes longer than the deadline to commit fails rather than commit.
A batch that legitimately runs long (a CSV import, the demo's seed) stamps every row it wrote
again just before it commits (`restamp`), so it meets the deadline however long it ran.

Every write of a row moves its `updated_at` (`onupdate` on `TimestampedMixin`, ORM writes and
`UPDATE` statements alike); a change that touches only rows the representation includes (an
event's or a product's external refs, a product's certificates, its owner's name, a booking's
tickets checked in) moves it with `app.core.orm.touch`. What the clock alone changes is no
write, and so no change: an event's status going from scheduled to ongoing to ended (a mirror
derives it from `starts_at` and `ends_at`), and a product's stars on the day a certificate
takes effect or lapses. A hold past its `expires_at` is no change either until it is marked
`expired` (by the worker's sweep, or a reserve on its slot): that write is.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from itertools import chain
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from app.core.config import settings_of
from app.core.errors import DatabaseTimeout
from app.core.orm import TimestampedMixin, utcnow

COMMIT_DEADLINE = "ocop_feed_commit_deadline_s"
"""Engine execution option: `OCOP_FEED_COMMIT_DEADLINE_S` (absent or None: no deadline)."""
_FIRST_WRITE = "ocop_feed_first_write"
"""`Session.info` key: when (`time.monotonic`) the transaction first wrote a timestamped row."""
_WRITTEN = "ocop_feed_written"
"""`Session.info` key: the ids of the timestamped rows the transaction wrote, by model."""
RESTAMP_CHUNK = 500


def horizon_of(request: Request) -> datetime:
    """The latest `updated_at` a change feed may serve now (see the module's docstring), read
    from a request at hand: what `FeedHorizonDep` gives, without a dependency of its own."""
    return utcnow() - timedelta(seconds=settings_of(request).feed_settle_s)


async def feed_horizon(request: Request) -> datetime:
    # The settings read from the request, not a dependency of their own (every list solves
    # this).
    return horizon_of(request)


FeedHorizonDep = Annotated[datetime, Depends(feed_horizon)]


async def restamp(session: AsyncSession) -> None:
    """Stamp every row this transaction wrote changed now, and count its writes from now on.

    For a long batch (an import, the demo's seed), just before it commits: then no row keeps a
    stamp older than the commit deadline allows, however long the batch ran. Rows written by
    the ORM are known (`TrackedSession`); a batch must not change feed rows otherwise (by an
    `UPDATE` statement). The rows in the session keep their old `updated_at`: a batch does not
    answer with them."""
    session.info[_FIRST_WRITE] = time.monotonic()
    now = utcnow()
    written: dict[type[TimestampedMixin], set[uuid.UUID]] = session.info.get(_WRITTEN, {})
    for model, ids in written.items():
        table: Any = model
        ordered = sorted(ids)
        for start in range(0, len(ordered), RESTAMP_CHUNK):
            await session.execute(
                update(table)
                .where(table.id.in_(ordered[start : start + RESTAMP_CHUNK]))
                .values(updated_at=now)
                .execution_options(synchronize_session=False)
            )


class TrackedSession(Session):
    """The session under every `AsyncSession` of the service: it notes when a transaction
    first writes a timestamped row, and which rows it writes through the ORM (for `restamp`),
    and at commit refuses one past the deadline."""


def _note_write(session: Session) -> None:
    session.info.setdefault(_FIRST_WRITE, time.monotonic())


def note_write(session: AsyncSession) -> None:
    """A timestamped row written other than through the session (`app.core.direct`): the
    commit deadline counts from now, as for the ORM's writes (which `restamp` alone knows)."""
    _note_write(session.sync_session)


@event.listens_for(TrackedSession, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    # Noted before the flush stamps (`onupdate` runs during it): the clock starts no later.
    if any(isinstance(row, TimestampedMixin) for row in chain(session.new, session.dirty)):
        _note_write(session)


@event.listens_for(TrackedSession, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    # The session's lists and the rows' histories still say what this flush wrote.
    written = session.info.setdefault(_WRITTEN, {})
    for row in chain(session.new, session.dirty):
        if isinstance(row, TimestampedMixin) and (row in session.new or session.is_modified(row)):
            written.setdefault(type(row), set()).add(row.id)


@event.listens_for(TrackedSession, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    # An ORM-enabled UPDATE or INSERT (stock taken, a status moved) stamps through `onupdate`.
    mapper = state.bind_mapper
    writes = state.is_update or state.is_insert
    if writes and mapper is not None and issubclass(mapper.class_, TimestampedMixin):
        _note_write(state.session)


@event.listens_for(TrackedSession, "before_commit")
def _before_commit(session: Session) -> None:
    first = session.info.get(_FIRST_WRITE)
    # A savepoint's release is no commit: nothing is visible to others until the real one.
    if first is None or session.bind is None or session.in_nested_transaction():
        return
    deadline: float | None = session.bind.get_execution_options().get(COMMIT_DEADLINE)
    if deadline is not None and time.monotonic() - first > deadline:
        raise DatabaseTimeout(
            f"The change took more than {deadline:g} s to commit and was rolled back, so that "
            "the change feeds stay exact; try again.",
            code="commit_deadline",
        )


@event.listens_for(TrackedSession, "after_transaction_end")
def _after_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_FIRST_WRITE, None)
        session.info.pop(_WRITTEN, None)
