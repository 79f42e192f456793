"""The delivery worker (`ocop worker`): fans outbox messages out to endpoints and sends them.

Each round, in short transactions of their own:
1. dispatch: messages not yet dispatched become one delivery per endpoint that may hear them
   (and previous secrets past their overlap are forgotten);
2. claim: due deliveries are locked with `FOR UPDATE SKIP LOCKED` (so several workers on
   PostgreSQL never take the same one) and leased for `OCOP_WEBHOOKS_LEASE_S` by moving their
   `next_attempt_at`; no transaction stays open while sending;
3. send and record: each attempt is stored with its outcome (what `/metrics` counts, from
   the database, so any API process shows every worker's figures); success, 410 (disable), or
   a retry later with exponential backoff and jitter (or the receiver's `Retry-After`) for
   about three days.

A worker that dies mid-send leaves its leased deliveries pending: once the lease ends another
worker (or the same one restarted) sends them again, with the same `webhook-id`, which is why a
receiver must treat the id as an idempotency key. On SQLite, run a single worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api_keys.auth import Principal
from app.core.clock import Clock, SystemClock
from app.core.config import Settings
from app.core.db import begin_write
from app.models.webhook import (
    AttemptOutcome,
    DeliveryStatus,
    EndpointStatus,
    OutboxMessage,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.webhooks import catalogue, signing, targets
from app.webhooks.repository import DeliveryRepository, EndpointRepository, OutboxRepository
from app.webhooks.schemas import WebhookMessage

logger = logging.getLogger(__name__)

BATCH_SIZE = 20
MAX_ATTEMPTS = 21  # 30 s doubling to 6 h: about 2.9 days from the first attempt to the last
BASE_DELAY_S = 30
MAX_DELAY_S = 6 * 3600
MAX_RETRY_AFTER_S = 24 * 3600
USER_AGENT = "ocop-api-webhooks/1"
MAX_ADDRESSES = 3  # a name's addresses tried in turn when a connection cannot be opened


def retry_delay(attempts: int, rng: Callable[[], float] = random.random) -> timedelta:
    """The wait after the `attempts`-th failure: doubling from 30 s up to 6 h, +-20% jitter
    so that a receiver coming back is not hit by every retry at once."""
    base = min(BASE_DELAY_S * 2 ** (attempts - 1), MAX_DELAY_S)
    return timedelta(seconds=base * (0.8 + 0.4 * rng()))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delay-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


@dataclass(frozen=True)
class Listener:
    """An endpoint that may be sent messages, and its key as the catalogue judges it."""

    endpoint: WebhookEndpoint
    key: Principal

    @classmethod
    def of(
        cls, endpoint: WebhookEndpoint, grants: Mapping[uuid.UUID, frozenset[uuid.UUID]]
    ) -> Listener:
        key = Principal(
            key_id=endpoint.api_key_id,
            role=endpoint.role,
            owner_id=endpoint.owner_id,
            event_ids=grants.get(endpoint.api_key_id, frozenset()),
        )
        return cls(endpoint, key)

    def hears(self, message: OutboxMessage) -> bool:
        """Whether the endpoint asked for the message's type and its key may know of it."""
        return message.type in self.endpoint.event_types and catalogue.hears(self.key, message)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    """The secrets a delivery is signed with now: the current one, and the one before the
    last rotation until its overlap ends."""
    expires_at = endpoint.previous_secret_expires_at
    if endpoint.previous_secret is not None and expires_at is not None and now < expires_at:
        return (endpoint.secret, endpoint.previous_secret)
    return (endpoint.secret,)


@dataclass(frozen=True)
class Claimed:
    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    message_id: uuid.UUID
    url: str
    secrets: tuple[str, ...]
    body: bytes

    @property
    def msg_id(self) -> str:
        return signing.message_id(self.message_id)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    retry_after_s: float | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def message_body(message: OutboxMessage) -> bytes:
    """The JSON body of every delivery of the message (compact UTF-8; the same bytes on every
    retry and resend), as `WebhookMessage` in the OpenAPI document's `webhooks`."""
    document = WebhookMessage(type=message.type, timestamp=message.created_at, data=message.payload)
    return document.model_dump_json().encode()


def _fan_out(
    message: OutboxMessage, listeners: Sequence[Listener], now: datetime
) -> list[WebhookDelivery]:
    """A delivery, due now, to each endpoint that hears the message."""
    return [
        WebhookDelivery(
            endpoint_id=listener.endpoint.id,
            message_id=message.id,
            status=DeliveryStatus.pending,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        for listener in listeners
        if listener.hears(message)
    ]


class DeliveryWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock or SystemClock()
        # No redirects (a redirect could point anywhere), no proxies from the environment, and
        # no kept-alive connections: requests go to pinned addresses, and a connection opened
        # (and verified) for one host name must not carry a request for another at that address.
        self.http = http or httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(settings.webhooks_timeout_s),
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self.batch_size = batch_size

    async def aclose(self) -> None:
        await self.http.aclose()

    async def dispatch(self) -> int:
        """Turn undispatched messages into deliveries, and forget previous secrets whose
        overlap has ended; the number of messages handled."""
        now = self.clock.now()
        async with self.sessionmaker() as session:
            await begin_write(session)
            messages = await OutboxRepository(session).undispatched(self.batch_size * 5)
            endpoints = EndpointRepository(session)
            if messages:
                listening = await endpoints.listening()
                grants = await endpoints.grants_of(listening)
                listeners = [Listener.of(endpoint, grants) for endpoint in listening]
                for message in messages:
                    session.add_all(_fan_out(message, listeners, now))
                    message.dispatched_at = now
            await endpoints.forget_previous_secrets(expired_by=now)
            await session.commit()
        return len(messages)

    async def claim(self) -> list[Claimed]:
        """Lock and lease the deliveries that are due."""
        now = self.clock.now()
        async with self.sessionmaker() as session:
            await begin_write(session)
            due = await DeliveryRepository(session).due(now, self.batch_size)
            lease_until = now + timedelta(seconds=self.settings.webhooks_lease_s)
            claimed = []
            for delivery, endpoint, message in due:
                delivery.next_attempt_at = lease_until
                claimed.append(
                    Claimed(
                        delivery.id,
                        endpoint.id,
                        message.id,
                        endpoint.url,
                        signing_secrets(endpoint, now),
                        message_body(message),
                    )
                )
            await session.commit()
        return claimed

    async def send(self, claimed: Claimed) -> Outcome:
        """One attempt: resolve and check the target again, sign, POST to an address of that
        lookup (the next one only if the connection could not be opened, so before anything
        was sent), and read only the status."""
        started = time.perf_counter()

        def elapsed_ms() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            addresses = await targets.addresses(
                claimed.url, allow_private=self.settings.webhooks_allow_private
            )
        except targets.UnsafeTarget as exc:
            return Outcome(None, f"refused target: {exc}"[:500], None, elapsed_ms())
        now = self.clock.now()
        unreachable = "the host resolves to no address"
        for address in addresses[:MAX_ADDRESSES]:
            try:
                status, retry_after = await self._post(claimed, address, now)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                unreachable = f"{type(exc).__name__} ({address}): {exc}"
                continue
            except httpx.HTTPError as exc:
                return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], None, elapsed_ms())
            error = None if 200 <= status < 300 else f"HTTP {status}"
            return Outcome(status, error, retry_after, elapsed_ms())
        return Outcome(None, unreachable[:500], None, elapsed_ms())

    async def _post(
        self, claimed: Claimed, address: targets.Address, now: datetime
    ) -> tuple[int, float | None]:
        """POST the signed body to `address`, kept under the URL's host name; the status and
        the `Retry-After` seconds of the answer."""
        url, host, extensions = targets.pinned_request(claimed.url, address)
        headers = {
            **signing.headers(claimed.secrets, claimed.msg_id, int(now.timestamp()), claimed.body),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **host,
        }
        async with self.http.stream(
            "POST", url, content=claimed.body, headers=headers, extensions=extensions
        ) as response:
            return response.status_code, parse_retry_after(response.headers.get("retry-after"), now)

    async def record(self, claimed: Claimed, outcome: Outcome) -> AttemptOutcome | None:
        """Store the attempt and what follows from it; None if the delivery is gone (its
        endpoint was deleted meanwhile)."""
        now = self.clock.now()
        async with self.sessionmaker() as session:
            await begin_write(session)
            # The endpoint, then its delivery: the order in which deleting an endpoint locks
            # them (its deliveries go by ON DELETE CASCADE), so the two cannot deadlock.
            endpoint = await EndpointRepository(session).get_for_update(claimed.endpoint_id)
            delivery = await DeliveryRepository(session).get_for_update(claimed.delivery_id)
            if delivery is None or endpoint is None:
                return None
            delivery.attempts += 1
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error
            result = self._next_step(delivery, endpoint, outcome, now)
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    attempted_at=now,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                    outcome=result,
                )
            )
            await session.commit()
        return result

    def _next_step(
        self, delivery: WebhookDelivery, endpoint: WebhookEndpoint, outcome: Outcome, now: datetime
    ) -> AttemptOutcome:
        if outcome.ok:
            delivery.status = DeliveryStatus.delivered
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            endpoint.failure_count = 0
            return AttemptOutcome.delivered
        endpoint.failure_count += 1
        if outcome.status_code == 410:
            return self._disable(delivery, endpoint, "the receiver answered 410 Gone")
        if endpoint.failure_count >= self.settings.webhooks_max_failures:
            return self._disable(
                delivery, endpoint, f"{endpoint.failure_count} failed attempts in a row"
            )
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.failed
            delivery.next_attempt_at = None
            return AttemptOutcome.failed
        if outcome.retry_after_s is not None:
            delay = timedelta(seconds=outcome.retry_after_s)
        else:
            delay = retry_delay(delivery.attempts)
        delivery.next_attempt_at = now + delay
        return AttemptOutcome.retry

    @staticmethod
    def _disable(
        delivery: WebhookDelivery, endpoint: WebhookEndpoint, reason: str
    ) -> AttemptOutcome:
        endpoint.status = EndpointStatus.disabled
        endpoint.disabled_reason = reason
        delivery.status = DeliveryStatus.failed
        delivery.next_attempt_at = None
        logger.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
        return AttemptOutcome.disabled

    async def deliver(self, claimed: Claimed) -> AttemptOutcome | None:
        return await self.record(claimed, await self.send(claimed))

    async def run_once(self) -> int:
        """One round: dispatch, claim, send; the number of deliveries attempted."""
        await self.dispatch()
        claimed = await self.claim()
        await asyncio.gather(*(self.deliver(c) for c in claimed))
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; sleep between rounds only when idle."""
        while not stop.is_set():
            try:
                done = await self.run_once()
            except (SQLAlchemyError, OSError) as exc:
                logger.error("webhook worker round failed: %s", exc)
                done = 0
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.webhooks_poll_interval_s)
