"""The delivery worker against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import begin_write
from app.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookEndpoint
from app.models.api_key import Role
from app.webhooks import signing
from app.webhooks.outbox import emit
from app.webhooks.worker import MAX_ATTEMPTS, DeliveryWorker, Outcome, retry_delay
from tests.helpers import (
    FakeClock,
    InsertEvent,
    KeyFactory,
    OwnerFactory,
    ScopedPartnerFactory,
    until_a_session_waits_for_a_lock,
)
from tests.webhooks.receiver import Receiver, running

pytestmark = pytest.mark.anyio


@pytest.fixture
async def worker(
    app: FastAPI, settings: Settings, clock: FakeClock
) -> AsyncIterator[DeliveryWorker]:
    w = DeliveryWorker(app.state.sessionmaker, settings, clock=clock)
    yield w
    await w.aclose()


async def register(
    client: httpx.AsyncClient, key: dict[str, str], url: str, *types: str
) -> dict[str, Any]:
    body = {"url": url, "event_types": list(types or ["order.created"])}
    response = await client.post("/v1/webhooks", json=body, headers=key)
    assert response.status_code == 201, response.text
    endpoint: dict[str, Any] = response.json()
    return endpoint


async def key_id(client: httpx.AsyncClient, admin: dict[str, str], name: str) -> uuid.UUID:
    keys = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    return uuid.UUID(next(k["id"] for k in keys if k["name"] == name))


async def emit_committed(
    app: FastAPI, event_type: str, data: dict[str, Any], **audience: Any
) -> None:
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        await emit(session, event_type, data, **audience)
        await session.commit()


def attempts_counted(outcome: str) -> float:
    value = REGISTRY.get_sample_value("ocop_webhook_delivery_attempts_total", {"outcome": outcome})
    return value or 0.0


async def deliveries(
    client: httpx.AsyncClient, key: dict[str, str], endpoint_id: str
) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=key)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_an_event_arrives_signed_with_the_endpoints_secret(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    partner = await make_key(Role.partner, name="shop")
    endpoint = await register(client, partner, receiver.url)
    await emit_committed(
        app, "order.created", {"number": "LS-1"}, partner_key_id=await key_id(client, admin, "shop")
    )

    assert await worker.run_once() == 1

    (got,) = receiver.received
    now = int(clock.now().timestamp())
    assert signing.verify(endpoint["secret"], got.headers, got.body, now=now)
    assert not signing.verify(endpoint["secret"], got.headers, got.body + b" ", now=now)
    assert not signing.verify(endpoint["secret"], got.headers, got.body, now=now + 301)
    document = json.loads(got.body)
    assert document["type"] == "order.created"
    assert document["data"] == {"number": "LS-1"}
    assert got.headers["content-type"] == "application/json"
    (delivery,) = await deliveries(client, partner, endpoint["id"])
    assert (
        got.headers["webhook-id"]
        == delivery["webhook_id"]
        == f"msg_{uuid.UUID(delivery['id']).hex}"
    )
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempt_log"]] == [200]


async def test_each_key_hears_only_what_it_may_see(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    worker: DeliveryWorker,
) -> None:
    async with (
        running(Receiver()) as for_admin,
        running(Receiver()) as for_owner,
        running(Receiver()) as for_other_owner,
        running(Receiver()) as for_partner,
        running(Receiver()) as for_other_partner,
        running(Receiver()) as for_other_type,
    ):
        owner, other_owner = await make_owner(), await make_owner(name="Khác")
        await register(client, admin, for_admin.url)
        await register(
            client, await make_key(Role.owner, owner_id=uuid.UUID(owner["id"])), for_owner.url
        )
        await register(
            client,
            await make_key(Role.owner, owner_id=uuid.UUID(other_owner["id"])),
            for_other_owner.url,
        )
        await register(client, await make_key(Role.partner, name="p1"), for_partner.url)
        await register(client, await make_key(Role.partner, name="p2"), for_other_partner.url)
        await register(client, admin, for_other_type.url, "stock.low")
        await emit_committed(
            app,
            "order.created",
            {"n": 1},
            owner_ids=[uuid.UUID(owner["id"])],
            partner_key_id=await key_id(client, admin, "p1"),
        )

        assert await worker.run_once() == 3

    counts = [
        len(r.received)
        for r in (
            for_admin,
            for_owner,
            for_other_owner,
            for_partner,
            for_other_partner,
            for_other_type,
        )
    ]
    assert counts == [1, 1, 0, 1, 0, 0]


async def test_a_revoked_keys_endpoints_hear_nothing_more(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    other_admin = await make_key(Role.admin, name="leaving")
    await register(client, other_admin, receiver.url)
    revoked = await client.post(
        f"/v1/api-keys/{await key_id(client, admin, 'leaving')}/revoke", headers=admin
    )
    await emit_committed(app, "order.created", {"n": 1})

    assert revoked.status_code == 200
    assert await worker.run_once() == 0
    assert receiver.received == []


async def test_a_500_is_retried_later_and_then_delivered_with_the_same_id(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    receiver.statuses = [500]
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    before = {outcome: attempts_counted(outcome) for outcome in ("retry", "delivered")}

    first = await worker.run_once()
    too_early = await worker.run_once()
    clock.advance(timedelta(seconds=37))  # 30 s +- 20% jitter
    second = await worker.run_once()

    assert (first, too_early, second) == (1, 0, 1)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 2
    assert ids[0] == ids[1]
    (delivery,) = await deliveries(client, admin, endpoint["id"])
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 2
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 200]
    assert delivery["attempt_log"][0]["error"] == "HTTP 500"
    assert attempts_counted("retry") - before["retry"] == 1
    assert attempts_counted("delivered") - before["delivered"] == 1


async def test_retry_after_is_honoured(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    receiver.statuses = [503]
    receiver.extra_headers = {"Retry-After": "600"}
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})

    await worker.run_once()

    (delivery,) = await deliveries(client, admin, endpoint["id"])
    assert delivery["status"] == "pending"
    assert delivery["next_attempt_at"] == (
        clock.now() + timedelta(seconds=600)
    ).isoformat().replace("+00:00", "Z")


async def test_a_410_disables_the_endpoint(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    receiver.statuses = [410]
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    await worker.run_once()

    await emit_committed(app, "order.created", {"n": 2})
    clock.advance(timedelta(days=1))
    later = await worker.run_once()

    read = (await client.get(f"/v1/webhooks/{endpoint['id']}", headers=admin)).json()
    assert read["status"] == "disabled"
    assert read["disabled_reason"] == "the receiver answered 410 Gone"
    assert later == 0
    assert len(receiver.received) == 1
    assert [d["status"] for d in await deliveries(client, admin, endpoint["id"])] == ["failed"]


async def test_too_many_failures_in_a_row_disable_the_endpoint(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    settings: Settings,
    clock: FakeClock,
) -> None:
    receiver.statuses = [500] * 3
    endpoint = await register(client, admin, receiver.url)
    worker = DeliveryWorker(
        app.state.sessionmaker,
        settings.model_copy(update={"webhooks_max_failures": 3}),
        clock=clock,
    )
    await emit_committed(app, "order.created", {"n": 1})
    try:
        for _ in range(3):
            await worker.run_once()
            clock.advance(timedelta(hours=1))
    finally:
        await worker.aclose()

    read = (await client.get(f"/v1/webhooks/{endpoint['id']}", headers=admin)).json()
    assert (read["status"], read["failure_count"]) == ("disabled", 3)
    assert len(receiver.received) == 3


@pytest.mark.slow
async def test_a_delivery_is_given_up_after_about_three_days(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    receiver.statuses = [500] * MAX_ATTEMPTS
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    started = clock.now()

    await worker.run_once()
    while (await deliveries(client, admin, endpoint["id"]))[0]["status"] == "pending":
        await worker.run_once()
        clock.advance(timedelta(minutes=10))

    assert len(receiver.received) == MAX_ATTEMPTS
    assert timedelta(days=2.3) < clock.now() - started < timedelta(days=3.5)
    assert (await deliveries(client, admin, endpoint["id"]))[0]["status"] == "failed"


def test_backoff_doubles_with_jitter_up_to_six_hours() -> None:
    assert retry_delay(1, rng=lambda: 0.5) == timedelta(seconds=30)
    assert retry_delay(2, rng=lambda: 0.0) == timedelta(seconds=48)
    assert retry_delay(3, rng=lambda: 1.0) == timedelta(seconds=144)
    assert retry_delay(20, rng=lambda: 0.5) == timedelta(hours=6)


async def test_resend_sends_again_with_the_same_id(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    await worker.run_once()
    (delivery,) = await deliveries(client, admin, endpoint["id"])

    resent = await client.post(
        f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/resend", headers=admin
    )
    await worker.run_once()

    assert resent.status_code == 200
    assert resent.json()["status"] == "pending"
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery["webhook_id"]] * 2


async def test_resend_of_another_endpoints_delivery_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], receiver: Receiver
) -> None:
    endpoint = await register(client, admin, receiver.url)

    response = await client.post(
        f"/v1/webhooks/{endpoint['id']}/deliveries/{uuid.uuid4()}/resend", headers=admin
    )

    assert response.status_code == 404


async def test_a_target_that_turned_private_is_refused_at_send(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    settings: Settings,
    clock: FakeClock,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    strict = DeliveryWorker(
        app.state.sessionmaker,
        settings.model_copy(update={"webhooks_allow_private": False}),
        clock=clock,
    )
    try:
        await strict.run_once()
    finally:
        await strict.aclose()

    (delivery,) = await deliveries(client, admin, endpoint["id"])
    assert receiver.received == []
    assert delivery["status"] == "pending"
    assert delivery["attempt_log"][0]["error"].startswith("refused target: the URL must use https")


async def test_the_outbox_event_rolls_back_with_its_transaction(
    app: FastAPI, db: AsyncSession
) -> None:
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        await emit(session, "order.created", {"n": 1})
        await session.rollback()

    assert await db.scalar(select(func.count()).select_from(OutboxEvent)) == 0


# Worker processes, as `ocop worker` runs them.


def start_worker(
    database_url: str, stderr: int = subprocess.DEVNULL, **env: str
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env={
            **os.environ,
            "OCOP_DATABASE_URL": database_url,
            "OCOP_ENVIRONMENT": "test",
            "OCOP_WEBHOOKS_ALLOW_PRIVATE": "true",
            "OCOP_WEBHOOKS_POLL_INTERVAL_S": "0.1",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


async def test_a_worker_killed_mid_send_is_replaced_and_the_event_arrives_with_the_same_id(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    database_url: str,
    db: AsyncSession,
    workers: list[subprocess.Popen[bytes]],
) -> None:
    async with running(Receiver(hold_first=asyncio.Event())) as receiver:
        await register(client, admin, receiver.url)
        await emit_committed(app, "order.created", {"n": 1})
        workers.append(start_worker(database_url, OCOP_WEBHOOKS_LEASE_S="2"))
        await receiver.wait_for(1)

        workers[0].kill()  # SIGKILL, mid-send: no chance to record anything
        workers[0].wait()
        workers.append(start_worker(database_url, OCOP_WEBHOOKS_LEASE_S="2"))
        await receiver.wait_for(2)
        async with asyncio.timeout(30):
            while await db.scalar(select(WebhookDelivery.status)) != DeliveryStatus.delivered:
                db.expire_all()
                await db.rollback()
                await asyncio.sleep(0.1)

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body


def test_the_worker_stops_cleanly_on_sigterm(
    database_url: str, workers: list[subprocess.Popen[bytes]]
) -> None:
    workers.append(start_worker(database_url, stderr=subprocess.PIPE))
    assert workers[0].stderr is not None
    started = json.loads(workers[0].stderr.readline())

    workers[0].send_signal(signal.SIGTERM)

    assert started["message"] == "webhook worker started"
    assert workers[0].wait(timeout=10) == 0


@pytest.mark.postgres_only
async def test_two_workers_deliver_200_events_exactly_once_each(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    database_url: str,
    workers: list[subprocess.Popen[bytes]],
) -> None:
    async with running(Receiver()) as receiver:
        await register(client, admin, receiver.url)
        async with app.state.sessionmaker() as session:
            for n in range(200):
                await emit(session, "order.created", {"n": n})
            await session.commit()
        workers.extend(start_worker(database_url) for _ in range(2))
        await receiver.wait_for(200, timeout_s=60)
        await asyncio.sleep(1)  # any duplicate would arrive now

    ids = [r.headers["webhook-id"] for r in receiver.received]
    numbers = sorted(json.loads(r.body)["data"]["n"] for r in receiver.received)
    assert len(ids) == 200
    assert len(set(ids)) == 200
    assert numbers == list(range(200))


@pytest.mark.postgres_only
async def test_deleting_an_endpoint_while_its_attempt_is_recorded_does_not_deadlock(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    # Deleting an endpoint locks it, then its deliveries (ON DELETE CASCADE); recording an
    # attempt must lock them in that order too.
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    await worker.dispatch()
    (claimed,) = await worker.claim()

    async with app.state.writer_sessionmaker() as deleting:
        endpoint_id = uuid.UUID(endpoint["id"])
        await deleting.get(WebhookEndpoint, endpoint_id, with_for_update=True)
        recording = asyncio.create_task(worker.record(claimed, Outcome(200, None, None, 5)))
        await until_a_session_waits_for_a_lock(app)
        await deleting.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
        await deleting.commit()

    assert await recording is None
    assert (await client.get(f"/v1/webhooks/{endpoint['id']}", headers=admin)).status_code == 404


async def test_a_partner_key_hears_the_changes_of_the_events_it_was_granted_only(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_scoped_partner: ScopedPartnerFactory,
    insert_event: InsertEvent,
    worker: DeliveryWorker,
) -> None:
    festival, fair = await insert_event(), await insert_event(venue="Chợ Kỳ Lừa")
    async with running(Receiver()) as for_festival, running(Receiver()) as for_fair:
        festival_partner = await make_scoped_partner(festival.id, name="festival tickets")
        await register(client, festival_partner, for_festival.url, "event.updated")
        await register(
            client,
            await make_scoped_partner(fair.id, name="fair tickets"),
            for_fair.url,
            "event.updated",
        )
        for event in (festival, fair):
            changed = await client.patch(
                f"/v1/events/{event.id}", json={"venue": "Quảng trường"}, headers=admin
            )
            assert changed.status_code == 200, changed.text

        assert await worker.run_once() == 2

    assert [json.loads(got.body)["data"]["id"] for got in for_festival.received] == [
        str(festival.id)
    ]
    assert [json.loads(got.body)["data"]["id"] for got in for_fair.received] == [str(fair.id)]


async def test_every_partner_key_hears_the_public_catalogues_changes(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    await register(client, partner, receiver.url, "product.updated")
    await emit_committed(app, "product.updated", {"id": "p1"}, owner_ids=[uuid.uuid4()])

    assert await worker.run_once() == 1

    (got,) = receiver.received
    assert json.loads(got.body)["data"] == {"id": "p1"}
