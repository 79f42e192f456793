"""One rule for every timestamp an answer holds: RFC 3339 in UTC with a `Z`, at the stored
precision, whatever the zone of the clock, of the request or of the event."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.core.schemas import UTC_TIMESTAMP_SCHEMA, timestamp_text
from app.models import OutboxMessage, Role
from app.webhooks.worker import DeliveryWorker, message_body
from tests.helpers import VN, FakeClock, KeyFactory, idem, order_body, seed_demo_data, vn

pytestmark = pytest.mark.anyio

# Any text shaped like a timestamp (a date, then a time), and the one shape allowed.
TIMESTAMP_LIKE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:")
UTC_Z = re.compile(UTC_TIMESTAMP_SCHEMA["pattern"])
NOW = vn(29, 10).replace(microsecond=250_000)  # a clock in +07:00, with a fraction


def timestamps(document: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(field name, text) for every timestamp-shaped string in a JSON document."""
    if isinstance(document, dict):
        for name, value in document.items():
            yield from timestamps(value, name)
    elif isinstance(document, list):
        for value in document:
            yield from timestamps(value, key)
    elif isinstance(document, str) and TIMESTAMP_LIKE.match(document):
        yield key, document


def test_the_timestamp_type_writes_utc_with_z_at_full_precision() -> None:
    moment = datetime(2025, 11, 3, 8, 0, 0, 1, tzinfo=VN)

    assert timestamp_text(moment) == "2025-11-03T01:00:00.000001Z"
    assert timestamp_text(moment.replace(microsecond=0)) == "2025-11-03T01:00:00Z"


def test_a_naive_datetime_is_never_written_as_a_timestamp() -> None:
    with pytest.raises(ValueError, match="naive"):
        timestamp_text(datetime(2025, 11, 3, 8))


def _schemas(document: dict[str, Any], schema: Any, seen: set[str]) -> Iterator[tuple[str, Any]]:
    """(property name, schema) of every property reachable from `schema`, $refs followed."""
    if isinstance(schema, list):
        for item in schema:
            yield from _schemas(document, item, seen)
        return
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref not in seen:
            seen.add(ref)
            name = ref.rsplit("/", 1)[-1]
            yield from _schemas(document, document["components"]["schemas"][name], seen)
        return
    for name, prop in schema.get("properties", {}).items():
        yield name, prop
        yield from _schemas(document, prop, seen)
    for key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties"):
        yield from _schemas(document, schema.get(key), seen)


def _date_times(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        if schema.get("format") == "date-time":
            yield schema
        for key in ("anyOf", "oneOf", "allOf"):
            for part in schema.get(key, []):
                yield from _date_times(part)


async def test_every_timestamp_an_answer_holds_is_documented_as_utc(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    found: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            for answer in operation.get("responses", {}).values():
                for content in answer.get("content", {}).values():
                    for name, prop in _schemas(document, content.get("schema"), seen):
                        found.setdefault(name, []).extend(_date_times(prop))

    offenders = sorted(
        name
        for name, schemas in found.items()
        for schema in schemas
        if schema.get("pattern") != UTC_TIMESTAMP_SCHEMA["pattern"]
    )
    assert offenders == []
    assert {"created_at", "starts_at", "at", "generated_at", "attempted_at"} <= {
        name for name, schemas in found.items() if schemas
    }


def test_a_webhook_message_is_stamped_in_utc() -> None:
    message = OutboxMessage(type="order.created", payload={}, created_at=vn(3, 10))

    assert json.loads(message_body(message))["timestamp"] == "2025-11-03T03:00:00Z"


async def _answers(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    clock: FakeClock,
    make_key: KeyFactory,
) -> list[tuple[str, Any]]:
    """The JSON answers of a representative tour of the API, as (what, body)."""
    admin = await make_key(Role.admin, name="tour admin")
    partner = await make_key(Role.partner, name="tour partner")
    answers: list[tuple[str, Any]] = []

    async def call(method: str, url: str, **kwargs: Any) -> Any:
        response = await client.request(method, url, headers=kwargs.pop("headers", admin), **kwargs)
        assert response.status_code < 300, (url, response.text)
        answers.append((f"{method} {url}", response.json()))
        return response.json()

    webhook = await call(
        "POST",
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/", "event_types": ["order.created"]},
    )
    products = (await call("GET", "/v1/products", params={"q": "quyt vang bac son"}))["items"]
    product = products[0]
    placing = idem(partner)
    order = await call("POST", "/v1/orders", json=order_body((product["id"], 1)), headers=placing)
    await call("POST", "/v1/orders", json=order_body((product["id"], 1)), headers=placing)
    await call("POST", f"/v1/orders/{order['id']}/cancel")
    worker = DeliveryWorker(app.state.sessionmaker, settings, clock=clock)
    try:
        await worker.run_once()
    finally:
        await worker.aclose()
    spare = await call("POST", "/v1/api-keys", json={"name": "spare", "role": "partner"})
    await call("POST", f"/v1/api-keys/{spare['id']}/revoke")
    events = (await call("GET", "/v1/events", params={"from": "2025-01-01", "limit": 100}))["items"]
    festival = next(e for e in events if e["name"] == "Lễ hội Mùa vàng Bắc Sơn 2025")
    upcoming = next(e for e in events if e["status"] == "scheduled")
    await call("POST", f"/v1/events/{upcoming['id']}/cancel")
    owner_id = product["owner_id"]
    for url, params in [
        (f"/v1/products/{product['id']}", {}),
        (f"/v1/products/{product['id']}/certificates", {}),
        ("/v1/owners", {}),
        (f"/v1/owners/{owner_id}", {}),
        (f"/v1/events/{festival['id']}", {"tz": "Europe/Paris"}),
        (f"/v1/events/{festival['id']}/products", {}),
        (f"/v1/events/{festival['id']}/products/{product['id']}", {}),
        ("/v1/orders", {}),
        (f"/v1/orders/{order['id']}", {}),
        ("/v1/api-keys", {}),
        ("/v1/webhooks", {}),
        (f"/v1/webhooks/{webhook['id']}/deliveries", {}),
        (f"/v1/reports/events/{festival['id']}/sales", {}),
        (f"/v1/reports/owners/{owner_id}/sales", {"from": "2025-01-01", "to": "2025-12-31"}),
        ("/v1/reports/catalog", {}),
    ]:
        await call("GET", url, params=params)
    return answers


async def test_every_timestamp_the_api_answers_is_utc_with_z(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    clock: FakeClock,
    make_key: KeyFactory,
) -> None:
    clock.set(NOW)
    await seed_demo_data(app, NOW)

    answers = await _answers(app, client, settings, clock, make_key)

    found = [(what, key, text) for what, body in answers for key, text in timestamps(body)]
    assert [(what, key, text) for what, key, text in found if not UTC_Z.match(text)] == []
    assert {key for _, key, _ in found} >= {
        "created_at",
        "updated_at",
        "starts_at",
        "ends_at",
        "cancelled_at",
        "at",
        "last_used_at",
        "revoked_at",
        "next_attempt_at",
        "attempted_at",
        "generated_at",
    }
    # The order's time is the request's clock (+07:00), written in UTC with its fraction.
    assert ("POST /v1/orders", "created_at", "2025-11-29T03:00:00.250000Z") in found
