"""Every Prometheus metric the service exports, defined in one place.

With several uvicorn workers set `PROMETHEUS_MULTIPROC_DIR` to an empty directory shared by
them (wiped before each start): each process then writes its samples there and `/metrics`,
whichever worker answers, reports the sum over all of them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

CONTENT_TYPE = CONTENT_TYPE_LATEST

HTTP_REQUESTS = Counter(
    "ocop_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ("method", "route", "status"),
)
HTTP_LATENCY = Histogram(
    "ocop_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by route template.",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RATE_LIMITED = Counter(
    "ocop_rate_limited_requests", "Requests refused with 429, by rate-limit policy.", ("policy",)
)
ORDERS_PLACED = Counter("ocop_orders_placed", "Orders placed, by channel.", ("channel",))
INSUFFICIENT_STOCK = Counter(
    "ocop_insufficient_stock_refusals", "Orders refused because some product was short."
)
WEBHOOK_DELIVERIES = Counter(
    "ocop_webhook_delivery_attempts",
    "Webhook delivery attempts, by outcome: delivered, retry (will be tried again), "
    "failed (given up) or disabled (the endpoint was disabled).",
    ("outcome",),
)
OUTBOX_BACKLOG = Gauge(
    "ocop_outbox_backlog",
    "Webhook deliveries still to be made (pending), read from the database on each scrape.",
    multiprocess_mode="mostrecent",
)


def observe_request(method: str, route: str, status: int, duration_s: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(duration_s)


def render() -> bytes:
    """The exposition text: this process's metrics, or every worker's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()
