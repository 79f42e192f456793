"""Benchmark: the tourism experiences' availability, their costliest public reads.

    OCOP_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.availability

One API process serves the demo data (`ocop seed-demo`) from a PostgreSQL database of its own
(created on OCOP_TEST_POSTGRES_URL's server, dropped at the end). Clients on keep-alive
connections (`bench/client.py`) ask in a loop for the Bắc Lệ temple's calendar of the next 31
days (four start times a day, some of them booked), then for one date's availability in detail.
For each it prints requests per second, p50/p99 and requests per server CPU-second (the server
process's CPU time, read from /proc, as `bench/compare.py` reads it).

Settings (environment): OCOP_BENCH_ROUNDS (3), OCOP_BENCH_SECONDS per round (5),
OCOP_BENCH_CONNECTIONS (16).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app.core.clock import SystemClock
from app.core.config import Environment, Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.zones import local_today
from app.demo.events import BAC_LE_TEMPLE
from app.demo.seed import seed_demo
from app.models import Product
from bench.client import Client
from bench.common import percentile
from bench.compare import cpu_seconds
from tests import database
from tests.servers import api_server

CALENDAR_DAYS = 31


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


async def _load(base: str, path: str, connections: int, seconds: float) -> tuple[list[float], int]:
    """Latencies (ms) of `path` asked in a loop on `connections` connections for `seconds`,
    and how many answers were not 200."""
    http = Client(base)
    request = http.request_bytes("GET", path, {"Accept-Encoding": "gzip"})
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            start = time.perf_counter()
            status = await http.send(request)
            latencies.append((time.perf_counter() - start) * 1000)
            errors += status != 200

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
    paths: dict[str, str]


@contextmanager
def staged(url: str) -> Iterator[Stage]:
    """On the migrated, empty database `url`: the demo data, one API process serving it, and
    the two requests measured (the suite runs this too: tests/test_bench_availability.py)."""
    temple = asyncio.run(_seed(url))
    first = local_today(SystemClock(), Settings().timezone)
    last = first + timedelta(days=CALENDAR_DAYS - 1)
    paths = {
        f"calendar, {CALENDAR_DAYS} days": f"/v1/experiences/{temple}/availability/calendar"
        f"?from={first}&to={last}",
        "one date in detail": f"/v1/experiences/{temple}/availability"
        f"?date={first + timedelta(days=3)}",
    }
    with api_server(url) as server:
        yield Stage(server.url, server.process.pid, paths)


def main() -> None:
    rounds = int(os.environ.get("OCOP_BENCH_ROUNDS", "3"))
    seconds = float(os.environ.get("OCOP_BENCH_SECONDS", "5"))
    connections = int(os.environ.get("OCOP_BENCH_CONNECTIONS", "16"))
    with database.temporary_database() as url:
        database.migrate(url)
        with staged(url) as stage:
            asyncio.run(_load(stage.base, next(iter(stage.paths.values())), 2, 1.0))  # warm up
            sys.stdout.write(
                f"availability (PostgreSQL, 1 API process, {connections} connections, "
                f"{rounds} x {seconds:.0f} s):\n"
            )
            for label, path in stage.paths.items():
                latencies: list[float] = []
                errors = 0
                cpu = elapsed = 0.0
                for _ in range(rounds):
                    before, started = cpu_seconds(stage.pid), time.perf_counter()
                    found, bad = asyncio.run(_load(stage.base, path, connections, seconds))
                    elapsed += time.perf_counter() - started
                    cpu += cpu_seconds(stage.pid) - before
                    latencies += found
                    errors += bad
                count = len(latencies)
                sys.stdout.write(
                    f"  {label:22} {count / elapsed:7.1f} req/s  "
                    f"p50 {statistics.median(latencies):6.1f} ms  "
                    f"p99 {percentile(latencies, 0.99):6.1f} ms  "
                    f"{count / cpu:7.1f} req per server CPU-s  errors {errors}\n"
                )


if __name__ == "__main__":
    main()
