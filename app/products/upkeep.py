"""The stars pass, run by `ocop worker`: recomputes the stored stars of products whose window
has passed (a certificate started or expired), so that reads rarely have to.

Only tidying: a read that sorts or filters by stars makes them current itself the first time its
process reads on a new day (app.products.repository), and a read that shows stars never trusts a
lapsed row. Every worker may run it: the UPDATE is the same whoever runs it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock, SystemClock
from app.core.config import Settings
from app.core.db import begin_write
from app.core.zones import local_today
from app.products import service

logger = logging.getLogger(__name__)


class StarsKeeper:
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
        """One pass for today in the province; how many products' stars it recomputed."""
        today = local_today(self.clock, self.settings.timezone)
        async with self.sessionmaker() as session:
            await begin_write(session)
            refreshed = await service.refresh_stars(session, today)
            await session.commit()
        if refreshed:
            logger.info("recomputed the stars of %d product(s) for %s", refreshed, today)
        return refreshed

    async def run(self, stop: asyncio.Event) -> None:
        """A pass now, then one every `OCOP_HOUSEKEEPING_INTERVAL_S`, until `stop` is set: cheap
        when nothing lapsed (two index range scans), and a new day is seen within the interval."""
        while not stop.is_set():
            try:
                await self.run_once()
            except (SQLAlchemyError, OSError) as exc:
                logger.error("stars pass failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.housekeeping_interval_s)
