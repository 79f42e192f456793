from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys import service as keys
from app.core.config import Environment, Settings
from app.core.db import begin_write
from app.main import create_app
from app.models.api_key import Role
from tests import database
from tests.helpers import FakeClock, KeyFactory, OwnerFactory, ScopedPartnerFactory

pytest_plugins = ["anyio", "tests.fixtures.catalog", "tests.fixtures.experiences"]

REDIS_URL = os.environ.get("OCOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Tests that are not about rate limits must never meet one.
HIGH_RATE_LIMIT = "1000000/second"


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _unreachable_banner(reason: str) -> str:
    return (
        "\n" + "!" * 78 + "\n"
        f"PostgreSQL is NOT reachable at {database.server_description()}\n  ({reason})\n"
        "The PostgreSQL half of the suite did NOT run.\n" + "!" * 78 + "\n"
    )


def pytest_configure(config: pytest.Config) -> None:
    # One run id for the xdist controller and all its workers, so that one run's databases
    # share a name (ocop_test_<run id>_gw0, _gw1, ...).
    if not database.IS_XDIST_WORKER and getattr(config.option, "testrunuid", "") is None:
        config.option.testrunuid = database.RUN_ID


def pytest_report_header(config: pytest.Config) -> str:
    if not database.IS_POSTGRES:
        return "ocop test database: sqlite (a temporary file per process)"
    run_id = database.run_id(getattr(config.option, "testrunuid", None) or database.RUN_ID)
    return (
        f"ocop test database: postgres on {database.server_description()}: each process "
        f"creates {database.PREFIX}{run_id}_<xdist worker, or main> and drops it at the end"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Before any xdist worker starts: say so, loudly, if PostgreSQL cannot be used."""
    if not database.IS_POSTGRES or database.IS_XDIST_WORKER:
        return
    reason = database.postgres_unreachable_reason()
    if reason is not None:
        if _under_ci():
            pytest.exit(_unreachable_banner(reason) + "Under CI this is a failure.", returncode=3)
        session.config.get_terminal_writer().line(_unreachable_banner(reason), red=True, bold=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The slowest tests first: with xdist, no worker is left alone with one at the end.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if database.IS_POSTGRES:
        reason = database.postgres_unreachable_reason()
        if reason is not None:
            if _under_ci():
                pytest.exit(
                    _unreachable_banner(reason) + "Under CI this is a failure.", returncode=3
                )
            skip = pytest.mark.skip(reason="PostgreSQL not reachable")
            for item in items:
                item.add_marker(skip)
    else:
        skip = pytest.mark.skip(reason="needs PostgreSQL")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if database.IS_POSTGRES and not database.IS_XDIST_WORKER:
        reason = database.postgres_unreachable_reason()
        if reason is not None:
            terminalreporter.write_line(_unreachable_banner(reason), red=True, bold=True)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This process's own database, migrated to head once per session.

    PostgreSQL: a database this process creates (`ocop_test_<run id>_<worker>`) and drops when
    the session ends. SQLite: a file in this process's temporary directory."""
    if database.IS_POSTGRES:
        with database.temporary_database(database.session_database_name()) as url:
            database.migrate(url)
            yield url
    else:
        path = tmp_path_factory.mktemp("db") / f"ocop-{database.WORKER}.db"
        url = database.sqlite_url(path)
        database.migrate(url)
        yield url


@pytest.fixture(autouse=True)
def _empty_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that touches the database starts from, and leaves, empty tables."""
    uses_db = "database_url" in request.fixturenames
    yield
    if uses_db:
        database.delete_all_rows(request.getfixturevalue("database_url"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=database_url,
        api_key_touch_interval_s=0,
        webhooks_allow_private=True,
        rate_limit_admin=HIGH_RATE_LIMIT,
        rate_limit_owner=HIGH_RATE_LIMIT,
        rate_limit_partner=HIGH_RATE_LIMIT,
        rate_limit_anonymous=HIGH_RATE_LIMIT,
        # Generous waits, as tests/servers.py gives its servers: the suite proves correctness
        # under contention (dozens of holds or orders at once, two xdist workers and server
        # processes on two cores), not latency; the 5 s defaults rightly answer some of those
        # 503 on a loaded machine. The fault tests set their own short timeouts.
        database_pool_timeout_s=60,
        database_statement_timeout_ms=60_000,
    )


@pytest.fixture
def redis_url() -> str:
    """The test Redis; each test uses its own key prefix (`redis_prefix`), never FLUSHALL."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"ocop-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass
    finally:
        client.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def db(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session of its own, to set up data and to check what the API wrote."""
    async with app.state.sessionmaker() as session:
        yield session


@pytest.fixture
def make_key(app: FastAPI) -> KeyFactory:
    """Issue a key and return the `Authorization` header that carries it."""

    async def factory(
        role: Role, owner_id: uuid.UUID | None = None, name: str = "test"
    ) -> dict[str, str]:
        async with app.state.sessionmaker() as session:
            await begin_write(session)
            _key, token = await keys.create_key(session, name=name, role=role, owner_id=owner_id)
            await session.commit()
        return {"Authorization": f"Bearer {token}"}

    return factory


@pytest.fixture
def make_scoped_partner(app: FastAPI, clock: FakeClock) -> ScopedPartnerFactory:
    """Issue a partner key granted these events (straight to the database) and return the
    `Authorization` header that carries it."""

    async def factory(*event_ids: uuid.UUID, name: str = "ticketing") -> dict[str, str]:
        async with app.state.sessionmaker() as session:
            await begin_write(session)
            key, token = await keys.create_key(session, name=name, role=Role.partner, owner_id=None)
            for event_id in event_ids:
                await keys.grant_event(session, key.id, event_id, granted_by=None, now=clock.now())
            await session.commit()
        return {"Authorization": f"Bearer {token}"}

    return factory


@pytest.fixture
async def admin(make_key: KeyFactory) -> dict[str, str]:
    return await make_key(Role.admin, name="test admin")


@pytest.fixture
async def partner(make_key: KeyFactory) -> dict[str, str]:
    return await make_key(Role.partner, name="test partner")


@pytest.fixture
def make_owner(client: httpx.AsyncClient, admin: dict[str, str]) -> OwnerFactory:
    """Create an owner through the API and return its JSON."""

    async def factory(**fields: Any) -> dict[str, Any]:
        body = {
            "name": "Hợp tác xã Thử nghiệm",
            "kind": "cooperative",
            "commune": "Bắc Sơn",
            **fields,
        }
        response = await client.post("/v1/owners", json=body, headers=admin)
        assert response.status_code == 201, response.text
        owner: dict[str, Any] = response.json()
        return owner

    return factory
