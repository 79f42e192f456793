"""The delivery worker against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import begin_write
from app.main import create_app
from app.models import DeliveryStatus, OutboxMessage, WebhookDelivery, WebhookEndpoint
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
    problem,
    until_a_session_waits_for_a_lock,
)
from tests.webhooks.receiver import Receiver, running

pytestmark = pytest.mark.anyio


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


async def scraped(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample `/metrics` shows, by name and labels."""
    text = (await client.get("/metrics")).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def attempts_counted(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], outcome: str
) -> float:
    return samples[("ocop_webhook_delivery_attempts_total", frozenset({("outcome", outcome)}))]


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
    assert got.headers["webhook-id"] == delivery["message_id"]
    assert re.fullmatch("msg_[0-9a-f]{32}", delivery["message_id"])
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
    assert [a["outcome"] for a in delivery["attempt_log"]] == ["retry", "delivered"]


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


async def test_resend_answers_202_with_a_new_delivery_and_keeps_the_earlier_attempts(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    await worker.run_once()
    (first,) = await deliveries(client, admin, endpoint["id"])
    clock.advance(timedelta(minutes=5))

    resent = await client.post(
        f"/v1/webhooks/{endpoint['id']}/deliveries/{first['id']}/resend", headers=admin
    )
    await worker.run_once()

    assert resent.status_code == 202, resent.text
    again = resent.json()
    assert (again["status"], again["attempts"], again["attempt_log"]) == ("pending", 0, [])
    assert again["resend_of"] == first["id"]
    assert again["message_id"] == first["message_id"]
    assert [r.headers["webhook-id"] for r in receiver.received] == [first["message_id"]] * 2
    newest, oldest = await deliveries(client, admin, endpoint["id"])
    assert newest["id"] == again["id"]
    assert [a["status_code"] for a in newest["attempt_log"]] == [200]
    assert oldest == first


async def test_resending_a_pending_delivery_sends_it_now_and_keeps_its_attempts(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    receiver.statuses = [500]
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    await worker.run_once()  # 500: retried in about 30 s
    (waiting,) = await deliveries(client, admin, endpoint["id"])

    resent = await client.post(
        f"/v1/webhooks/{endpoint['id']}/deliveries/{waiting['id']}/resend", headers=admin
    )
    sent_now = await worker.run_once()

    assert resent.status_code == 202, resent.text
    assert (resent.json()["id"], resent.json()["attempts"]) == (waiting["id"], 1)
    assert sent_now == 1
    (delivery,) = await deliveries(client, admin, endpoint["id"])
    assert delivery["attempts"] == 2
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 200]


async def test_a_second_resend_before_the_first_is_sent_adds_no_delivery(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    await worker.run_once()
    (first,) = await deliveries(client, admin, endpoint["id"])
    path = f"/v1/webhooks/{endpoint['id']}/deliveries/{first['id']}/resend"

    one = await client.post(path, headers=admin)
    two = await client.post(path, headers=admin)
    await worker.run_once()

    assert (one.status_code, two.status_code) == (202, 202)
    assert one.json()["id"] == two.json()["id"]
    assert len(await deliveries(client, admin, endpoint["id"])) == 2
    assert len(receiver.received) == 2


async def test_a_resend_to_a_disabled_endpoint_is_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    receiver.statuses = [410]
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    await worker.run_once()
    (failed,) = await deliveries(client, admin, endpoint["id"])

    response = await client.post(
        f"/v1/webhooks/{endpoint['id']}/deliveries/{failed['id']}/resend", headers=admin
    )

    assert response.status_code == 409
    assert problem(response)["code"] == "webhook_disabled"
    assert await deliveries(client, admin, endpoint["id"]) == [failed]


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

    assert await db.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# What a message looks like.


async def test_the_body_is_a_typed_envelope_and_the_delivery_names_its_message(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"number": "LS-1"})
    await worker.run_once()

    (got,) = receiver.received
    document = json.loads(got.body)
    (delivery,) = await deliveries(client, admin, endpoint["id"])
    assert sorted(document) == ["data", "timestamp", "type"]
    assert document["timestamp"].endswith("Z")
    assert sorted(delivery) == [
        "attempt_log",
        "attempts",
        "created_at",
        "delivered_at",
        "endpoint_id",
        "id",
        "last_error",
        "last_status_code",
        "message_id",
        "next_attempt_at",
        "resend_of",
        "status",
        "type",
    ]
    assert (delivery["type"], delivery["endpoint_id"]) == ("order.created", endpoint["id"])
    assert delivery["message_id"] == got.headers["webhook-id"]


# Ping.


async def test_a_ping_is_queued_then_delivered_signed_and_listed(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    endpoint = await register(client, admin, receiver.url)

    pinged = await client.post(f"/v1/webhooks/{endpoint['id']}/ping", headers=admin)
    sent = await worker.run_once()

    assert pinged.status_code == 202, pinged.text
    queued = pinged.json()
    assert (queued["type"], queued["status"], queued["attempts"]) == ("webhook.ping", "pending", 0)
    assert sent == 1
    (got,) = receiver.received
    assert signing.verify(
        endpoint["secret"], got.headers, got.body, now=int(clock.now().timestamp())
    )
    assert got.headers["webhook-id"] == queued["message_id"]
    assert json.loads(got.body)["type"] == "webhook.ping"
    assert json.loads(got.body)["data"] == {"endpoint_id": endpoint["id"]}
    (listed,) = await deliveries(client, admin, endpoint["id"])
    assert (listed["id"], listed["status"]) == (queued["id"], "delivered")
    assert [a["status_code"] for a in listed["attempt_log"]] == [200]


async def test_a_ping_goes_to_its_endpoint_only(
    client: httpx.AsyncClient, admin: dict[str, str], worker: DeliveryWorker
) -> None:
    async with running(Receiver()) as pinged, running(Receiver()) as other:
        endpoint = await register(client, admin, pinged.url, "order.created")
        await register(client, admin, other.url, "order.created")

        await client.post(f"/v1/webhooks/{endpoint['id']}/ping", headers=admin)
        await worker.run_once()

    assert (len(pinged.received), len(other.received)) == (1, 0)


# Secret rotation.


async def rotate(
    client: httpx.AsyncClient, key: dict[str, str], endpoint_id: str, **body: Any
) -> str:
    response = await client.post(
        f"/v1/webhooks/{endpoint_id}/rotate-secret", json=body or None, headers=key
    )
    assert response.status_code == 200, response.text
    secret: str = response.json()["secret"]
    return secret


async def test_during_the_overlap_deliveries_are_signed_with_both_secrets(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    new_secret = await rotate(client, admin, endpoint["id"])
    clock.advance(timedelta(hours=23, minutes=59))
    await emit_committed(app, "order.created", {"n": 1})

    await worker.run_once()

    (got,) = receiver.received
    now = int(clock.now().timestamp())
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert signing.verify(endpoint["secret"], got.headers, got.body, now=now)
    assert signing.verify(new_secret, got.headers, got.body, now=now)


async def test_after_the_overlap_only_the_new_secret_signs(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    new_secret = await rotate(client, admin, endpoint["id"])
    clock.advance(timedelta(hours=24))
    await emit_committed(app, "order.created", {"n": 1})

    await worker.run_once()

    (got,) = receiver.received
    now = int(clock.now().timestamp())
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    assert not signing.verify(endpoint["secret"], got.headers, got.body, now=now)
    assert signing.verify(new_secret, got.headers, got.body, now=now)


async def test_a_previous_secret_is_forgotten_once_its_overlap_ends(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
    db: AsyncSession,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    await rotate(client, admin, endpoint["id"], overlap_seconds=60)
    during = (await client.get(f"/v1/webhooks/{endpoint['id']}", headers=admin)).json()
    clock.advance(timedelta(seconds=60))

    await worker.run_once()

    after = (await client.get(f"/v1/webhooks/{endpoint['id']}", headers=admin)).json()
    stored = await db.get(WebhookEndpoint, uuid.UUID(endpoint["id"]))
    assert during["previous_secret_expires_at"] is not None
    assert after["previous_secret_expires_at"] is None
    assert stored is not None
    assert stored.previous_secret is None


async def test_a_rotation_without_overlap_stops_the_old_secret_at_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    new_secret = await rotate(client, admin, endpoint["id"], overlap_seconds=0)
    await emit_committed(app, "order.created", {"n": 1})

    await worker.run_once()

    (got,) = receiver.received
    now = int(clock.now().timestamp())
    assert not signing.verify(endpoint["secret"], got.headers, got.body, now=now)
    assert signing.verify(new_secret, got.headers, got.body, now=now)


async def test_a_second_rotation_drops_the_secret_before_the_first(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FakeClock,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    second = await rotate(client, admin, endpoint["id"])
    third = await rotate(client, admin, endpoint["id"])
    await emit_committed(app, "order.created", {"n": 1})

    await worker.run_once()

    (got,) = receiver.received
    now = int(clock.now().timestamp())
    assert [
        signing.verify(secret, got.headers, got.body, now=now)
        for secret in (endpoint["secret"], second, third)
    ] == [False, True, True]


# Metrics: what the worker did, read from the database by any API process.


async def test_metrics_show_what_the_worker_delivered(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    worker: DeliveryWorker,
    settings: Settings,
    clock: FakeClock,
) -> None:
    receiver.statuses = [500]
    await register(client, admin, receiver.url)
    await emit_committed(app, "order.created", {"n": 1})
    await emit_committed(app, "order.created", {"n": 2})
    await worker.run_once()  # one 500 (retry later), one 200
    clock.advance(timedelta(seconds=20))
    another_api_process = create_app(settings, clock=clock)

    async with (
        LifespanManager(another_api_process),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=another_api_process), base_url="http://other"
        ) as other,
    ):
        samples = [await scraped(client), await scraped(other)]

    for sample in samples:
        assert {
            outcome: attempts_counted(sample, outcome)
            for outcome in ("delivered", "retry", "failed", "disabled")
        } == {"delivered": 1, "retry": 1, "failed": 0, "disabled": 0}
        assert {
            status: sample[("ocop_webhook_deliveries", frozenset({("status", status)}))]
            for status in ("pending", "delivered", "failed")
        } == {"pending": 1, "delivered": 1, "failed": 0}
        assert sample[("ocop_outbox_backlog", frozenset())] == 1
        assert sample[("ocop_webhook_oldest_pending_seconds", frozenset())] == 20


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
