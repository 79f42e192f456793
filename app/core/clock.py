"""The service's notion of now, injectable so tests can move time without sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Protocol
from zoneinfo import ZoneInfo

from fastapi import Depends, Request


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def local_today(clock: Clock, timezone: str) -> date:
    """Today's date in `timezone` (the province's), by `clock`."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()


def get_today(request: Request, clock: ClockDep) -> date:
    return local_today(clock, request.app.state.settings.timezone)


TodayDep = Annotated[date, Depends(get_today)]
"""Today in the province (Asia/Ho_Chi_Minh by default), from the injected clock."""
