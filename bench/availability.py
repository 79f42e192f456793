"""Benchmark: the tourism experiences' availability, their costliest public reads.

    OCOP_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.availability

One API process serves the demo data (`ocop seed-demo`) from a PostgreSQL database of its own
(created on OCOP_TEST_POSTGRES_URL's server, dropped at the end). Clients on keep-alive
connections (`bench/client.py`) ask in a loop for the Bắc Lệ temple's calendar of the next 31
days (four start times a day, some of them booked), then for one date's availability in detail,
then hold places (`POST /v1/bookings`, a partner key, a new `Idempotency-Key` each): one adult
a hold, round the temple's bookable starts of the next 92 days in turn, so that no hold finds
its start full. For each it prints requests per second, p50/p99 and requests per server
CPU-second (the server process's CPU time, read from /proc, as `bench/compare.py` reads it).

Settings (environment): OCOP_BENCH_ROUNDS (3), OCOP_BENCH_SECONDS per round (5),
OCOP_BENCH_CONNECTIONS (16).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
from sqlalchemy import select

from app.core.clock import SystemClock
from app.core.config import Environment, Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.zones import local_today
from app.demo.events import BAC_LE_TEMPLE
from app.demo.seed import seed_demo
from app.models import Product, Role
from bench.client import Client
from bench.common import percentile
from bench.compare import cpu_seconds
from tests import database
from tests.servers import api_server, issue_key

CALENDAR_DAYS = 31
HOLD_DAYS = 92
"""The holds go round the bookable starts of this many days from tomorrow."""


async def _seed(url: str) -> uuid.UUID:
    """The demo data; the temple's product id."""
    settings = Settings(environment=Environment.test, database_url=url)
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine, writer=True)() as session:
            await seed_demo(session)
            await session.commit()
            temple = (
                await session.execute(select(Product.id).where(Product.name == BAC_LE_TEMPLE))
            ).scalar_one()
    finally:
        await engine.dispose()
    return temple


@dataclass(frozen=True)
class Ask:
    """One request the benchmark measures, and the status that answers it well. With `bodies`,
    each request sends the next body in turn (JSON), under an `Idempotency-Key` of its own."""

    path: str
    method: str = "GET"
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    bodies: tuple[bytes, ...] = ()

    def requests(self, http: Client) -> Iterator[bytes]:
        """The requests to send, as bytes, endlessly."""
        headers = {**self.headers, "Accept-Encoding": "gzip"}
        if not self.bodies:
            yield from itertools.repeat(http.request_bytes(self.method, self.path, headers))
            return
        headers["Content-Type"] = "application/json"
        for body in itertools.cycle(self.bodies):
            key = {"Idempotency-Key": uuid.uuid4().hex}
            yield http.request_bytes(self.method, self.path, headers | key, body)


async def _load(base: str, ask: Ask, connections: int, seconds: float) -> tuple[list[float], int]:
    """Latencies (ms) of `ask` sent in a loop on `connections` connections for `seconds`,
    and how many answers were not its status."""
    http = Client(base)
    requests = ask.requests(http)
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            start = time.perf_counter()
            status = await http.send(next(requests))
            latencies.append((time.perf_counter() - start) * 1000)
            errors += status != ask.status

    try:
        await asyncio.gather(*(client() for _ in range(connections)))
    finally:
        await http.close()
    return latencies, errors


@dataclass(frozen=True)
class Stage:
    """One API process serving the demo data, and what the benchmark asks of it."""

    base: str
    pid: int
    asks: dict[str, Ask]


def _holds(base: str, temple: uuid.UUID, token: str, first: date) -> Ask:
    """Holds of one adult round the temple's bookable starts of `HOLD_DAYS` days from `first`
    (as the calendar tells them): each start's turn comes once a round, and a start leaves
    the rounds once its places would be taken, so that no hold is refused."""
    last = first + timedelta(days=HOLD_DAYS - 1)
    path = f"/v1/experiences/{temple}/availability/calendar?from={first}&to={last}"
    calendar = httpx.get(base + path, timeout=30).raise_for_status().json()
    starts = [
        (day["date"], start["start_time"], start["places_left"])
        for day in calendar["days"]
        for start in day["start_times"]
    ]
    bodies = [
        json.dumps(
            {
                "product_id": str(temple),
                "date": date,
                "start_time": start_time,
                "units": [{"ticket_type": "adult", "quantity": 1}],
            }
        ).encode()
        for turn in range(max((left for *_, left in starts), default=0))
        for date, start_time, left in starts
        if turn < left
    ]
    return Ask(
        "/v1/bookings",
        method="POST",
        status=201,
        headers={"Authorization": f"Bearer {token}"},
        bodies=tuple(bodies),
    )


@contextmanager
def staged(url: str) -> Iterator[Stage]:
    """On the migrated, empty database `url`: the demo data, one API process serving it, and
    the requests measured (the suite runs this too: tests/test_bench_availability.py)."""
    temple = asyncio.run(_seed(url))
    token = issue_key(url, Role.partner, "bench holds")
    first = local_today(SystemClock(), Settings().timezone)
    last = first + timedelta(days=CALENDAR_DAYS - 1)
    with api_server(url) as server:
        yield Stage(
            server.url,
            server.process.pid,
            {
                f"calendar, {CALENDAR_DAYS} days": Ask(
                    f"/v1/experiences/{temple}/availability/calendar?from={first}&to={last}"
                ),
                "one date in detail": Ask(
                    f"/v1/experiences/{temple}/availability?date={first + timedelta(days=3)}"
                ),
                "hold (POST /v1/bookings)": _holds(
                    server.url, temple, token, first + timedelta(days=1)
                ),
            },
        )


def main() -> None:
    rounds = int(os.environ.get("OCOP_BENCH_ROUNDS", "3"))
    seconds = float(os.environ.get("OCOP_BENCH_SECONDS", "5"))
    connections = int(os.environ.get("OCOP_BENCH_CONNECTIONS", "16"))
    with database.temporary_database() as url:
        database.migrate(url)
        with staged(url) as stage:
            asyncio.run(_load(stage.base, next(iter(stage.asks.values())), 2, 1.0))  # warm up
            sys.stdout.write(
                f"availability (PostgreSQL, 1 API process, {connections} connections, "
                f"{rounds} x {seconds:.0f} s):\n"
            )
            for label, ask in stage.asks.items():
                latencies: list[float] = []
                errors = 0
                cpu = elapsed = 0.0
                for _ in range(rounds):
                    before, started = cpu_seconds(stage.pid), time.perf_counter()
                    found, bad = asyncio.run(_load(stage.base, ask, connections, seconds))
                    elapsed += time.perf_counter() - started
                    cpu += cpu_seconds(stage.pid) - before
                    latencies += found
                    errors += bad
                count = len(latencies)
                sys.stdout.write(
                    f"  {label:24} {count / elapsed:7.1f} req/s  "
                    f"p50 {statistics.median(latencies):6.1f} ms  "
                    f"p99 {percentile(latencies, 0.99):6.1f} ms  "
                    f"{count / cpu:7.1f} req per server CPU-s  errors {errors}\n"
                )


if __name__ == "__main__":
    main()
