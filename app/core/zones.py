"""The province's time zone (`Settings.timezone`): today's local date, the local dates of
stored UTC timestamps (computed in SQL on both backends), and local days as UTC bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy import Date, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from app.core.clock import Clock, clock_of
from app.core.config import settings_of


@lru_cache
def zone(name: str) -> ZoneInfo:
    """The zone called `name` (cached: loading zone data reads a file)."""
    return ZoneInfo(name)


def local_today(clock: Clock, timezone: str) -> date:
    """Today's date in `timezone` (the province's), by `clock`."""
    return clock.now().astimezone(zone(timezone)).date()


def zone_of(request: Request) -> ZoneInfo:
    """The province's zone, read from a request at hand: what `ZoneDep` gives, without a
    dependency of its own."""
    return zone(settings_of(request).timezone)


async def get_zone(request: Request) -> ZoneInfo:
    return zone_of(request)


ZoneDep = Annotated[ZoneInfo, Depends(get_zone)]
"""The province's zone (`OCOP_TIMEZONE`)."""


def today_of(request: Request) -> date:
    """Today's date in the province, read from a request at hand: what `TodayDep` gives,
    without a dependency of its own (the catalogue's hot reads)."""
    return local_today(clock_of(request), settings_of(request).timezone)


async def get_today(request: Request) -> date:
    return today_of(request)


TodayDep = Annotated[date, Depends(get_today)]
"""Today in the province, from the injected clock."""


class local_date(FunctionElement[date]):
    """`local_date(column, "Asia/Ho_Chi_Minh")`: the calendar date of a timestamp in a zone.

    PostgreSQL converts with the zone's full rules. SQLite has no time zone data: it adds the
    zone's current UTC offset, which is exact for zones without daylight saving time, such as
    Asia/Ho_Chi_Minh (UTC+7 all year).
    """

    type = Date()
    inherit_cache = False  # the zone is compiled into the SQL, so statements are not cached
    name = "local_date"

    def __init__(self, column: ColumnElement[Any] | QueryableAttribute[Any], zone: str) -> None:
        self.zone = zone
        super().__init__(column)


@compiles(local_date, "postgresql")
def _local_date_postgresql(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    zone = compiler.render_literal_value(element.zone, String())
    return f"CAST(timezone({zone}, {compiler.process(column, **kw)}) AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    offset = zone(element.zone).utcoffset(datetime.now(UTC))
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return f"date({compiler.process(column, **kw)}, '{minutes:+d} minutes')"


def day_start(day: date, zone: tzinfo) -> datetime:
    """The UTC instant the local day `day` begins in `zone`."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants from the start of `first` to the end of `last`, local days inclusive."""
    return day_start(first, zone), day_start(last + timedelta(days=1), zone)


class day_after(FunctionElement[date]):
    """`day_after(column)`: the day after a date. PostgreSQL adds an integer to a date; SQLite
    stores dates as ISO text and shifts them with its `date()` function."""

    type = Date()
    inherit_cache = True
    name = "day_after"
    shift = 1


class day_before(day_after):
    """`day_before(column)`: the day before a date."""

    inherit_cache = True
    name = "day_before"
    shift = -1


@compiles(day_after, "postgresql")
@compiles(day_before, "postgresql")
def _day_after_postgresql(element: day_after, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f"({compiler.process(column, **kw)} {element.shift:+d})"


@compiles(day_after, "sqlite")
@compiles(day_before, "sqlite")
def _day_after_sqlite(element: day_after, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f"date({compiler.process(column, **kw)}, '{element.shift:+d} day')"
