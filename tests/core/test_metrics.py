"""`/metrics`: Prometheus text with request counts, latency and the webhook figures."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import metrics
from app.models import OutboxMessage
from tests.servers import free_port

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
    db.add_all([OutboxMessage(type="test.event", payload={}, owner_ids=[]) for _ in range(2)])
    await db.commit()

    text = (await client.get("/metrics")).text

    assert samples(text)[("ocop_outbox_backlog", frozenset())] == 2


def test_the_counters_later_work_needs_are_defined() -> None:
    metrics.ORDERS_PLACED.labels("online")
    text = metrics.render().decode()

    assert "ocop_orders_placed_total" in text
    assert "ocop_insufficient_stock_refusals_total" in text


@pytest.mark.slow
def test_several_workers_report_one_sum(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "OCOP_DATABASE_URL": database_url,
        "OCOP_ENVIRONMENT": "test",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "ocop serve did not start"
                time.sleep(0.2)
        for _ in range(20):
            httpx.get(f"{url}/v1/owners")  # a new connection each: either worker may answer
        scrapes = [httpx.get(f"{url}/metrics").text for _ in range(4)]
    finally:
        process.terminate()
        process.wait(timeout=15)

    assert [requests(text, "/v1/owners", "200") for text in scrapes] == [20.0] * 4
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
