"""The service's notion of now, injectable so tests can move time without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def clock_of(request: Request) -> Clock:
    """The app's clock, read from a request at hand: what `ClockDep` gives, without a
    dependency of its own."""
    clock: Clock = request.app.state.clock
    return clock


async def get_clock(request: Request) -> Clock:
    return clock_of(request)


ClockDep = Annotated[Clock, Depends(get_clock)]
