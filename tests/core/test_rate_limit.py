"""Rate limits: per key and per address, the draft RateLimit headers, 429, shared via Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from redis.asyncio import Redis

from app.core.config import Settings
from app.main import create_app
from app.models.api_key import Role
from app.ratelimit.middleware import MemoryLimiter, Rate, RedisLimiter
from tests.helpers import KeyFactory, problem
from tests.servers import api_server

pytestmark = pytest.mark.anyio


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def limited_client(settings: Settings, **limits: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update=limits))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.mark.parametrize(
    ("text", "rate"),
    [("600/minute", Rate(600, 60)), ("1/second", Rate(1, 1)), ("5/day", Rate(5, 86400))],
)
def test_rates_parse(text: str, rate: Rate) -> None:
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["0/minute", "ten/minute", "5/week", "5", "-1/second"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a rate"):
        Rate.parse(text)


async def test_memory_limiter_counts_a_fixed_window() -> None:
    clock = FakeMonotonic()
    limiter = MemoryLimiter(clock)
    rate = Rate(3, 60)

    decisions = [await limiter.hit("b", rate) for _ in range(4)]
    clock.now += 45
    still_refused = await limiter.hit("b", rate)
    clock.now += 15
    next_window = await limiter.hit("b", rate)

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert [d.reset_s for d in decisions] == [60, 60, 60, 60]
    assert (still_refused.allowed, still_refused.reset_s) == (False, 15)
    assert (next_window.allowed, next_window.remaining, next_window.reset_s) == (True, 2, 60)


async def test_a_new_window_resets_in_exactly_its_length() -> None:
    # In floats, (478.8758449384731 + 60) - 478.8758449384731 is a little over 60; a clock that
    # has run for a few minutes (a fresh CI machine) used to announce 61 s windows.
    clock = FakeMonotonic()
    clock.now = 478.8758449384731
    limiter = MemoryLimiter(clock)

    decision = await limiter.hit("b", Rate(3, 60))

    assert decision.reset_s == 60


async def test_memory_limiter_keeps_buckets_apart() -> None:
    limiter = MemoryLimiter(FakeMonotonic())
    rate = Rate(1, 60)

    first = await limiter.hit("a", rate)
    other = await limiter.hit("b", rate)
    again = await limiter.hit("a", rate)

    assert (first.allowed, other.allowed, again.allowed) == (True, True, False)


async def test_redis_limiters_share_one_count(redis_url: str, redis_prefix: str) -> None:
    one = RedisLimiter(Redis.from_url(redis_url), redis_prefix)
    two = RedisLimiter(Redis.from_url(redis_url), redis_prefix)
    rate = Rate(3, 60)
    try:
        decisions = [await limiter.hit("b", rate) for limiter in (one, two, one, two)]
    finally:
        await one.close()
        await two.close()

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert all(59 <= d.reset_s <= 60 for d in decisions)


async def test_every_limited_answer_carries_the_headers(settings: Settings) -> None:
    async with limited_client(settings, rate_limit_anonymous="3/minute") as client:
        answers = [await client.get("/v1/owners") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert {a.headers["ratelimit-policy"] for a in answers} == {'"anonymous";q=3;w=60'}
    # The first answer opens the window, so its reset is exactly the window; later ones
    # may come a second on, on a slow machine.
    limits = [a.headers["ratelimit"].rsplit(";t=", 1) for a in answers]
    assert [head for head, _ in limits] == [f'"anonymous";r={r}' for r in (2, 1, 0, 0)]
    assert int(limits[0][1]) == 60
    assert all(59 <= int(t) <= 60 for _, t in limits)


async def test_past_the_quota_the_answer_is_429_with_retry_after(settings: Settings) -> None:
    async with limited_client(settings, rate_limit_anonymous="1/hour") as client:
        await client.get("/v1/owners")
        refused = await client.post("/v1/owners", json={})

    assert refused.status_code == 429
    assert problem(refused)["code"] == "rate_limited"
    # The window opened with the first request: a second or so earlier on a loaded machine.
    retry_after = refused.headers["retry-after"]
    assert retry_after in ("3599", "3600")
    assert refused.headers["ratelimit"] == f'"anonymous";r=0;t={retry_after}'
    assert refused.headers["x-request-id"]


async def test_operations_endpoints_are_not_limited(settings: Settings) -> None:
    async with limited_client(settings, rate_limit_anonymous="1/hour") as client:
        await client.get("/v1/owners")
        answers = [await client.get(path) for path in ("/healthz", "/readyz", "/openapi.json")]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all("ratelimit" not in a.headers for a in answers)


async def test_each_key_has_its_own_bucket_and_its_roles_quota(
    settings: Settings, make_key: KeyFactory
) -> None:
    limits = {"rate_limit_anonymous": "1/hour", "rate_limit_admin": "2/hour"}
    async with limited_client(settings, **limits) as client:
        first = await make_key(Role.admin, name="first")
        second = await make_key(Role.admin, name="second")
        anonymous = [await client.get("/v1/owners") for _ in range(2)]
        keyed = [await client.get("/v1/api-keys", headers=first) for _ in range(3)]
        other = await client.get("/v1/api-keys", headers=second)

    assert [a.status_code for a in anonymous] == [200, 429]
    assert [a.status_code for a in keyed] == [200, 200, 429]
    assert keyed[0].headers["ratelimit-policy"] == '"admin";q=2;w=3600'
    assert other.status_code == 200


async def test_a_wrong_secret_spends_the_address_quota_not_the_keys(
    settings: Settings, make_key: KeyFactory
) -> None:
    limits = {"rate_limit_anonymous": "2/hour", "rate_limit_admin": "1/hour"}
    async with limited_client(settings, **limits) as client:
        admin = await make_key(Role.admin)
        forged = {"Authorization": admin["Authorization"][:-4] + "AAAA"}
        forgeries = [await client.get("/v1/api-keys", headers=forged) for _ in range(3)]
        genuine = await client.get("/v1/api-keys", headers=admin)

    assert [f.status_code for f in forgeries] == [401, 401, 429]
    assert forgeries[0].headers["ratelimit-policy"] == '"anonymous";q=2;w=3600'
    assert genuine.status_code == 200


async def test_without_redis_requests_are_served_unlimited(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 9 (discard) of the loopback.
    unreachable = {
        "redis_url": SecretStr("redis://127.0.0.1:9/0"),
        "rate_limit_anonymous": "1/hour",
    }
    async with limited_client(settings, **unreachable) as client:
        answers = [await client.get("/v1/owners") for _ in range(2)]

    assert [a.status_code for a in answers] == [200, 200]
    assert all("ratelimit" not in a.headers for a in answers)
    assert "rate limiter unavailable" in caplog.text


@pytest.mark.slow
def test_two_api_processes_share_one_limit_through_redis(
    database_url: str, redis_url: str, redis_prefix: str
) -> None:
    env = {
        "OCOP_REDIS_URL": redis_url,
        "OCOP_REDIS_PREFIX": redis_prefix,
        "OCOP_RATE_LIMIT_ANONYMOUS": "10/minute",
    }
    with api_server(database_url, **env) as one, api_server(database_url, **env) as two:
        urls = [f"{server.url}/v1/owners" for server in (one, two) for _ in range(6)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda url: httpx.get(url, timeout=10), urls))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 10 + [429] * 2
    refused = [a for a in answers if a.status_code == 429]
    for answer in refused:
        assert problem(answer)["code"] == "rate_limited"
        assert 1 <= int(answer.headers["retry-after"]) <= 60
        assert answer.headers["ratelimit-policy"] == '"anonymous";q=10;w=60'
        assert answer.headers["ratelimit"].startswith('"anonymous";r=0;t=')
    assert len({uuid.UUID(a.headers["x-request-id"]) for a in answers}) == 12
