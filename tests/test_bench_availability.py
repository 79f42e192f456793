"""`make bench` measures an experience's availability (bench/availability.py): this runs its
staging and its client for a moment (no load), so that what it measures keeps answering 200 and
keeps being the calendar it names, with places booked on some of its days."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bench import availability
from tests.database import IS_POSTGRES

pytestmark = pytest.mark.skipif(
    not IS_POSTGRES, reason="the benchmark serves PostgreSQL, as production does"
)


def test_the_availability_bench_asks_what_it_names(database_url: str) -> None:
    with availability.staged(database_url) as stage:
        calendar_path, date_path = stage.paths.values()
        calendar = httpx.get(stage.base + calendar_path).json()
        assert len(calendar["days"]) == availability.CALENDAR_DAYS
        open_days = [day for day in calendar["days"] if day["status"] != "closed"]
        # Four start times a day (today's past their cut-off left out).
        assert max(len(day["start_times"]) for day in open_days) == 4
        assert any(day["places_left"] < day["capacity"] for day in open_days)
        assert httpx.get(stage.base + date_path).json()["slots"]
        for path in stage.paths.values():
            latencies, errors = asyncio.run(availability._load(stage.base, path, 2, 0.3))
            assert latencies
            assert errors == 0
