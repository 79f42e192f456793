"""Every Prometheus metric the service exports, defined in one place.

Two kinds. What an API process does (requests, orders) is counted in its memory; with several
uvicorn workers set `PROMETHEUS_MULTIPROC_DIR` to an empty directory shared by them (wiped
before each start): each process then writes its samples there and `/metrics`, whichever worker
answers, reports the sum over all of them. What `ocop worker` does (webhook deliveries) happens
in other processes, whose memory no scrape reaches: those figures are read from the database
when `/metrics` is scraped (`WebhookFigures`), so every API process shows the same numbers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

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


def observe_request(method: str, route: str, status: int, duration_s: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(duration_s)


@dataclass(frozen=True)
class WebhookFigures:
    """Webhook delivery figures, read from the database at scrape time."""

    deliveries: Mapping[str, int]
    """Deliveries stored, by status."""
    attempts: Mapping[str, int]
    """Attempts stored, by outcome."""
    backlog: int
    """Deliveries still to make: pending to active endpoints, and messages not fanned out."""
    oldest_waiting_s: float
    """How long the oldest of the backlog has waited; 0 when there is none."""


def _webhook_families(figures: WebhookFigures) -> Iterator[Metric]:
    deliveries = GaugeMetricFamily(
        "ocop_webhook_deliveries",
        "Webhook deliveries stored, by status (pending, delivered, failed).",
        labels=("status",),
    )
    for status, count in sorted(figures.deliveries.items()):
        deliveries.add_metric((status,), count)
    yield deliveries
    # A counter as long as history is kept: deleting an endpoint deletes its attempts, which
    # Prometheus reads as a counter reset.
    attempts = CounterMetricFamily(
        "ocop_webhook_delivery_attempts",
        "Webhook delivery attempts made by every worker, by outcome: delivered, retry (will be "
        "tried again), failed (given up) or disabled (the endpoint was disabled).",
        labels=("outcome",),
    )
    for outcome, count in sorted(figures.attempts.items()):
        attempts.add_metric((outcome,), count)
    yield attempts
    yield GaugeMetricFamily(
        "ocop_outbox_backlog",
        "Webhook deliveries still to be made (pending), read from the database on each scrape.",
        value=figures.backlog,
    )
    yield GaugeMetricFamily(
        "ocop_webhook_oldest_pending_seconds",
        "How long the oldest webhook delivery still to be made has waited (0 if none).",
        value=figures.oldest_waiting_s,
    )


class _Scrape:
    """What one scrape exposes: the process's (or every API worker's) own metrics, then
    those read from the database."""

    def __init__(self, own: Collector, webhooks: WebhookFigures | None) -> None:
        self.own = own
        self.webhooks = webhooks

    def collect(self) -> Iterable[Metric]:
        yield from self.own.collect()
        if self.webhooks is not None:
            yield from _webhook_families(self.webhooks)


def render(webhooks: WebhookFigures | None = None) -> bytes:
    """The exposition text: this process's metrics, or every worker's in multiprocess mode,
    and the webhook figures read from the database."""
    own: Collector = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        own = registry
    return generate_latest(_Scrape(own, webhooks))
