"""Benchmark: ocop-api beside the baseline (`bench/baseline.py`) on the same database and rows.

    .venv/bin/python -m bench.compare          # part of `make bench`

It creates its own PostgreSQL database on OCOP_TEST_POSTGRES_URL's server (dropped at the end),
migrates it, seeds a catalogue, then:

1. checks that the baseline does the API's work: in-process, the API's engine records the SQL
   one catalogue page and one order run, which must be exactly the baseline's statements; over
   HTTP the two answer the same catalogue page byte for byte and the same order (ids, number
   and timestamps aside);
2. starts `ocop serve` (one process) and the baseline (uvicorn, one process) and drives both
   under the same load, in interleaved rounds, with `wrk` when it is installed, else with a
   client process of its own (`bench/client.py`); the load generator always runs in its own
   process;
3. reads each server's CPU time (utime + stime, its workers' included) from /proc/<pid>/stat
   around each run and prints, per operation: requests/s, p50/p99, requests per server
   CPU-second, and ocop/baseline;
4. drives ocop-api at half of the capacity it showed, open loop (a request every 1/rate
   seconds, timed from when it was due, by a client process of its own), and prints p50/p99
   beside the targets (15 ms for the list, 25 ms for an order).

Settings (environment): OCOP_BENCH_ROUNDS (3), OCOP_BENCH_SECONDS per run (5),
OCOP_BENCH_CONNECTIONS (16), OCOP_BENCH_PRODUCTS in the catalogue (60), OCOP_BENCH_CLIENT
(`wrk` or `python`; default wrk when on PATH).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from app.core.config import Environment, Settings
from app.core.db import create_engine, create_sessionmaker
from app.geography.service import place
from app.models import Owner, OwnerKind, Product, ProductGroup, Role, Unit
from bench import baseline
from bench.client import Client
from bench.common import percentile
from tests import database
from tests.servers import free_port, issue_key

ORDER_BODY = {
    "items": [{"product_id": "", "quantity": 1.5}],
    "customer": {"name": "Khách", "phone": "0912345678"},
}
LIST_PATH = "/v1/products?limit=20"
_TICKS = os.sysconf("SC_CLK_TCK")
_VOLATILE = re.compile(
    rb'"(id|number|at|created_at|updated_at)":"[^"]*"|/v1/orders/[0-9a-f-]{36}|LS\d{6}-\w{8}'
)


@dataclass(frozen=True)
class Setup:
    rounds: int
    seconds: float
    connections: int
    products: int
    client: str

    @classmethod
    def from_environment(cls) -> Setup:
        default_client = "wrk" if shutil.which("wrk") else "python"
        return cls(
            rounds=int(os.environ.get("OCOP_BENCH_ROUNDS", "3")),
            seconds=float(os.environ.get("OCOP_BENCH_SECONDS", "5")),
            connections=int(os.environ.get("OCOP_BENCH_CONNECTIONS", "16")),
            products=int(os.environ.get("OCOP_BENCH_PRODUCTS", "60")),
            client=os.environ.get("OCOP_BENCH_CLIENT", default_client),
        )


async def seed(url: str, count: int) -> uuid.UUID:
    """`count` catalogue products of `count // 3 + 1` owners, and the product orders take
    (stock for every order a long run places)."""
    engine = create_engine(Settings(environment=Environment.test, database_url=url))
    async with create_sessionmaker(engine, writer=True)() as session:
        # Where every row is, as the API stores it: the official names and codes.
        where = (await place(session, "Bắc Sơn", "Lạng Sơn")).columns()
        owners = [
            Owner(name=f"Hợp tác xã số {i} Bắc Sơn", kind=OwnerKind.cooperative, **where)
            for i in range(count // 3 + 1)
        ]
        session.add_all(owners)
        await session.flush()
        for i in range(count):
            session.add(
                Product(
                    owner_id=owners[i % len(owners)].id,
                    name=f"Quýt vàng Bắc Sơn loại {i}",
                    description="Quýt chín cây, ngọt đậm." if i % 2 else None,
                    group=ProductGroup.food,
                    unit=Unit.kg,
                    unit_step=Decimal("0.5"),
                    price_vnd=35_000 + i * 1_000,
                    stock=Decimal(1_000 + i) if i % 4 else None,
                    **where,
                    latitude=21.9 if i % 3 == 0 else None,
                    longitude=106.3 if i % 3 == 0 else None,
                )
            )
        ordered = Product(
            owner_id=owners[0].id,
            name="Quýt vàng Bắc Sơn (đặt hàng)",
            group=ProductGroup.food,
            unit=Unit.kg,
            unit_step=Decimal("0.5"),
            price_vnd=35_000,
            stock=Decimal(10_000_000),
            **where,
        )
        session.add(ordered)
        await session.commit()
        product_id = ordered.id
    await engine.dispose()
    return product_id


# 1. The baseline does the API's work.


async def api_statements(url: str, token: str, body: dict[str, Any]) -> dict[str, list[str]]:
    """The SQL the API runs for one catalogue page and one order (its second: the first use
    of a key also stamps `last_used_at`), recorded in-process on its engine."""
    from asgi_lifespan import LifespanManager

    from app.main import create_app
    from tests.helpers import counting_statements

    app = create_app(Settings(environment=Environment.test, database_url=url))
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        with counting_statements(app) as listing:
            assert (await http.get(LIST_PATH)).status_code == 200
        for _ in range(2):
            with counting_statements(app) as ordering:
                key = {"Idempotency-Key": uuid.uuid4().hex}
                response = await http.post("/v1/orders", json=body, headers={**headers, **key})
                assert response.status_code == 201, response.text
    return {"list": listing, "order": ordering}


def baseline_statements() -> dict[str, list[str]]:
    return {
        "list": [baseline.LIST_PAGE],
        "order": [
            baseline.KEY,
            baseline.CLAIM,
            baseline.PRODUCTS.format(ids=baseline.in_list(1)),
            baseline.ORDER,
            baseline.LINE,
            baseline.CHANGE,
            baseline.OUTBOX,
            baseline.TAKE,
            baseline.COMPLETE,
        ],
    }


class NotTheSameWork(Exception):
    """The baseline no longer does the API's work: other SQL, or other answers."""


def check_same_statements(api: dict[str, list[str]]) -> None:
    ours = baseline_statements()
    for operation, statements in api.items():
        mine = [s.strip() for s in ours[operation]]
        theirs = [s.strip() for s in statements]
        if mine != theirs:
            raise NotTheSameWork(
                f"{operation}: the API's SQL is no longer the baseline's; update bench/baseline.py"
                f"\nAPI:\n" + "\n".join(theirs)
            )


def check_same_answers(api: str, base: str, token: str, body: dict[str, Any]) -> None:
    with httpx.Client(timeout=30) as http:
        pages = [http.get(f"{server}{LIST_PATH}") for server in (api, base)]
        if pages[0].content != pages[1].content:
            raise NotTheSameWork(
                f"catalogue pages differ:\n{pages[0].text[:400]}\n{pages[1].text[:400]}"
            )
        headers = {"Authorization": f"Bearer {token}"}
        orders = [
            http.post(
                f"{server}/v1/orders",
                json=body,
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            )
            for server in (api, base)
        ]
        masked = [_VOLATILE.sub(b"~", o.content) for o in orders]
        if [o.status_code for o in orders] != [201, 201] or masked[0] != masked[1]:
            raise NotTheSameWork(f"orders differ:\n{orders[0].text}\n{orders[1].text}")


# 2. Servers and load.


@contextmanager
def server(argv: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        argv,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{argv[:3]} exited with {process.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{argv[:3]} did not become ready in 30 s")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and of its live children (uvicorn's workers), and of its children
    that ended (cutime + cstime), in seconds."""

    def fields(p: int) -> list[str]:
        stat = Path(f"/proc/{p}/stat").read_text()
        return stat[stat.rindex(")") + 2 :].split()  # fields from the 3rd (state) on

    own = fields(pid)
    ticks = sum(int(own[i]) for i in (11, 12, 13, 14))
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != pid:
            try:
                child = fields(int(entry.name))
            except (OSError, ValueError):
                continue
            if child[1] == str(pid):
                ticks += int(child[11]) + int(child[12])
    return ticks / _TICKS


WRK_SCRIPT = """
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  if args[1] == "--" then table.remove(args, 1) end
  math.randomseed(os.time() + id)
  if args[1] == "order" then
    wrk.method = "POST"
    wrk.body = args[2]
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer " .. args[3]
  end
  ordering = args[1] == "order"
end
function request()
  if ordering then
    counter = counter + 1
    wrk.headers["Idempotency-Key"] = string.format("%d-%d-%d", id, counter, math.random(1e9))
  end
  return wrk.format()
end
function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %f, "p50": %f, "p99": %f, "errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, bad))
end
"""


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_s: float


def load(setup: Setup, base: str, operation: str, token: str, body: str, pid: int) -> Run:
    """One run of the load generator (its own process) against `base`."""
    before = cpu_seconds(pid)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        if setup.client == "wrk":
            path = LIST_PATH if operation == "list" else "/v1/orders"
            argv = [
                "wrk",
                "-t2",
                f"-c{setup.connections}",
                f"-d{max(1, round(setup.seconds))}s",
                "-s",
                script.name,
                f"{base}{path}",
                "--",
                operation,
                body,
                token,
            ]
        else:
            argv = [
                sys.executable,
                "-m",
                "bench.compare",
                "--client",
                base,
                operation,
                token,
                body,
                str(setup.connections),
                str(setup.seconds),
            ]
        return _run(argv, pid, before)
    finally:
        os.unlink(script.name)


def _run(argv: list[str], pid: int, before: float) -> Run:
    """Run a load generator and read its WRKJSON line, and `pid`'s CPU time since `before`."""
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - before
    line = next(li for li in output.splitlines() if li.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    return Run(data["requests"], data["seconds"], data["p50"], data["p99"], data["errors"], cpu)


def paced(
    setup: Setup, base: str, operation: str, token: str, body: str, rate: float, pid: int
) -> Run:
    """`operation` at `rate` requests per second, open loop (`paced_client`, its own process)."""
    argv = [
        sys.executable, "-m", "bench.compare", "--paced", base, operation, token, body,
        str(rate), str(max(setup.seconds, 5.0)),
    ]  # fmt: skip
    return _run(argv, pid, cpu_seconds(pid))


def _request(client: Client, operation: str, token: str, body: str) -> bytes:
    """One request of `operation`, as bytes (an order with a key of its own)."""
    if operation == "list":
        return client.request_bytes("GET", LIST_PATH)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    return client.request_bytes("POST", "/v1/orders", headers, body.encode())


async def _send(client: Client, operation: str, token: str, body: str) -> bool:
    """One request of `operation`; whether it got its success status."""
    try:
        status = await client.send(_request(client, operation, token, body))
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return False
    return status == (200 if operation == "list" else 201)


def _summary(latencies: list[float], seconds: float, errors: int) -> None:
    summary = {
        "requests": len(latencies),
        "seconds": seconds,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "errors": errors,
    }
    sys.stdout.write(f"WRKJSON {json.dumps(summary)}\n")


async def python_client(
    base: str, operation: str, token: str, body: str, connections: int, seconds: float
) -> None:
    """The load generator when `wrk` is missing: `connections` clients in a loop."""
    latencies: list[float] = []
    errors = 0
    http = Client(base)
    try:
        stop = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                start = time.perf_counter()
                ok = await _send(http, operation, token, body)
                latencies.append((time.perf_counter() - start) * 1000)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    finally:
        await http.close()
    _summary(latencies, elapsed, errors)


async def paced_client(
    base: str, operation: str, token: str, body: str, rate: float, seconds: float
) -> None:
    """Open-loop load: a request every 1/`rate` seconds whatever the answers, each timed from
    when it was due (a slow answer delays no later request, so none of the wait is hidden)."""
    latencies: list[float] = []
    errors = 0
    http = Client(base)
    try:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            nonlocal errors
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            ok = await _send(http, operation, token, body)
            latencies.append((time.perf_counter() - due) * 1000)
            errors += not ok

        await asyncio.gather(*(one(i) for i in range(round(rate * seconds))))
        elapsed = time.perf_counter() - start
    finally:
        await http.close()
    _summary(latencies, elapsed, errors)


# 3. The report.


def capacity(runs: list[Run]) -> float:
    """Requests per second under full load."""
    return sum(r.requests for r in runs) / sum(r.seconds for r in runs)


HALF_LOAD_TARGETS_MS = {"list": 15.0, "order": 25.0}
"""The p99 each operation should keep at half of ocop-api's capacity on a 2-core machine."""


def report_half_load(half: dict[str, tuple[float, Run]]) -> None:
    sys.stdout.write(
        "ocop-api at half of its capacity (open loop, requests timed from when they were due)\n"
    )
    sys.stdout.write(f"  {'operation':26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'target':>8}\n")
    for operation, label in [("list", f"GET {LIST_PATH}"), ("order", "POST /v1/orders")]:
        rate, run = half[operation]
        target = HALF_LOAD_TARGETS_MS[operation]
        verdict = "" if run.p99_ms < target and not run.errors else "  missed"
        sys.stdout.write(
            f"  {label:26} {rate:8.0f} {run.p50_ms:8.1f} {run.p99_ms:8.1f} "
            f"{'< ' + format(target, '.0f'):>8}{verdict}"
            + (f"  ({run.errors} errors)" if run.errors else "")
            + "\n"
        )


def report(setup: Setup, runs: dict[tuple[str, str], list[Run]]) -> None:
    sys.stdout.write(
        f"ocop-api vs baseline: PostgreSQL, 1 server process each, {setup.connections} "
        f"connections, {setup.rounds} interleaved rounds of {setup.seconds:.0f} s, "
        f"load from {setup.client}\n"
    )
    header = f"  {'operation':26} {'server':9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
    sys.stdout.write(f"{header} {'req/CPU-s':>10} {'errors':>7}\n")
    for operation, label in [("list", f"GET {LIST_PATH}"), ("order", "POST /v1/orders")]:
        figures = {}
        for name in ("ocop", "baseline"):
            done = runs[(operation, name)]
            requests = sum(r.requests for r in done)
            rate = capacity(done)
            per_cpu = requests / max(sum(r.cpu_s for r in done), 1e-9)
            p50 = sorted(r.p50_ms for r in done)[len(done) // 2]
            p99 = max(r.p99_ms for r in done)
            errors = sum(r.errors for r in done)
            figures[name] = (rate, per_cpu)
            sys.stdout.write(
                f"  {label:26} {name:9} {rate:8.0f} {p50:8.1f} {p99:8.1f} {per_cpu:10.0f} "
                f"{errors:7}\n"
            )
        (rate, per_cpu), (base_rate, base_cpu) = figures["ocop"], figures["baseline"]
        sys.stdout.write(
            f"  {label:26} {'ratio':9} {rate / base_rate:8.2f} {'':8} {'':8} "
            f"{per_cpu / base_cpu:10.2f}   ocop/baseline\n"
        )


@dataclass(frozen=True)
class Stage:
    """Both servers up on one database, doing the same work."""

    bases: dict[str, str]
    pids: dict[str, int]
    token: str
    body: dict[str, Any]


@contextmanager
def staged(url: str, products: int) -> Iterator[Stage]:
    """On the migrated, empty database `url`: `products` catalogue products, the API's SQL for a
    catalogue page and an order checked to be the baseline's (in process), then `ocop serve` and
    the baseline started (one process each) and their answers checked to be the same.
    `NotTheSameWork` if they differ. The suite runs this too (tests/test_bench_baseline.py), so
    the baseline cannot drift from the API unnoticed."""
    product_id = asyncio.run(seed(url, products))
    token = issue_key(url, Role.partner, name="bench")
    body = {**ORDER_BODY, "items": [{"product_id": str(product_id), "quantity": 1.5}]}
    check_same_statements(asyncio.run(api_statements(url, token, body)))
    env = {
        "OCOP_DATABASE_URL": url,
        "OCOP_ENVIRONMENT": "test",
        **{f"OCOP_RATE_LIMIT_{r}": "1000000/second" for r in ("PARTNER", "ANONYMOUS")},
    }
    ports = {"ocop": free_port(), "baseline": free_port()}
    bin_dir = Path(sys.executable).parent
    with ExitStack() as stack:
        servers = {
            "ocop": stack.enter_context(
                server(
                    [str(bin_dir / "ocop"), "serve", "--port", str(ports["ocop"])],
                    env,
                    ports["ocop"],
                )
            ),
            "baseline": stack.enter_context(
                server(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "bench.baseline:app",
                        "--port",
                        str(ports["baseline"]),
                        "--log-level",
                        "warning",
                        "--no-access-log",
                    ],
                    env,
                    ports["baseline"],
                )
            ),
        }
        bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        check_same_answers(bases["ocop"], bases["baseline"], token, body)
        yield Stage(bases, {name: s.pid for name, s in servers.items()}, token, body)


def main() -> None:
    setup = Setup.from_environment()
    with database.temporary_database() as url:
        database.migrate(url)
        try:
            with staged(url, setup.products) as stage:
                raw_body = json.dumps(stage.body, ensure_ascii=False)
                runs: dict[tuple[str, str], list[Run]] = {}
                for round_ in range(setup.rounds):
                    order = ["ocop", "baseline"] if round_ % 2 == 0 else ["baseline", "ocop"]
                    for operation in ("list", "order"):
                        for name in order:
                            base, pid = stage.bases[name], stage.pids[name]
                            run = load(setup, base, operation, stage.token, raw_body, pid)
                            runs.setdefault((operation, name), []).append(run)
                half = {}
                for operation in ("list", "order"):
                    rate = capacity(runs[(operation, "ocop")]) / 2
                    base, pid = stage.bases["ocop"], stage.pids["ocop"]
                    half[operation] = (
                        rate,
                        paced(setup, base, operation, stage.token, raw_body, rate, pid),
                    )
        except NotTheSameWork as drift:
            raise SystemExit(str(drift)) from None
    report(setup, runs)
    report_half_load(half)


if __name__ == "__main__":
    if len(sys.argv) == 8 and sys.argv[1] == "--client":
        _, _, base, operation, token, body, connections, seconds = sys.argv
        asyncio.run(python_client(base, operation, token, body, int(connections), float(seconds)))
    elif len(sys.argv) == 8 and sys.argv[1] == "--paced":
        _, _, base, operation, token, body, rate, seconds = sys.argv
        asyncio.run(paced_client(base, operation, token, body, float(rate), float(seconds)))
    else:
        main()
