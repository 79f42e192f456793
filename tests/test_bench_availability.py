"""`make bench` measures an experience's availability and its holds (bench/availability.py):
this runs its staging and its client for a moment (no load), so that what it measures keeps
answering as it should and keeps being the calendar it names, with places booked on some of its
days, and holds that each take a place."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bench import availability
from tests.database import IS_POSTGRES

pytestmark = pytest.mark.skipif(
    not IS_POSTGRES, reason="the benchmark serves PostgreSQL, as production does"
)


def test_the_availability_bench_asks_what_it_names(database_url: str) -> None:
    with availability.staged(database_url) as stage:
        calendar_ask, date_ask, hold_ask = stage.asks.values()
        calendar = httpx.get(stage.base + calendar_ask.path).json()
        assert len(calendar["days"]) == availability.CALENDAR_DAYS
        open_days = [day for day in calendar["days"] if day["status"] != "closed"]
        # Four start times a day (today's past their cut-off left out).
        assert max(len(day["start_times"]) for day in open_days) == 4
        assert any(day["places_left"] < day["capacity"] for day in open_days)
        assert httpx.get(stage.base + date_ask.path).json()["slots"]
        held = [json.loads(body) for body in hold_ask.bodies]
        assert {hold["product_id"] for hold in held} == {calendar["product_id"]}
        first, last = min(h["date"] for h in held), max(h["date"] for h in held)
        # The starts the holds go round, and the places left on them before.
        held_range = f"/v1/experiences/{calendar['product_id']}/availability/calendar"
        held_range += f"?from={first}&to={last}"
        before = _places_left(stage.base + held_range)
        for ask in stage.asks.values():
            latencies, errors = asyncio.run(availability._load(stage.base, ask, 2, 0.3))
            assert latencies
            assert errors == 0
        # Each hold took one place (its start had one left), round the starts in turn.
        assert before - _places_left(stage.base + held_range) == len(latencies)
        assert len({(h["date"], h["start_time"]) for h in held[: len(latencies)]}) == len(
            latencies
        ), "a start held twice before every start was held once"


def _places_left(url: str) -> int:
    return sum(day["places_left"] for day in httpx.get(url).json()["days"])
