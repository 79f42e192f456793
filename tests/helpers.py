"""Plain helpers and types the tests share.

Fixtures live in `conftest.py` files and the `tests/fixtures/` plugins; everything here is a
plain function, class or type, imported by name. No test module imports another test module
or a conftest.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import begin_write
from app.core.errors import Unprocessable
from app.demo.seed import seed_demo
from app.geography.service import place
from app.models import Event, Order, Product
from tests import database

# What the factory fixtures return. `insert_*` write rows straight to the database and return
# the ORM object; `create_*_via_api` go through the HTTP API (as admin) and return its JSON.
KeyFactory = Callable[..., Awaitable[dict[str, str]]]
ScopedPartnerFactory = Callable[..., Awaitable[dict[str, str]]]
OwnerFactory = Callable[..., Awaitable[dict[str, Any]]]
InsertProduct = Callable[..., Awaitable[Product]]
InsertEvent = Callable[..., Awaitable[Event]]
CreateProductViaApi = Callable[..., Awaitable[dict[str, Any]]]
CreateEventViaApi = Callable[..., Awaitable[dict[str, Any]]]
CertificateFactory = Callable[..., Awaitable[dict[str, Any]]]
CreateExperienceViaApi = Callable[..., Awaitable[dict[str, Any]]]
HoldViaApi = Callable[..., Awaitable[httpx.Response]]
BookViaApi = Callable[..., Awaitable[dict[str, Any]]]

VN = timezone(timedelta(hours=7))


class FakeClock:
    """A clock tests move by hand: no sleeps, no flakiness."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def set(self, moment: datetime) -> None:
        self.current = moment


def vn(day: int, hour: int = 0, month: int = 11, year: int = 2025) -> datetime:
    """A moment in November 2025, Vietnam time."""
    return datetime(year, month, day, hour, tzinfo=VN)


def problem(response: httpx.Response) -> dict[str, Any]:
    """The problem+json body of an error response, checked for shape."""
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    return body


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    """The rows of a CSV report answer, checked for shape: UTF-8 after a byte order mark."""
    assert response.headers["content-type"] == "text/csv; charset=utf-8", response.text
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff"), text[:20]
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def order_body(
    *items: tuple[Product | uuid.UUID | str, float | int | str], **fields: Any
) -> dict[str, Any]:
    return {
        "items": [
            {"product_id": str(p.id if isinstance(p, Product) else p), "quantity": q}
            for p, q in items
        ],
        "customer": {"name": "Nguyễn Văn An", "phone": "0912 345 678", "country": "VN"},
        **fields,
    }


def experience_body(**fields: Any) -> dict[str, Any]:
    """Booking settings: by start time (09:00 and 14:00, 40 people each, every day), 90
    minutes, no cut-off, 15-minute holds; adults 50,000 VND, children 25,000, infants free
    (no place). Any field may be replaced."""
    return {
        "booking_mode": "start_time",
        "duration_minutes": 90,
        "cutoff_minutes": 0,
        "hold_minutes": 15,
        "schedules": [{"start_times": ["09:00", "14:00"], "capacity": 40}],
        "ticket_types": [
            {
                "code": "adult",
                "name": "Người lớn",
                "price_vnd": 50_000,
                "translations": {"en": {"name": "Adult"}},
            },
            {"code": "child", "name": "Trẻ em", "price_vnd": 25_000},
            {"code": "infant", "name": "Em bé", "price_vnd": 0, "places": 0},
        ],
        **fields,
    }


def booking_body(
    product_id: uuid.UUID | str, *units: tuple[str, int], **fields: Any
) -> dict[str, Any]:
    """A hold of these units (default: one adult) on 2025-11-08 at 09:00."""
    return {
        "product_id": str(product_id),
        "date": "2025-11-08",
        "start_time": "09:00",
        "units": [{"ticket_type": code, "quantity": n} for code, n in units or [("adult", 1)]],
        **fields,
    }


CONTACT = {"name": "Nguyễn Văn An", "phone": "0912 345 678", "country": "VN", "locale": "vi"}


@dataclass(frozen=True)
class Site:
    """An experience and its staff's key (an owner key named `Cổng chính`)."""

    product_id: str
    owner_id: str
    staff: dict[str, str]


def ticket_codes(booking: dict[str, Any]) -> list[str]:
    return [ticket["code"] for ticket in booking["tickets"]]


def idem(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or uuid.uuid4().hex}


async def place_order(
    client: httpx.AsyncClient, headers: dict[str, str], *items: Any
) -> dict[str, Any]:
    """Place an order of `items` (see `order_body`) through the API; its JSON."""
    response = await client.post("/v1/orders", json=order_body(*items), headers=idem(headers))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def stock_of(db: AsyncSession, product: Product | uuid.UUID) -> Decimal | None:
    product_id = product.id if isinstance(product, Product) else product
    # Each check reads in a transaction of its own: one left open would keep an old snapshot.
    await db.rollback()
    return await db.scalar(
        select(Product.stock)
        .where(Product.id == product_id)
        .execution_options(populate_existing=True)
    )


async def seed_demo_data(app: FastAPI, now: datetime) -> None:
    """Load the demo data (what `ocop seed-demo` loads) as of `now`."""
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        await seed_demo(session, now=now)
        await session.commit()


async def order_count(db: AsyncSession) -> int:
    await db.rollback()
    return int(await db.scalar(select(func.count()).select_from(Order)) or 0)


async def until_a_session_waits_for_a_lock(app: FastAPI, timeout_s: float = 10) -> None:
    """Return once a session of the test database waits for a lock (PostgreSQL only).

    Asked in a new transaction each time: PostgreSQL keeps pg_stat_activity as it was when a
    transaction first read it."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(timeout_s):
        while True:
            async with app.state.sessionmaker() as session:
                if await session.scalar(query):
                    return
            await asyncio.sleep(0.01)


@contextmanager
def counting_statements(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def tmp_sqlite_url(tmp: Path) -> str:
    return database.sqlite_url(tmp / "ocop.db")


# OCTO: every `/octo` answer is checked against the OCTO specification's own OpenAPI
# definition, `src/openapi.yaml` of the npm package @octocloud/types (`make var/octo/openapi.yaml`
# fetches it and verifies its integrity; it is never copied into this repository).

OCTO_SPEC_PATH = Path(__file__).resolve().parent.parent / "var" / "octo" / "openapi.yaml"
OCTO_HTTP_STATUSES = frozenset({404, 405, 413, 429, 500, 503})
"""What `/octo` answers outside OCTO's operations' 200 and 400 (`app.octo.errors`)."""
_SCHEMA_KEYWORDS_WITH_DATA = ("example", "examples", "default", "enum", "const")
_COMPOSITIONS = ("allOf", "anyOf", "oneOf", "$ref")


def nullable_compositions(node: Any) -> Any:
    """An OpenAPI 3.0 schema with `nullable: true` beside `allOf`/`anyOf`/`oneOf`/`$ref` made
    to allow null, as the definition means it.

    OpenAPI 3.0.3 narrowed `nullable` to add null to the `type` of its own schema object only,
    so `{type: object, allOf: [$ref: Ticket], nullable: true}` would refuse null through the
    `allOf`: the definition's own examples (a `UnitItem` whose `ticket` is null) would be
    invalid. The definition (written in TypeSpec, `openapi: 3.0.0`) writes a nullable object
    so; its null is allowed here by `anyOf: [null, <the schema>]`. Examples and other values
    are data, left as they are."""
    if isinstance(node, list):
        return [nullable_compositions(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: value if key in _SCHEMA_KEYWORDS_WITH_DATA else nullable_compositions(value)
        for key, value in node.items()
    }
    if converted.get("nullable") is True and any(key in converted for key in _COMPOSITIONS):
        del converted["nullable"]
        return {"anyOf": [{"enum": [None]}, converted]}
    return converted


class OctoSpec:
    """OCTO's definition, ready to check answers: each against the schemas of the operation it
    answers (its status among the operation's, its required headers sent) and each error also
    against the component its code names (`INVALID_PRODUCT_ID`: `ErrorInvalidProductID`).

    Its `openapi` version chooses the schema dialect: 3.0.x the OpenAPI 3.0 one (jsonschema's
    draft 4 with `nullable`, read-only view), 3.1.x the OpenAPI 3.1 one (JSON Schema 2020-12)."""

    def __init__(self, document: dict[str, Any]) -> None:
        version = str(document["openapi"])
        if version.startswith("3.0."):
            self.validator_class: Any = OAS30ReadValidator
            self.format_checker: Any = oas30_format_checker
            self.convert: Callable[[Any], Any] = nullable_compositions
        elif version.startswith("3.1."):
            self.validator_class, self.format_checker = OAS31Validator, oas31_format_checker
            self.convert = lambda schema: schema
        else:
            raise AssertionError(f"OCTO's definition is OpenAPI {version}: neither 3.0 nor 3.1")
        self.version = version
        self.document = document
        self.components = self.convert(document["components"])
        self.error_components: dict[str, str] = {
            name.removeprefix("Error").lower(): name
            for name in document["components"]["schemas"]
            if name.startswith("Error")
        }

    @classmethod
    def load(cls, path: Path = OCTO_SPEC_PATH) -> OctoSpec:
        if not path.exists():
            raise AssertionError(
                f"{path} is missing: run `make {path.relative_to(path.parents[2])}`"
            )
        document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(document)

    def errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        """What is wrong with `instance` against `schema` (whose `$ref`s name the definition's
        components), one line per problem."""
        root = {**self.convert(schema), "components": self.components}
        validator = self.validator_class(root, format_checker=self.format_checker)
        return [
            f"/{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(instance)
        ]

    def component_errors(self, name: str, instance: Any) -> list[str]:
        assert name in self.document["components"]["schemas"], f"no component {name}"
        return self.errors({"$ref": f"#/components/schemas/{name}"}, instance)

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        """The operation of the definition that `method path` (below `/octo`) calls."""
        parts = [part for part in path.split("/") if part]
        for template, item in self.document["paths"].items():
            pattern = [part for part in template.split("/") if part]
            if (
                len(pattern) == len(parts)
                and method.lower() in item
                and all(a == b or a.startswith("{") for a, b in zip(pattern, parts, strict=True))
            ):
                operation: dict[str, Any] = item[method.lower()]
                return operation
        return None

    def error_component(self, code: str) -> str:
        """The component an error code is the body of: `INVALID_BOOKING_UUID` ->
        `ErrorInvalidBookingUUID` (OCTO names them alike)."""
        name = self.error_components.get(code.replace("_", "").lower())
        assert name is not None, f"{code} is none of OCTO's error codes"
        return name

    def check(self, response: httpx.Response) -> None:
        """Assert that an answer under `/octo` is one the definition allows (see the class)."""
        request = response.request
        path = request.url.path.removeprefix("/octo")
        where = f"{request.method} {request.url.path} -> {response.status_code}"
        body = response.json()
        problems: list[str] = []
        if response.status_code >= 400:
            assert isinstance(body, dict), f"{where}: {body!r}"
            problems += self.component_errors(self.error_component(str(body.get("error"))), body)
        operation = self.operation(request.method, path)
        if operation is None or response.status_code in OCTO_HTTP_STATUSES:
            # Not an answer of an operation (no such path or method, a limit, a fault): its
            # status is HTTP's, its body OCTO's error still.
            assert operation is None or response.status_code in OCTO_HTTP_STATUSES, where
            assert response.status_code >= 400, where
            assert not problems, f"{where}: {problems}"
            return
        declared = operation["responses"].get(str(response.status_code))
        assert declared is not None, f"{where}: not an answer the definition gives"
        for name, header in (declared.get("headers") or {}).items():
            if header.get("required"):
                assert name in response.headers, f"{where}: no {name} header"
        schema = declared["content"]["application/json"]["schema"]
        problems += self.errors(schema, body)
        assert not problems, f"{where}: " + "; ".join(problems)

    def check_request(self, request: httpx.Request) -> None:
        """Assert that a request's JSON body is one the definition allows."""
        operation = self.operation(request.method, request.url.path.removeprefix("/octo"))
        assert operation is not None, f"{request.method} {request.url.path}: not an OCTO operation"
        body = operation.get("requestBody")
        if body is None or not request.content:
            return
        schema = body["content"]["application/json"]["schema"]
        problems = self.errors(schema, json.loads(request.content))
        assert not problems, f"{request.method} {request.url.path}: " + "; ".join(problems)


# Change feeds (`updated_since`; app.core.changes).

EPOCH = "1970-01-01T00:00:00Z"
"""Where a mirror's first read of a change feed starts: before every change."""
QUICK_FEED = {"feed_settle_s": 0.01, "feed_commit_deadline_s": None}
"""Settings for tests that write, then read a change feed, one step at a time: a change settles
at once, and there is no commit deadline (tests/core/test_changes.py tests both)."""


async def settle(app: FastAPI) -> None:
    """Wait until every change made so far is old enough for the change feeds to serve."""
    await asyncio.sleep(app.state.settings.feed_settle_s)


async def read_feed(
    client: httpx.AsyncClient,
    path: str,
    cursor: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    limit: int = 100,
    **params: str,
) -> tuple[list[dict[str, Any]], str]:
    """Every change a feed serves now, from `cursor` (else from the start): the items in the
    order served, and the cursor to poll with next (a feed always gives one)."""
    items: list[dict[str, Any]] = []
    query: dict[str, str | int] = {"cursor": cursor} if cursor else {"updated_since": EPOCH}
    while True:
        response = await client.get(
            path, params={**query, **params, "limit": limit}, headers=headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["next_cursor"] is not None
        items.extend(page["items"])
        if len(page["items"]) < limit:
            return items, page["next_cursor"]
        query = {"cursor": page["next_cursor"]}


async def read_list(
    client: httpx.AsyncClient, path: str, *, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every item of a (plain) list, page after page."""
    items: list[dict[str, Any]] = []
    query: dict[str, str | int] = {"limit": 100}
    while True:
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["next_cursor"] is None:
            return items
        query = {"limit": 100, "cursor": page["next_cursor"]}


def ocop(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the `ocop` command on this database, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "OCOP_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def place_columns(session: AsyncSession, commune: str, province: str) -> dict[str, Any]:
    """Where a row written straight to the database is, as the API stores it
    (`app.geography.service.Placed`); a commune that names none, or several, leaves the row as
    one written before codes existed: its free text, no code."""
    try:
        return (await place(session, commune, province)).columns()
    except Unprocessable:
        return {}
