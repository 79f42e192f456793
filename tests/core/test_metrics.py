"""`/metrics`: Prometheus text with request counts, latency and the outbox backlog."""

from __future__ import annotations

import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import metrics
from app.models import OutboxEvent

pytestmark = pytest.mark.anyio


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests(text: str, route: str, status: str) -> float:
    labels = frozenset({("method", "GET"), ("route", route), ("status", status)})
    return samples(text).get(("ocop_http_requests_total", labels), 0.0)


async def test_requests_are_counted_by_route_template_and_status(
    client: httpx.AsyncClient,
) -> None:
    route = "/v1/owners/{owner_id}"
    before = (await client.get("/metrics")).text
    for _ in range(3):
        await client.get(f"/v1/owners/{uuid.uuid4()}")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert requests(response.text, route, "404") - requests(before, route, "404") == 3
    count = (
        "ocop_http_request_duration_seconds_count",
        frozenset({("method", "GET"), ("route", route)}),
    )
    assert samples(response.text)[count] - samples(before).get(count, 0.0) == 3


async def test_unmatched_paths_share_one_label(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    await client.get(f"/nowhere/{uuid.uuid4()}")
    await client.get(f"/elsewhere/{uuid.uuid4()}")

    text = (await client.get("/metrics")).text

    assert requests(text, "<unmatched>", "404") - requests(before, "<unmatched>", "404") == 2
    assert "/nowhere/" not in text


async def test_the_outbox_backlog_is_read_on_each_scrape(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    db.add_all([OutboxEvent(type="test.event", payload={}, owner_ids=[]) for _ in range(2)])
    await db.commit()

    text = (await client.get("/metrics")).text

    assert samples(text)[("ocop_outbox_backlog", frozenset())] == 2


def test_the_counters_later_work_needs_are_defined() -> None:
    metrics.ORDERS_PLACED.labels("online")
    metrics.WEBHOOK_DELIVERIES.labels("delivered")
    text = metrics.render().decode()

    assert "ocop_orders_placed_total" in text
    assert "ocop_insufficient_stock_refusals_total" in text
    assert "ocop_webhook_delivery_attempts_total" in text
