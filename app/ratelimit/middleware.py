"""Rate limits per API key, and per client address for requests without a key.

Fixed windows: a bucket counts the requests since its window opened and refuses those beyond
the quota until the window closes. With Redis (`OCOP_REDIS_URL`) one Lua script increments the
counter and starts its expiry atomically, so every API process shares one count; without it a
dictionary in the process does the same.

The middleware runs before routing and authentication. It names a key's bucket by a hash of
the whole presented token (so a wrong secret never spends someone else's quota), and learns
the key's role from a small cache of token hash -> role, filled by one query on a miss. Tokens
that do not authenticate are limited as anonymous requests from their address; the security
dependency still authenticates every request itself.

Why not the `limits` library (5.8), which Flask-Limiter and SlowAPI use: its in-memory storages
start a sweep of every bucket on a new thread (the synchronous one) or a new task (the asyncio
one) whenever the last sweep has ended, which under load is every few requests; and its
strategies answer the count and the window's reset only in a second call, two more Redis round
trips per request, where the `RateLimit` headers need both with every answer. Counting a fixed
window is the few lines below.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api_keys import service as keys
from app.core import metrics
from app.core.config import Settings
from app.core.errors import error_response
from app.core.openapi import DOCS_ASSETS_PATH
from app.models.api_key import Role

logger = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
ANONYMOUS = "anonymous"
# Operations endpoints and the docs (pages and their files) stay reachable whatever a client
# has spent.
UNLIMITED_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
)
UNLIMITED_PREFIXES = (DOCS_ASSETS_PATH + "/",)


@dataclass(frozen=True)
class Rate:
    """A quota of `limit` requests per `window_s` seconds."""

    limit: int
    window_s: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`"600/minute"` -> Rate(600, 60)."""
        count, _, period = text.partition("/")
        if not count.isdigit() or int(count) < 1 or period not in PERIODS:
            raise ValueError(f"not a rate: {text!r} (use N/second|minute|hour|day)")
        return cls(int(count), PERIODS[period])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # whole seconds until the window closes, rounded up


class Limiter(Protocol):
    async def hit(self, bucket: str, rate: Rate) -> Decision:
        """Count one request against `bucket` and say whether it is within `rate`."""
        ...

    async def close(self) -> None: ...


def _decide(count: int, rate: Rate, reset_ms: int) -> Decision:
    # Integer milliseconds: in floats, (now + 60) - now can come out as 60.000000000007,
    # which would round up to a 61 s reset.
    return Decision(
        allowed=count <= rate.limit,
        limit=rate.limit,
        remaining=max(rate.limit - count, 0),
        reset_s=max(-(-reset_ms // 1000), 1),
    )


class MemoryLimiter:
    """Fixed windows in this process's memory (one process only)."""

    MAX_BUCKETS = 100_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}  # bucket -> (count, window end in ms)

    async def hit(self, bucket: str, rate: Rate) -> Decision:
        now = round(self._clock() * 1000)
        count, ends = self._windows.get(bucket, (0, 0))
        if now >= ends:
            if len(self._windows) >= self.MAX_BUCKETS:
                self._windows = {b: w for b, w in self._windows.items() if w[1] > now}
            count, ends = 0, now + rate.window_s * 1000
        count += 1
        self._windows[bucket] = (count, ends)
        return _decide(count, rate, ends - now)

    async def close(self) -> None:
        self._windows.clear()


# INCR and the first PEXPIRE in one atomic step; the key's TTL is the window's remaining time.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisLimiter:
    """Fixed windows in Redis, shared by every process that uses the same Redis and prefix."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_HIT_SCRIPT)

    async def hit(self, bucket: str, rate: Rate) -> Decision:
        key = f"{self._prefix}ratelimit:{rate.limit}/{rate.window_s}:{bucket}"
        count, ttl_ms = await self._script(keys=[key], args=[rate.window_s * 1000])
        return _decide(int(count), rate, int(ttl_ms))

    async def close(self) -> None:
        await self._redis.aclose()


def create_limiter(settings: Settings) -> Limiter:
    if settings.redis_url is None:
        return MemoryLimiter()
    # Short timeouts: a slow Redis must not hold requests (they are let through instead).
    redis = Redis.from_url(
        settings.redis_url.get_secret_value(), socket_timeout=0.5, socket_connect_timeout=0.5
    )
    return RedisLimiter(redis, settings.redis_prefix)


class RoleCache:
    """Token hash -> role (None: the token does not authenticate), kept a short while so
    that limiting a request costs no query in the common case."""

    TTL_S = 60.0
    MAX_ENTRIES = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[Role | None, float]] = {}

    async def role(
        self, token_hash: str, token: str, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> Role | None:
        now = self._clock()
        cached = self._entries.get(token_hash)
        if cached is not None and cached[1] > now:
            return cached[0]
        role = await self._lookup(token, sessionmaker)
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[token_hash] = (role, now + self.TTL_S)
        return role

    @staticmethod
    async def _lookup(token: str, sessionmaker: async_sessionmaker[AsyncSession]) -> Role | None:
        async with sessionmaker() as session:
            return await keys.active_role(session, token)


def _bearer_token(scope: Scope) -> str | None:
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class RateLimitMiddleware:
    """Counts each request against its bucket; adds `RateLimit-Policy` and `RateLimit`
    (draft-ietf-httpapi-ratelimit-headers) to every limited response, and answers 429 with
    `Retry-After` once the quota is spent."""

    def __init__(self, app: ASGIApp, settings: Settings, limiter: Limiter) -> None:
        self.app = app
        self.limiter = limiter
        self.rates = {
            Role.admin.value: Rate.parse(settings.rate_limit_admin),
            Role.owner.value: Rate.parse(settings.rate_limit_owner),
            Role.partner.value: Rate.parse(settings.rate_limit_partner),
            ANONYMOUS: Rate.parse(settings.rate_limit_anonymous),
        }
        self.roles = RoleCache()

    async def _bucket(self, scope: Scope) -> tuple[str, str]:
        """(policy name, bucket id) of the request."""
        token = _bearer_token(scope)
        if token is not None:
            token_hash = hashlib.sha256(token.encode()).hexdigest()
            sessionmaker = scope["app"].state.sessionmaker
            role = await self.roles.role(token_hash, token, sessionmaker)
            if role is not None:
                return role.value, f"key:{token_hash[:32]}"
        client = scope.get("client")
        return ANONYMOUS, f"addr:{client[0] if client else 'unknown'}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in UNLIMITED_PATHS
            or scope["path"].startswith(UNLIMITED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        policy, bucket = await self._bucket(scope)
        rate = self.rates[policy]
        try:
            decision = await self.limiter.hit(f"{policy}:{bucket}", rate)
        except (RedisError, OSError) as exc:
            # Better to serve without limits for a while than to fail every request.
            logger.warning("rate limiter unavailable, request not limited: %s", exc)
            await self.app(scope, receive, send)
            return
        headers = {
            "RateLimit-Policy": f'"{policy}";q={rate.limit};w={rate.window_s}',
            "RateLimit": f'"{policy}";r={decision.remaining};t={decision.reset_s}',
        }
        if not decision.allowed:
            metrics.RATE_LIMITED.labels(policy).inc()
            refusal = error_response(
                scope,
                429,
                "rate_limited",
                f"More than {rate.limit} requests in {rate.window_s} s; "
                f"try again in {decision.reset_s} s.",
                title="Too many requests",
                headers={**headers, "Retry-After": str(decision.reset_s)},
            )
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
