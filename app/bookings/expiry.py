"""The hold sweeper, run by `ocop worker`: marks holds past their expiry `expired` (emitting
`booking.expired`) and gives their places back to the slot's `taken`.

Only tidying: availability never waits for it (it counts live bookings, a hold stops counting
at its expiry instant), and a reserve on a slot releases that slot's expired holds itself.
Each slot is swept in a short transaction of its own, with its row locked as a reserve locks
it, so several workers and the API processes never release a hold twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.bookings import service
from app.core.clock import Clock, SystemClock
from app.core.config import Settings
from app.core.db import begin_write

logger = logging.getLogger(__name__)

BATCH_SLOTS = 100


class HoldSweeper:
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
        """One sweep of the holds expired by now; the people whose places it gave back."""
        now = self.clock.now()
        async with self.sessionmaker() as session:
            slot_ids = await service.slots_with_expired_holds(session, now, BATCH_SLOTS)
            await session.commit()
        released = 0
        for slot_id in slot_ids:
            async with self.sessionmaker() as session:
                await begin_write(session)
                released += await service.release_expired_slot(session, slot_id, now)
                await session.commit()
        if released:
            logger.info(
                "released %d place(s) of expired holds on %d slot(s)", released, len(slot_ids)
            )
        return released

    async def run(self, stop: asyncio.Event) -> None:
        """A sweep now, then one every `OCOP_BOOKINGS_SWEEP_INTERVAL_S`, until `stop` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except (SQLAlchemyError, OSError) as exc:
                logger.error("hold sweep failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.bookings_sweep_interval_s)
