"""Schemathesis against the app's own OpenAPI document, over real HTTP, with the demo data.

The database holds the demo data (`ocop seed-demo`) and a little of what the demo lacks: orders
still open (placed through the API by the partner key), webhook endpoints for each key and their
deliveries. Schemathesis then runs once per role with every check on (no 5xx; status codes,
content types, headers and bodies as documented; auth enforced): an owner key bound to a demo
owner, a partner key, and last an admin key (its writes change the most). Ids in paths, filters
and bodies are mostly drawn from the real rows (Schemathesis dictionaries), so that requests
reach them instead of stopping at 404; the others are generated as usual.

OCOP_FUZZ_EXAMPLES sets the examples per operation and role, OCOP_FUZZ_PHASES the phases: few
examples and no coverage phase by default, to keep the suite near a minute; `make fuzz` runs
every phase with 200. Settings, and the exceptions each with its reason: tests/schemathesis.toml.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Executable, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys import service as keys
from app.core.config import Environment, Settings
from app.core.db import create_engine, create_sessionmaker
from app.demo import data
from app.demo.orders import DEMO_NOTE
from app.models.api_key import ApiKey, Role
from app.models.event import Event, EventProduct
from app.models.order import Order, OrderLine
from app.models.owner import Owner
from app.models.product import Product, ProductStatus
from app.models.webhook import WebhookDelivery, WebhookEndpoint
from app.webhooks.worker import DeliveryWorker
from tests.helpers import idem, order_body
from tests.servers import Server, api_server, seed_demo

TESTS = Path(__file__).resolve().parent
MAX_EXAMPLES = int(os.environ.get("OCOP_FUZZ_EXAMPLES", "5"))
# The coverage phase (some 3,000 boundary and malformed requests per role, whatever the number
# of examples) is left to `make fuzz`: with it the suite's run would take minutes.
PHASES = os.environ.get("OCOP_FUZZ_PHASES", "examples,fuzzing,stateful")
SEED = "20251103"
# How often an id takes a real value rather than a generated one.
REAL_ID_PROBABILITY = 0.8
# The owner whose key is fuzzed: the demo's busiest (products, orders, event entries, reports).
OWNER_NAME = data.NGOC_QUE.name
# Where the test webhooks point: nothing listens there, and no worker sends anything anyway.
WEBHOOK_URL = "http://127.0.0.1:9/ocop-fuzz"
# The order transitions; each gets open orders of its own (one would use up the others').
TRANSITIONS = ("confirm", "fulfil", "cancel")

# Which dictionary feeds which parameter (`location.name`; `[*]`: each item of a list).
BINDINGS = {
    "path.owner_id": "owners",
    "path.product_id": "products",
    "path.event_id": "events",
    "path.order_id": "orders",
    "path.number": "order_numbers",
    "path.webhook_id": "webhooks",
    "path.delivery_id": "deliveries",
    "path.key_id": "keys",
    "query.owner_id": "owners",
    "query.event_id": "events",
    "body.owner_id": "owners",
    "body.product_id": "products",
    "body.event_id": "events",
    "body.items[*].product_id": "products",
    "body.items[*].quantity": "quantities",
}
# Operations that draw an id from a dictionary of their own, so that what one operation uses up
# (cancels, deletes) is not what the others need.
_ENTRY = {"path.event_id": "entry_event", "path.product_id": "entry_products"}
OPERATION_BINDINGS = {
    # An event's entry is an (event, product) pair: both ids come from one open event's entries,
    # so that most pairs exist. (DELETE draws from all events and products: entries stay.)
    "GET /v1/events/{event_id}/products/{product_id}": _ENTRY,
    "PATCH /v1/events/{event_id}/products/{product_id}": _ENTRY,
    # Every event but that one.
    "POST /v1/events/{event_id}/cancel": {"path.event_id": "events_to_cancel"},
    **{
        f"POST /v1/orders/{{order_id}}/{transition}": {"path.order_id": f"orders_to_{transition}"}
        for transition in TRANSITIONS
    },
    "DELETE /v1/webhooks/{webhook_id}": {"path.webhook_id": "spare_webhooks"},
}
# Values that are not ids: whole quantities fit most products' unit_step, so that some of the
# orders generated are placed (and change stock, and emit events) instead of all answering 422.
CONSTANTS: dict[str, list[int]] = {"quantities": [1, 2]}


@dataclass
class Fuzzer:
    """One Schemathesis run: a key, and the real ids worth trying with it."""

    role: Role
    key_id: uuid.UUID
    token: str
    ids: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    numbers: list[str] = field(default_factory=list)
    """The numbers of its `orders`."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _some(ids: Iterable[uuid.UUID], n: int) -> list[uuid.UUID]:
    return sorted(ids)[:n]


async def _all(session: AsyncSession, statement: Executable) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await session.execute(statement)]


async def _open_orders(
    server: Server, fuzzers: list[Fuzzer], to_order: list[tuple[uuid.UUID, Decimal]]
) -> dict[tuple[Role, str], list[uuid.UUID]]:
    """For each fuzzer and transition, an order of each product in `to_order`, placed by the
    partner: pending, or confirmed (by the admin) for those to fulfil. Also two webhook
    endpoints per key: one to use, one to delete."""
    _owner, partner, admin = fuzzers
    orders: dict[tuple[Role, str], list[uuid.UUID]] = {}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for fuzzer in fuzzers:
            catalogue = await http.get("/v1/webhooks/event-types", headers=fuzzer.headers)
            audible = [t["type"] for t in catalogue.json()["items"] if t["subscribable"]]
            for _used_and_spare in range(2):
                response = await http.post(
                    "/v1/webhooks",
                    json={"url": WEBHOOK_URL, "event_types": audible},
                    headers=fuzzer.headers,
                )
                assert response.status_code == 201, response.text
            for transition in TRANSITIONS:
                placed = orders[fuzzer.role, transition] = []
                for product_id, step in to_order:
                    response = await http.post(
                        "/v1/orders",
                        json=order_body((product_id, float(step))),
                        headers=idem(partner.headers),
                    )
                    assert response.status_code == 201, response.text
                    placed.append(uuid.UUID(response.json()["id"]))
                    if transition == "fulfil":
                        confirmed = await http.post(
                            f"/v1/orders/{placed[-1]}/confirm", headers=admin.headers
                        )
                        assert confirmed.status_code == 200, confirmed.text
    return orders


async def prepare(database_url: str, server: Server) -> list[Fuzzer]:
    """Keys, webhooks and open orders beside the demo data; a Fuzzer per role, in the order
    they run."""
    settings = Settings(
        environment=Environment.test, database_url=database_url, webhooks_allow_private=True
    )
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine, writer=True)
    try:
        async with sessions() as session:
            owner_id = await session.scalar(select(Owner.id).where(Owner.name == OWNER_NAME))
            assert owner_id is not None
            fuzzers = []
            for role in (Role.owner, Role.partner, Role.admin):
                key, token = await keys.create_key(
                    session,
                    name=f"fuzz {role}",
                    role=role,
                    owner_id=owner_id if role is Role.owner else None,
                )
                fuzzers.append(Fuzzer(role, key.id, token))
            # The partner key is granted every other event: it may link those events' ids and
            # read their sales, not the others'.
            partner_key = fuzzers[1].key_id
            for event_id in (await session.scalars(select(Event.id).order_by(Event.id))).all()[::2]:
                await keys.grant_event(
                    session, partner_key, event_id, granted_by=None, now=datetime.now(UTC)
                )
            await session.commit()
            active = (
                await session.execute(
                    select(Product.id, Product.owner_id, Product.unit_step)
                    .where(Product.status == ProductStatus.active)
                    .order_by(Product.sort_name)
                )
            ).all()
        # The owner's products, and one of another owner's (an order the owner may not change).
        to_order = [(p, step) for p, o, step in active if o == owner_id]
        to_order += [(p, step) for p, o, step in active if o != owner_id][:1]
        open_orders = await _open_orders(server, fuzzers, to_order)

        # Deliveries for the webhooks (of the orders' events); nothing is sent.
        worker = DeliveryWorker(sessions, settings)
        try:
            await worker.dispatch()
        finally:
            await worker.aclose()

        async with sessions() as session:
            owners = set((await session.scalars(select(Owner.id))).all())
            products = await _all(session, select(Product.id, Product.owner_id))
            events = set((await session.scalars(select(Event.id))).all())
            demo_orders = set(
                (await session.scalars(select(Order.id).where(Order.note == DEMO_NOTE))).all()
            )
            with_own_products = set(
                (
                    await session.scalars(
                        select(OrderLine.order_id).where(OrderLine.owner_id == owner_id)
                    )
                ).all()
            )
            endpoints = await _all(
                session,
                select(WebhookEndpoint.id, WebhookEndpoint.api_key_id).order_by(
                    WebhookEndpoint.created_at
                ),
            )
            deliveries = await _all(
                session,
                select(WebhookDelivery.id, WebhookEndpoint.api_key_id).join(
                    WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id
                ),
            )
            # The entries of the events still open (a past event's entries can no longer change).
            entries = await _all(
                session,
                select(EventProduct.event_id, EventProduct.product_id, Product.owner_id)
                .join(Product, Product.id == EventProduct.product_id)
                .join(Event, Event.id == EventProduct.event_id)
                .where(Event.ends_at > datetime.now(UTC), Event.cancelled_at.is_(None)),
            )
            all_keys = set((await session.scalars(select(ApiKey.id))).all())
            numbers = dict(await _all(session, select(Order.id, Order.number)))
    finally:
        await engine.dispose()

    owner, partner, _admin = fuzzers
    all_products = {p for p, _ in products}
    own_products = {p for p, o in products if o == owner_id}
    for fuzzer in fuzzers:
        webhooks = [e for e, key in endpoints if key == fuzzer.key_id]
        # The open event with the most entries this key may change, and those entries' products.
        mine = [(e, p) for e, p, o in entries if fuzzer is not owner or o == owner_id]
        assert mine, f"the demo has no open event with a product the {fuzzer.role} key may change"
        [(entry_event, _count)] = Counter(e for e, _ in sorted(mine)).most_common(1)
        to_transition = {t: open_orders[fuzzer.role, t] for t in TRANSITIONS}
        fuzzer.ids = {
            "owners": sorted(owners),
            "products": sorted(all_products),
            "events": sorted(events),
            "entry_event": [entry_event],
            "entry_products": sorted(p for e, p in mine if e == entry_event),
            "events_to_cancel": sorted(events - {entry_event}),
            "orders": [o for placed in to_transition.values() for o in placed]
            + _some(demo_orders, 5),
            **{f"orders_to_{t}": placed for t, placed in to_transition.items()},
            # Its own webhook and deliveries, and one of another key's.
            "webhooks": webhooks[:1] + _some((e for e, k in endpoints if k != fuzzer.key_id), 1),
            "spare_webhooks": webhooks[1:],
            "deliveries": sorted(d for d, key in deliveries if key == fuzzer.key_id)
            + _some((d for d, key in deliveries if key != fuzzer.key_id), 1),
            # Never the fuzzer's own key: revoking it would end its run.
            "keys": sorted(all_keys - {fuzzer.key_id}),
        }
    # The owner's key mostly meets its own rows, and a few of others' (which it may not touch).
    owner.ids["owners"] = [owner_id, *_some(owners - {owner_id}, 1)]
    owner.ids["products"] = sorted(own_products) + _some(all_products - own_products, 2)
    owner.ids["orders"] += _some(demo_orders & with_own_products, 3)
    # The partner's: its own orders, and a demo order (placed by another key).
    partner.ids["orders"] = [o for t in TRANSITIONS for o in open_orders[Role.partner, t]]
    partner.ids["orders"] += _some(demo_orders, 1)
    for fuzzer in fuzzers:
        fuzzer.numbers = [numbers[o] for o in fuzzer.ids["orders"]]
    return fuzzers


def config_for(fuzzer: Fuzzer) -> str:
    """tests/schemathesis.toml, plus the fuzzer's real ids (and CONSTANTS) as dictionaries."""
    lines = [(TESTS / "schemathesis.toml").read_text(encoding="utf-8"), ""]
    lines.append(f"# Real ids for the {fuzzer.role} key, written by tests/test_openapi_fuzz.py.")
    bound: dict[str, list[str] | list[int]] = {
        name: [str(i) for i in ids] for name, ids in fuzzer.ids.items() if ids
    }
    bound["order_numbers"] = fuzzer.numbers
    bound.update(CONSTANTS)
    for name, values in bound.items():
        lines.append(f"[dictionaries.{name}]")
        lines.append(f"values = {json.dumps(values)}")

    def binding(parameter: str, name: str) -> str:
        return f'"{parameter}" = {{ dictionary = "{name}", probability = {REAL_ID_PROBABILITY} }}'

    lines.append("[parameters]")
    lines.extend(binding(p, name) for p, name in BINDINGS.items() if name in bound)
    for operation, bindings in OPERATION_BINDINGS.items():
        if all(name in bound for name in bindings.values()):
            lines.append("[[operations]]")
            lines.append(f'include-name = "{operation}"')
            pairs = ", ".join(binding(p, name) for p, name in bindings.items())
            lines.append(f"parameters = {{ {pairs} }}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Run:
    role: Role
    returncode: int
    seconds: float
    output: str

    @property
    def summary(self) -> str:
        """Schemathesis's own figures (operations, phases, failures, test cases)."""
        found = re.search(r"^=+ SUMMARY =+$.*", self.output, re.MULTILINE | re.DOTALL)
        return found.group(0) if found else self.output[-3000:]


def fuzz(server: Server, fuzzer: Fuzzer, work: Path) -> Run:
    work.mkdir()
    config = work / "schemathesis.toml"
    config.write_text(config_for(fuzzer), encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "--no-color",
            "run",
            f"{server.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {fuzzer.token}",
            "--phases",
            PHASES,
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            SEED,
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--report-dir",
            str(work),
        ],
        cwd=work,  # its crash cache stays out of the project
        capture_output=True,
        text=True,
        timeout=3 * 3600,
        check=False,
    )
    output = result.stdout + result.stderr
    return Run(fuzzer.role, result.returncode, time.monotonic() - started, output)


@pytest.mark.slow
def test_schemathesis_finds_no_failure(database_url: str, tmp_path: Path) -> None:
    seed_demo(database_url)
    with api_server(database_url) as server:
        fuzzers = asyncio.run(prepare(database_url, server))
        runs = [fuzz(server, fuzzer, tmp_path / str(fuzzer.role)) for fuzzer in fuzzers]
    for run in runs:  # shown with `pytest -s`, as `make fuzz` runs it
        sys.stdout.write(
            f"\n--- {run.role} key: {run.seconds:.0f} s, {MAX_EXAMPLES} examples per operation,"
            f" phases {PHASES}\n{run.summary}\n"
        )
    failed = [run for run in runs if run.returncode != 0]
    assert not failed, "\n\n".join(
        f"===== {run.role} key =====\n{run.output[-25000:]}" for run in failed
    )
