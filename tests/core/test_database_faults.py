"""When the database goes down, hangs, is slow, is busy or lacks the schema: 503 in bounded
time (never a 500, never a minute's wait), and the service heals by itself when it is back.

The PostgreSQL half runs the service through `TcpProxy`, which can stop (connections refused
and reset), freeze (packets hang) and resume, with short timeouts so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import SessionDep
from app.main import create_app
from app.models import Order
from tests import database
from tests.helpers import InsertProduct, idem, order_body, order_count, problem, stock_of
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.anyio

STATEMENT_TIMEOUT_MS = 1000
COMMAND_TIMEOUT_S = STATEMENT_TIMEOUT_MS / 1000 + 1  # the statement timeout plus a second
# What an answer may take beyond the command timeout on a busy 2-core machine (the test server,
# the proxy and the client share one event loop): its bound, not its speed, is what is proved.
SLACK_S = 1.5


def _migrations_head() -> str:
    head = ScriptDirectory.from_config(database.alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


HEAD = _migrations_head()


def assert_unavailable(response: httpx.Response, code: str = "database_unavailable") -> None:
    assert response.status_code == 503, response.text
    assert problem(response)["code"] == code
    assert 1 <= int(response.headers["retry-after"]) <= 10
    assert response.headers["x-request-id"]


class Timer:
    def __enter__(self) -> Timer:
        self.started = time.monotonic()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.monotonic() - self.started


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    if not database.IS_POSTGRES:
        pytest.skip("needs PostgreSQL")
    url = make_url(database_url)
    tcp_proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await tcp_proxy.start()
    yield tcp_proxy
    await tcp_proxy.aclose()


@pytest.fixture
async def proxied(
    settings: Settings, database_url: str, proxy: TcpProxy
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service on the suite's PostgreSQL database through the proxy, with the system clock
    and short timeouts: 1 s to connect or to get a pooled connection, statements 1 s."""
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    faulty = settings.model_copy(
        update={
            "database_url": url.render_as_string(hide_password=False),
            "database_statement_timeout_ms": STATEMENT_TIMEOUT_MS,
            "database_connect_timeout_s": 1.0,
            "database_pool_timeout_s": 1.0,
            "database_pool_size": 2,
        }
    )
    application = create_app(faulty)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield application, c


async def until_ready(client: httpx.AsyncClient, within_s: float = 5) -> None:
    deadline = time.monotonic() + within_s
    while (await client.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, "the service did not recover"
        await asyncio.sleep(0.1)


# PostgreSQL through the proxy ------------------------------------------------------------------


@pytest.mark.postgres_only
async def test_a_stopped_database_answers_503_within_a_second(
    proxied: tuple[FastAPI, httpx.AsyncClient], proxy: TcpProxy, partner: dict[str, str]
) -> None:
    _app, client = proxied
    assert (await client.get("/v1/products")).status_code == 200  # a pooled connection

    await proxy.stop()
    with Timer() as pooled:
        on_pooled = await client.get("/v1/products")
    with Timer() as fresh:
        on_fresh = await client.get("/v1/owners")
    with Timer() as keyed:  # the rate limiter looks the key up, before any route
        with_key = await client.get("/v1/orders", headers=partner)
    with Timer() as ready:
        readyz = await client.get("/readyz")

    for response in (on_pooled, on_fresh, with_key, readyz):
        assert_unavailable(response)
    assert max(pooled.seconds, fresh.seconds, keyed.seconds, ready.seconds) < 1


@pytest.mark.postgres_only
async def test_a_hung_database_answers_503_within_the_timeout(
    proxied: tuple[FastAPI, httpx.AsyncClient], proxy: TcpProxy
) -> None:
    _app, client = proxied
    assert (await client.get("/v1/products")).status_code == 200

    proxy.freeze()
    async with asyncio.timeout(10):  # fail, not hang, if the timeouts are gone
        with Timer() as ready:
            readyz = await client.get("/readyz")
        with Timer() as requests:
            # More than the pool holds (2 + 2 overflow): the others wait for a connection, 1 s.
            answers = await asyncio.gather(*(client.get("/v1/products") for _ in range(6)))

    assert_unavailable(readyz)
    assert ready.seconds < 2
    for response in answers:
        assert_unavailable(response)
    assert requests.seconds < COMMAND_TIMEOUT_S + SLACK_S


@pytest.mark.postgres_only
@pytest.mark.parametrize("fault", ["stop", "freeze"])
async def test_the_service_heals_without_a_restart(
    proxied: tuple[FastAPI, httpx.AsyncClient], proxy: TcpProxy, fault: str
) -> None:
    _app, client = proxied
    assert (await client.get("/v1/products")).status_code == 200
    if fault == "stop":
        await proxy.stop()
    else:
        proxy.freeze()
    async with asyncio.timeout(10):
        assert_unavailable(await client.get("/v1/products"))

    if fault == "stop":
        await proxy.start()
    else:
        proxy.resume()

    await until_ready(client)
    answers = await asyncio.gather(*(client.get("/v1/products") for _ in range(6)))
    assert [r.status_code for r in answers] == [200] * 6


@pytest.mark.postgres_only
@pytest.mark.parametrize("fault", ["stop", "freeze"])
async def test_an_order_cut_off_by_an_outage_is_placed_once_when_retried(
    proxied: tuple[FastAPI, httpx.AsyncClient],
    proxy: TcpProxy,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
    fault: str,
) -> None:
    """The database goes away while the order is being written, after its Idempotency-Key was
    claimed; the client retries with the same key, honouring Retry-After, once it is back."""
    app, client = proxied
    mandarin = await insert_product(stock=Decimal(10), unit_step=Decimal(1))
    headers, body = idem(partner), order_body((mandarin, 2))

    cut: list[str] = []

    def outage(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(f"INSERT INTO {Order.__tablename__} "):
            event.remove(app.state.engine.sync_engine, "before_cursor_execute", outage)
            cut.append(statement)
            proxy.cut() if fault == "stop" else proxy.freeze()

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", outage)
    with Timer() as cut_off:
        async with asyncio.timeout(10):
            during = await client.post("/v1/orders", json=body, headers=headers)
    assert cut, "the outage never happened"
    assert_unavailable(during)
    assert cut_off.seconds < (1 if fault == "stop" else COMMAND_TIMEOUT_S + SLACK_S)
    # While it is down, retries are refused (in bounded time), and still place nothing.
    async with asyncio.timeout(10):
        assert_unavailable(await client.post("/v1/orders", json=body, headers=headers))

    if fault == "stop":
        await proxy.start()
    else:
        proxy.resume()
    with Timer() as recovery:
        retried = await client.post("/v1/orders", json=body, headers=headers)
        while retried.status_code in (409, 503):
            assert recovery.started + 10 > time.monotonic(), retried.text
            await asyncio.sleep(float(retried.headers["retry-after"]))
            retried = await client.post("/v1/orders", json=body, headers=headers)
    again = await client.post("/v1/orders", json=body, headers=headers)

    assert retried.status_code == 201, retried.text
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == retried.json()["id"]
    assert await order_count(db) == 1
    assert await stock_of(db, mandarin) == Decimal(8)


@pytest.mark.postgres_only
async def test_a_statement_past_its_timeout_answers_503_database_timeout(
    proxied: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = proxied

    async def slow(session: SessionDep) -> dict[str, str]:
        await session.execute(text("SELECT pg_sleep(3)"))
        return {}

    app.add_api_route("/v1/slow", slow)
    with Timer() as timer:
        response = await client.get("/v1/slow")
    settings_of_a_connection = await client.get("/readyz")

    assert_unavailable(response, "database_timeout")
    assert timer.seconds < 2
    assert settings_of_a_connection.status_code == 200  # the connection stayed usable


@pytest.mark.postgres_only
async def test_connections_carry_the_server_side_timeouts(
    proxied: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, _client = proxied
    async with app.state.engine.connect() as connection:
        statement = await connection.scalar(text("SHOW statement_timeout"))
        idle = await connection.scalar(text("SHOW idle_in_transaction_session_timeout"))

    assert statement == "1s"
    assert idle == "30s"


# SQLite -----------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_path(database_url: str) -> Path:
    if database.IS_POSTGRES:
        pytest.skip("SQLite only")
    path = make_url(database_url).database
    assert path is not None
    return Path(path)


async def test_a_busy_sqlite_database_answers_503(
    settings: Settings, sqlite_path: Path, admin: dict[str, str]
) -> None:
    """Another process holds the write lock for longer than busy_timeout."""
    impatient = settings.model_copy(update={"sqlite_busy_timeout_ms": 100})
    application = create_app(impatient)
    holder = sqlite3.connect(sqlite_path, isolation_level=None)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            holder.execute("BEGIN IMMEDIATE")
            try:
                body = {"name": "Hợp tác xã Chờ", "kind": "cooperative", "commune": "Bắc Sơn"}
                busy = await client.post("/v1/owners", json=body, headers=admin)
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            after = await client.post("/v1/owners", json=body, headers=admin)

    assert_unavailable(busy)
    assert after.status_code == 201


async def test_sqlite_commits_are_on_disk_when_they_return(app: FastAPI, sqlite_path: Path) -> None:
    async with app.state.engine.connect() as connection:
        synchronous = await connection.scalar(text("PRAGMA synchronous"))
        journal = await connection.scalar(text("PRAGMA journal_mode"))

    assert (journal, synchronous) == ("wal", 2)  # 2 = FULL


# Both: a database without the schema, or behind it ---------------------------------------------


@pytest.fixture
def scratch_url(tmp_path: Path, database_url: str) -> Iterator[str]:
    """An empty database of the suite's kind (as in tests/test_migrations.py)."""
    if not database.IS_POSTGRES:
        yield database.sqlite_url(tmp_path / "scratch.db")
        return
    with database.temporary_database() as url:
        yield url


async def serve_once(settings: Settings, url: str, *paths: str) -> list[httpx.Response]:
    """Each path's answer; /v1/orders with a key (the rate limiter looks it up first)."""
    application = create_app(settings.model_copy(update={"database_url": url}))
    key = {"Authorization": "Bearer ocop_0123456789ab_secret"}
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [
                await client.get(path, headers=key if path == "/v1/orders" else None)
                for path in paths
            ]


async def test_an_unmigrated_database_is_not_ready_and_answers_503(
    settings: Settings, scratch_url: str
) -> None:
    if not database.IS_POSTGRES:  # SQLite creates the file on first use: an empty database
        sqlite3.connect(make_url(scratch_url).database or "").close()

    readyz, products, owners, with_key = await serve_once(
        settings, scratch_url, "/readyz", "/v1/products", "/v1/owners", "/v1/orders"
    )

    for response in (readyz, products, owners, with_key):
        assert_unavailable(response, "schema_not_current")


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "fault",
    ["a database that does not exist", "a role that does not exist"],
)
async def test_a_database_that_turns_the_connection_away_answers_503(
    settings: Settings, fault: str
) -> None:
    url = make_url(settings.database_url)
    if fault == "a database that does not exist":
        url = url.set(database=f"{url.database}_absent")
    else:
        url = url.set(username="ocop_no_such_role")

    answers = await serve_once(
        settings,
        url.render_as_string(hide_password=False),
        "/readyz",
        "/v1/products",
        "/v1/orders",
    )

    for response in answers:
        assert_unavailable(response)


async def test_a_database_behind_the_migrations_is_not_ready(
    settings: Settings, scratch_url: str
) -> None:
    script = ScriptDirectory.from_config(database.alembic_config(scratch_url))
    previous = script.get_revision(HEAD).down_revision
    assert isinstance(previous, str)
    await asyncio.to_thread(database.migrate, scratch_url, previous)

    (behind,) = await serve_once(settings, scratch_url, "/readyz")
    await asyncio.to_thread(database.migrate, scratch_url)
    (current,) = await serve_once(settings, scratch_url, "/readyz")

    assert_unavailable(behind, "schema_not_current")
    assert current.status_code == 200


def test_the_head_is_found_in_the_docker_layout(tmp_path: Path) -> None:
    """Installed as a package, with alembic.ini and migrations/ in the working directory (the
    Dockerfile's WORKDIR /app), as `ocop migrate` finds them."""
    site, workdir = tmp_path / "site-packages", tmp_path / "app"
    shutil.copytree(database.PROJECT_ROOT / "app", site / "app")
    workdir.mkdir()
    shutil.copy(database.PROJECT_ROOT / "alembic.ini", workdir)
    shutil.copytree(database.PROJECT_ROOT / "migrations", workdir / "migrations")
    probe = (
        "import app, app.core.migrations as m; "
        "print(app.__file__); print(m.alembic_ini()); print(m.head_revision())"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=workdir,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    package, ini, head = result.stdout.split()
    assert Path(package).is_relative_to(site)
    assert Path(ini) == workdir / "alembic.ini"
    assert head == HEAD
