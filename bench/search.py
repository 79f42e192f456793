"""Benchmark: ordinary catalogue reads while hostile searches run beside them.

    .venv/bin/python -m bench.search                       # SQLite
    OCOP_BENCH_DATABASE=postgres .venv/bin/python -m bench.search   # PostgreSQL

One API process serves the demo data (`ocop seed-demo`). A few clients read the catalogue as an
app does (first page, a search, a product) and their latencies are measured three times: alone;
with 30 anonymous clients sending 100-word searches in a loop (what once cost 0.75 s each and
held other clients for seconds); and with 30 clients sending the longest search the API accepts.
It prints each round's p50/p99 and the p99 ratio to the quiet round.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx

from app.core.config import Environment, Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.text import MAX_SEARCH_TERMS
from app.demo.seed import seed_demo
from bench.common import percentile
from tests import database
from tests.servers import api_server

WORDS = [
    "quýt",
    "vàng",
    "bắc",
    "sơn",
    "trà",
    "bổ",
    "khai",
    "ngọc",
    "quế",
    "hữu",
    "lũng",
    "tân",
    "thành",
    "đình",
    "bắc",
    "lệ",
    "mật",
    "ong",
    "rừng",
    "hồi",
    "quế",
    "na",
    "chi",
    "lăng",
    "thạch",
    "đen",
    "tràng",
    "định",
    "miến",
    "dong",
    "bình",
    "gia",
    "khau",
    "nhục",
    "lạng",
    "sơn",
]


async def _seed(url: str) -> None:
    engine = create_engine(Settings(environment=Environment.test, database_url=url))
    async with create_sessionmaker(engine, writer=True)() as session:
        await seed_demo(session)
        await session.commit()
    await engine.dispose()


def _hostile_query(words: int, rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


async def _round(
    base: str, seconds: float, readers: int, hostile: int, hostile_words: int
) -> tuple[list[float], Counter[int]]:
    """Reader latencies (ms) over `seconds`, with `hostile` searchers running meanwhile;
    and the hostile requests' status codes."""
    stop = asyncio.Event()
    latencies: list[float] = []
    hostile_statuses: Counter[int] = Counter()
    rng = random.Random(20251103)
    paths = ["/v1/products?limit=20", "/v1/products?q=bac%20son", "/v1/owners?q=ngoc%20que"]
    limits = httpx.Limits(max_connections=readers + hostile + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:

        async def reader(i: int) -> None:
            n = i
            while not stop.is_set():
                start = time.perf_counter()
                response = await http.get(paths[n % len(paths)])
                latencies.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
                n += 1

        async def searcher() -> None:
            while not stop.is_set():
                query = _hostile_query(hostile_words, rng)
                response = await http.get("/v1/products", params={"q": query})
                hostile_statuses[response.status_code] += 1

        tasks = [asyncio.create_task(reader(i)) for i in range(readers)]
        tasks += [asyncio.create_task(searcher()) for _ in range(hostile)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*tasks)
    return latencies, hostile_statuses


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each round")
    parser.add_argument("--readers", type=int, default=4, help="ordinary clients")
    parser.add_argument("--hostile", type=int, default=30, help="hostile searchers")
    args = parser.parse_args()
    postgres = os.environ.get("OCOP_BENCH_DATABASE", "sqlite") == "postgres"
    with ExitStack() as stack:
        if postgres:
            url = stack.enter_context(database.temporary_database())
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            url = database.sqlite_url(tmp / "bench.db")
        database.migrate(url)
        asyncio.run(_seed(url))
        server = stack.enter_context(api_server(url))
        sys.stdout.write(
            f"hostile search: database {'postgresql' if postgres else 'sqlite'}, 1 API process, "
            f"{args.readers} readers, {args.seconds:.0f} s per round\n"
        )
        quiet_p99 = None
        for label, hostile, words in [
            ("quiet", 0, 0),
            (f"{args.hostile} x 100-word q", args.hostile, 100),
            (f"{args.hostile} x {MAX_SEARCH_TERMS}-word q", args.hostile, MAX_SEARCH_TERMS),
        ]:
            latencies, statuses = asyncio.run(
                _round(server.url, args.seconds, args.readers, hostile, words)
            )
            p50 = statistics.median(latencies)
            p99 = percentile(latencies, 0.99)
            quiet_p99 = quiet_p99 or p99
            hostile_note = f", hostile answers {dict(sorted(statuses.items()))}" if statuses else ""
            sys.stdout.write(
                f"  {label:22} reads {len(latencies):6}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
                f"p99 x{p99 / quiet_p99:5.2f} of quiet{hostile_note}\n"
            )


if __name__ == "__main__":
    main()
