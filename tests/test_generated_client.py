"""A client generated from the live OpenAPI document, used as generated (never edited), against
a real server with the demo data.

openapi-python-client (pinned in the dev dependencies, run offline, its ruff hooks from this
environment) writes the client once for the module, with the settings integrators are told to
use (`examples/openapi-python-client.yaml`); any warning fails the suite, as do answers that do
not parse into the generated models (the client then returns None or a bare dict).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.models.api_key import Role
from tests import database
from tests.servers import api_server, issue_key, seed_demo

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "openapi-python-client.yaml"
PACKAGE = "ocop_api_client"  # the config's package_name_override
FESTIVAL = "Lễ hội Mùa vàng Bắc Sơn 2025"  # a demo event, with coordinates and sales
FEED_SETTLE_S = 3.0
QUICK_FEED = {"OCOP_FEED_SETTLE_S": str(FEED_SETTLE_S), "OCOP_FEED_COMMIT_DEADLINE_S": "2.5"}
"""Changes settle in seconds rather than the default 15 (and commits must be as quick)."""


@dataclass(frozen=True)
class Generation:
    returncode: int
    output: list[str]
    package: Path


@dataclass(frozen=True)
class Live:
    """The server, its keys, and the client generated from its document."""

    url: str
    admin_token: str
    partner_token: str
    generation: Generation

    def raw(self, path: str, token: str | None = None, **params: Any) -> Any:
        """The same read, straight over HTTP: what the generated client must agree with."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.get(self.url + path, params=params, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    # The generated clients, each to use in a `with` block (which closes its connections).
    def anonymous(self) -> Any:
        return generated("client").Client(base_url=self.url)

    def as_admin(self) -> Any:
        return generated("client").AuthenticatedClient(base_url=self.url, token=self.admin_token)

    def as_partner(self) -> Any:
        return generated("client").AuthenticatedClient(base_url=self.url, token=self.partner_token)


def generated(module: str) -> Any:
    """A module of the generated client package, e.g. `api.products.list_products`."""
    return importlib.import_module(f"{PACKAGE}.{module}")


@contextmanager
def own_database(tmp: Path) -> Iterator[str]:
    """A database for this module alone (the suite's is emptied after every test)."""
    if database.IS_POSTGRES:
        with database.temporary_database() as url:
            yield url
    else:
        yield database.sqlite_url(tmp / "client.db")


def generate(document: Path, output: Path) -> Generation:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(output),
            "--meta",
            "none",
            "--config",
            str(CONFIG),
            "--fail-on-warning",
        ],
        cwd=output.parent,
        # Its post-hooks (ruff) from this environment: no download, no network.
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output_lines = (result.stdout + result.stderr).strip().splitlines()
    return Generation(result.returncode, output_lines, output)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("generated-client")
    with own_database(tmp) as url:
        database.migrate(url)
        seed_demo(url)
        admin, partner = issue_key(url, Role.admin), issue_key(url, Role.partner)
        with api_server(url, **QUICK_FEED) as server:
            document = tmp / "openapi.json"
            document.write_bytes(httpx.get(f"{server.url}/openapi.json", timeout=30).content)
            generation = generate(document, tmp / PACKAGE)
            sys.path.insert(0, str(tmp))
            try:
                yield Live(server.url, admin, partner, generation)
            finally:
                sys.path.remove(str(tmp))
                for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
                    del sys.modules[name]


def test_the_client_is_generated_without_a_warning(live: Live) -> None:
    assert live.generation.returncode == 0
    assert live.generation.output == [f"Generating {live.generation.package}"]


def test_lists_and_filters_products_as_typed_models(live: Live) -> None:
    models, list_products = generated("models"), generated("api.products.list_products")

    with live.anonymous() as client:
        page = list_products.sync(client=client, q="bac son", group=models.ProductGroup.FOOD)

    raw = live.raw("/v1/products", q="bac son", group="food")
    assert isinstance(page, models.ProductPage)
    assert [str(product.id) for product in page.items] == [p["id"] for p in raw["items"]]
    assert [type(product) for product in page.items] == [models.ProductRead] * len(raw["items"])
    mandarin = next(product for product in page.items if product.name == "Quýt vàng Bắc Sơn")
    assert isinstance(mandarin.owner, models.OwnerRef)
    assert mandarin.group is models.ProductGroup.FOOD


def test_reads_certificates(live: Live) -> None:
    models, list_certificates = generated("models"), generated("api.certificates.list_certificates")
    product = live.raw("/v1/products", q="Quýt vàng Bắc Sơn")["items"][0]

    with live.anonymous() as client:
        page = list_certificates.sync(product_id=uuid.UUID(product["id"]), client=client)

    raw = live.raw(f"/v1/products/{product['id']}/certificates")
    assert isinstance(page, models.CertificatePage)
    assert [(str(c.id), c.stars) for c in page.items] == [
        (c["id"], c["stars"]) for c in raw["items"]
    ]
    assert [type(c) for c in page.items] == [models.CertificateRead] * len(raw["items"]) != []


def test_finds_events_near_a_point(live: Live) -> None:
    models, list_events = generated("models"), generated("api.events.list_events")

    with live.anonymous() as client:
        page = list_events.sync(client=client, near="21.9,106.32", radius_km=5)

    raw = live.raw("/v1/events", near="21.9,106.32", radius_km=5)
    assert isinstance(page, models.EventPage)
    assert [str(event.id) for event in page.items] == [e["id"] for e in raw["items"]]
    assert [type(event) for event in page.items] == [models.EventRead] * len(raw["items"])
    assert FESTIVAL in [event.name for event in page.items]


def order(live: Live) -> Any:
    """An order of one unit step of the demo's golden mandarins, as the generated models make it."""
    models = generated("models")
    product = live.raw("/v1/products", q="Quýt vàng Bắc Sơn")["items"][0]
    return models.OrderCreate(
        items=[
            models.OrderItem(product_id=uuid.UUID(product["id"]), quantity=product["unit_step"])
        ],
        customer=models.Customer(name="Nguyễn Thị Hoa", phone="+84 912 345 678", country="VN"),
    )


def test_places_an_order_with_an_idempotency_key(live: Live) -> None:
    models, place_order = generated("models"), generated("api.orders.place_order")
    body, key = order(live), str(uuid.uuid4())

    with live.as_partner() as partner:
        first = place_order.sync_detailed(client=partner, body=body, idempotency_key=key)
        again = place_order.sync_detailed(client=partner, body=body, idempotency_key=key)

    assert first.status_code == again.status_code == 201
    assert isinstance(first.parsed, models.OrderRead)
    assert first.parsed.status is models.OrderStatus.PENDING
    assert again.parsed.id == first.parsed.id  # replayed, not placed twice


def test_cancels_an_order(live: Live) -> None:
    models, place_order = generated("models"), generated("api.orders.place_order")
    with live.as_partner() as partner:
        placed = place_order.sync(
            client=partner, body=order(live), idempotency_key=str(uuid.uuid4())
        )

        cancelled = generated("api.orders.cancel_order").sync(order_id=placed.id, client=partner)

    assert isinstance(cancelled, models.OrderRead)
    assert (cancelled.id, cancelled.status) == (placed.id, models.OrderStatus.CANCELLED)


def test_follows_a_change_feed(live: Live) -> None:
    models, list_products = generated("models"), generated("api.products.list_products")
    archive = generated("api.products.archive_product")

    def follow(client: Any, **start: Any) -> tuple[list[Any], str]:
        """Every change the feed serves now, page after page: the products and the cursor."""
        products: list[Any] = []
        while True:
            page = list_products.sync(client=client, limit=20, **start)
            assert isinstance(page, models.ProductPage)
            products.extend(page.items)
            assert isinstance(page.next_cursor, str)  # a feed always gives one
            if len(page.items) < 20:
                return products, page.next_cursor
            start = {"cursor": page.next_cursor}

    time.sleep(FEED_SETTLE_S)  # what the other tests changed is served now, in the first read
    listed = live.raw("/v1/products", limit=100)["items"]  # every demo product is active
    with live.anonymous() as client:
        mirror, cursor = follow(client, updated_since=datetime(1970, 1, 1, tzinfo=UTC))
        with live.as_admin() as admin:
            archived = archive.sync(product_id=mirror[0].id, client=admin)
        time.sleep(FEED_SETTLE_S)
        changes, _cursor = follow(client, cursor=cursor)

    assert sorted(str(p.id) for p in mirror) == sorted(p["id"] for p in listed)
    assert isinstance(archived, models.ProductRead)
    assert [(p.id, p.status, p.updated_at) for p in changes] == [
        (archived.id, models.ProductStatus.ARCHIVED, archived.updated_at)
    ]


def test_reads_a_sales_report(live: Live) -> None:
    models, event_sales = generated("models"), generated("api.reports.event_sales")
    festival = live.raw("/v1/events", q=FESTIVAL)["items"][0]

    with live.as_admin() as admin:
        report = event_sales.sync(event_id=uuid.UUID(festival["id"]), client=admin)

    raw = live.raw(f"/v1/reports/events/{festival['id']}/sales", token=live.admin_token)
    assert isinstance(report, models.EventSalesReport)
    assert (report.orders, report.revenue_vnd) == (raw["orders"], raw["revenue_vnd"])
    assert (
        [type(line) for line in report.by_product]
        == [models.ProductSales] * len(raw["by_product"])
        != []
    )
