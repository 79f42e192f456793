"""Chores that keep the database in shape, run by `ocop worker` beside webhook delivery.

Today one: deleting stored idempotent answers older than `OCOP_IDEMPOTENCY_RETENTION_H`, so
the table does not grow for ever when nobody schedules `ocop idempotency purge`. Every worker
may run it (on PostgreSQL several do): the DELETE is the same whoever runs it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock, SystemClock
from app.core.config import Settings
from app.core.db import begin_write
from app.idempotency import service as idempotency

logger = logging.getLogger(__name__)


class Housekeeper:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock or SystemClock()

    async def run_once(self) -> int:
        """One round of chores; the number of stored idempotent answers deleted."""
        cutoff = self.clock.now() - timedelta(hours=self.settings.idempotency_retention_h)
        async with self.sessionmaker() as session:
            await begin_write(session)
            removed = await idempotency.purge(session, older_than=cutoff)
            await session.commit()
        if removed:
            logger.info("removed %d stored idempotent answers from before %s", removed, cutoff)
        return removed

    async def run(self, stop: asyncio.Event) -> None:
        """A round now, then one every `OCOP_HOUSEKEEPING_INTERVAL_S`, until `stop` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except (SQLAlchemyError, OSError) as exc:
                logger.error("housekeeping round failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.housekeeping_interval_s)
