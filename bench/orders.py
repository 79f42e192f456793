"""Benchmark: order placement and catalogue reads against real API processes.

    .venv/bin/python -m bench.orders                       # SQLite, 1 process
    OCOP_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python -m bench.orders --processes 2     # PostgreSQL, 2 processes

Prints requests per second and latency percentiles. It creates its own database (a temporary
SQLite file, or it migrates the PostgreSQL database it is given after emptying it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import httpx

from app.core.config import Environment, Settings
from app.core.db import create_engine, create_sessionmaker
from app.models import Owner, OwnerKind, Product, ProductGroup, Role, Unit
from bench.common import percentile
from tests import database
from tests.servers import api_server, issue_key


async def _seed(url: str) -> uuid.UUID:
    engine = create_engine(Settings(environment=Environment.test, database_url=url))
    async with create_sessionmaker(engine, writer=True)() as session:
        owner = Owner(
            name="Hợp tác xã Quýt vàng Bắc Sơn",
            kind=OwnerKind.cooperative,
            commune="Bắc Sơn",
            province="Lạng Sơn",
        )
        session.add(owner)
        await session.flush()
        product = Product(
            owner_id=owner.id,
            name="Quýt vàng Bắc Sơn",
            group=ProductGroup.food,
            unit=Unit.kg,
            unit_step=Decimal("0.5"),
            price_vnd=35_000,
            stock=Decimal(10_000_000),
            commune="Bắc Sơn",
            province="Lạng Sơn",
        )
        session.add(product)
        await session.commit()
        product_id = product.id
    await engine.dispose()
    return product_id


async def _run(
    urls: list[str], token: str, product_id: uuid.UUID, count: int, concurrency: int
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "items": [{"product_id": str(product_id), "quantity": 1.5}],
        "customer": {"name": "Khách", "phone": "0912345678"},
    }
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        timeout=60, limits=httpx.Limits(max_connections=concurrency)
    ) as http:

        async def timed(i: int, method: str, path: str, **kw: object) -> tuple[int, float]:
            async with semaphore:
                start = time.perf_counter()
                response = await http.request(method, f"{urls[i % len(urls)]}{path}", **kw)  # type: ignore[arg-type]
                return response.status_code, time.perf_counter() - start

        for label, method, path, extra in [
            ("POST /v1/orders", "POST", "/v1/orders", {"json": body}),
            ("GET /v1/owners", "GET", "/v1/owners", {}),
        ]:
            started = time.perf_counter()
            results = await asyncio.gather(
                *(
                    timed(
                        i,
                        method,
                        path,
                        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                        **extra,
                    )
                    for i in range(count)
                )
            )
            elapsed = time.perf_counter() - started
            latencies = [lat * 1000 for _, lat in results]
            statuses = sorted({status for status, _ in results})
            p50 = statistics.median(latencies)
            p95, p99 = percentile(latencies, 0.95), percentile(latencies, 0.99)
            sys.stdout.write(
                f"{label:18} {count} requests, concurrency {concurrency}: "
                f"{count / elapsed:8.1f} req/s, p50 {p50:6.1f} ms, p95 {p95:6.1f} ms, "
                f"p99 {p99:6.1f} ms, statuses {statuses}\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    url = os.environ.get("OCOP_BENCH_DATABASE_URL")
    with ExitStack() as stack:
        if url is None:
            url = database.sqlite_url(
                Path(stack.enter_context(tempfile.TemporaryDirectory())) / "bench.db"
            )
        else:
            database.reset_postgres_schema(url)
        database.migrate(url)
        product_id = asyncio.run(_seed(url))
        token = issue_key(url, Role.partner, name="bench")
        servers = [stack.enter_context(api_server(url)) for _ in range(args.processes)]
        sys.stdout.write(f"database: {url.split('@')[-1]}, API processes: {args.processes}\n")
        asyncio.run(
            _run([s.url for s in servers], token, product_id, args.requests, args.concurrency)
        )


if __name__ == "__main__":
    main()
