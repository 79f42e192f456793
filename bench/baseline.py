"""The baseline: the least a Python service can spend on two of ocop-api's hot paths.

A pure ASGI app (no framework) on uvicorn, with asyncpg and orjson, that runs ocop-api's own
SQL on the same PostgreSQL database and answers the same JSON:

- `GET /v1/products?limit=20`: the catalogue's first page, the very statement the API runs
  (the page with owners joined, the stored stars, and each product's external references as a
  JSON array), rendered byte for byte as the API renders them.
- `POST /v1/orders`: the statements the API's order path runs (the key looked up by its
  prefix with its event grants, the idempotency claim, the products, the order, its lines and
  status change, the `order.created` outbox message, the conditional stock UPDATE, the
  idempotency record completed), in one transaction, with the same stock rules: unknown product
  422, archived 409, off the unit step 422, short stock 409 (read first, then `UPDATE ...
  WHERE stock >= q`).

    OCOP_DATABASE_URL=postgresql://... .venv/bin/python -m uvicorn bench.baseline:app

What it leaves out (so the comparison flatters the baseline, never the API): rate limiting and
its headers, request ids, Accept-Language, query parameters other than `limit`, `If-None-Match`,
replaying an idempotent answer, event orders (the benchmark's orders are online ones, so the
API runs neither their event reads nor the upsert of the event's sales sums), the `stock.low`
webhook, the first-use `last_used_at` stamp of a key, and error bodies beyond status, code and
title.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson

ZONE = ZoneInfo(os.environ.get("OCOP_TIMEZONE", "Asia/Ho_Chi_Minh"))
MILLI = 1000
"""Quantities and stock are stored in thousandths of a unit (BIGINT)."""
STARS_SHOWN_FROM = 3
LIST_ORDERING = "newest"
IDEMPOTENCY_LOCK = timedelta(seconds=60)
_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# ocop-api's statements, as SQLAlchemy compiles them for asyncpg (`bench/compare.py` checks
# that the API still runs exactly these).
LIST_PAGE = """SELECT products.id, products.owner_id, owners.name, products.name AS name_1, products.description, products.translations, products."group", products.subgroup, products.unit, products.unit_step, products.price_vnd, products.stock, products.commune, products.commune_code, products.commune_name, products.province, products.province_code, products.latitude, products.longitude, products.status, products.images, products.created_at, products.updated_at, CASE WHEN (products.stars_from <= $1::DATE AND products.stars_until >= $1::DATE) THEN products.stars ELSE (SELECT CASE WHEN (certificates.stars >= $2::SMALLINT) THEN certificates.stars END AS anon_1 
FROM certificates 
WHERE certificates.product_id = products.id AND certificates.issued_on <= $1::DATE AND certificates.valid_until >= $1::DATE ORDER BY certificates.issued_on DESC, certificates.created_at DESC 
 LIMIT $3::INTEGER) END AS stars, (SELECT json_agg(json_build_array(product_external_refs.system, product_external_refs.external_id) ORDER BY product_external_refs.system, product_external_refs.external_id) AS json_tuples_1 
FROM product_external_refs 
WHERE product_external_refs.product_id = products.id) AS refs, page.created_at AS created_at_1, page.id AS id_1 
FROM products JOIN owners ON owners.id = products.owner_id JOIN (SELECT products.id AS chosen_id, products.created_at AS created_at, products.id AS id 
FROM products 
WHERE products.status = $4 ORDER BY products.created_at DESC, products.id DESC 
 LIMIT $5::INTEGER) AS page ON products.id = page.chosen_id ORDER BY page.created_at DESC, page.id DESC"""  # noqa: E501, W291
KEY = """SELECT api_keys.id, api_keys.role, api_keys.owner_id, api_keys.secret_hash, api_keys.last_used_at, api_keys.revoked_at, api_key_event_grants.event_id 
FROM api_keys LEFT OUTER JOIN api_key_event_grants ON api_key_event_grants.api_key_id = api_keys.id 
WHERE api_keys.prefix = $1::VARCHAR"""  # noqa: E501, W291
CLAIM = """INSERT INTO idempotency_records (id, api_key_id, key, request_hash, status, claim_token, locked_until, created_at) VALUES ($1::UUID, $2::UUID, $3::VARCHAR, $4::VARCHAR, $5, $6::UUID, $7::TIMESTAMP WITH TIME ZONE, $8::TIMESTAMP WITH TIME ZONE) ON CONFLICT (api_key_id, key) DO NOTHING RETURNING idempotency_records.id"""  # noqa: E501
PRODUCTS = """SELECT products.id, products.owner_id, products.name, products.unit, products.unit_step, products.price_vnd, products.stock, products.status 
FROM products 
WHERE products.id IN ({ids})"""  # noqa: E501, W291
ORDER = """INSERT INTO orders (number, status, channel, event_id, placed_by_key_id, customer_name, customer_phone, customer_email, customer_country, note, reference, metadata, total_vnd, id, created_at, updated_at) VALUES ($1::VARCHAR, $2, $3, $4::UUID, $5::UUID, $6::VARCHAR, $7::VARCHAR, $8::VARCHAR, $9::VARCHAR, $10::VARCHAR, $11::VARCHAR, $12::JSONB, $13::BIGINT, $14::UUID, $15::TIMESTAMP WITH TIME ZONE, $16::TIMESTAMP WITH TIME ZONE) ON CONFLICT (reference, placed_by_key_id) DO NOTHING RETURNING orders.id"""  # noqa: E501
LINE = """INSERT INTO order_lines (id, order_id, position, product_id, owner_id, product_name, unit, quantity, stock_taken, unit_price_vnd, line_total_vnd) VALUES ($1::UUID, $2::UUID, $3::SMALLINT, $4::UUID, $5::UUID, $6::VARCHAR, $7, $8::BIGINT, $9::BIGINT, $10::BIGINT, $11::BIGINT)"""  # noqa: E501
CHANGE = """INSERT INTO order_status_changes (id, order_id, from_status, to_status, at, by_key_id) VALUES ($1::UUID, $2::UUID, $3, $4, $5::TIMESTAMP WITH TIME ZONE, $6::UUID)"""  # noqa: E501
OUTBOX = """INSERT INTO outbox_messages (id, type, payload, owner_ids, partner_key_id, event_id, created_at, dispatched_at) VALUES ($1::UUID, $2::VARCHAR, $3::JSONB, $4::JSONB, $5::UUID, $6::UUID, $7::TIMESTAMP WITH TIME ZONE, $8::TIMESTAMP WITH TIME ZONE)"""  # noqa: E501
TAKE = """UPDATE products SET stock=(products.stock - $1::BIGINT), updated_at=$2::TIMESTAMP WITH TIME ZONE WHERE products.id = $3::UUID AND products.status = $4 AND products.stock >= $1::BIGINT RETURNING products.stock"""  # noqa: E501
COMPLETE = """UPDATE idempotency_records SET status=$1, response_status=$2::SMALLINT, response_headers=$3::JSONB, response_body=$4::VARCHAR, completed_at=$5::TIMESTAMP WITH TIME ZONE WHERE idempotency_records.id = $6::UUID AND idempotency_records.claim_token = $7::UUID AND idempotency_records.status = $8 RETURNING idempotency_records.id"""  # noqa: E501


def in_list(count: int, first: int = 1) -> str:
    return ", ".join(f"${i}::UUID" for i in range(first, first + count))


def number(milli: int) -> int | float:
    """A stored quantity as the API renders it: an integer when whole, else a float."""
    return milli // MILLI if milli % MILLI == 0 else milli / MILLI


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


class Problem(Exception):
    def __init__(self, status: int, code: str, title: str) -> None:
        self.status, self.code, self.title = status, code, title


def product_item(row: asyncpg.Record) -> dict[str, Any]:
    refs = orjson.loads(row["refs"] or "[]")
    return {
        "id": str(row["id"]),
        "owner_id": str(row["owner_id"]),
        "owner": {"id": str(row["owner_id"]), "name": row["name"]},
        "name": row["name_1"],
        "description": row["description"],
        "language": "vi",
        "description_language": None if row["description"] is None else "vi",
        "translations": orjson.loads(row["translations"]),
        "group": row["group"],
        "subgroup": row["subgroup"],
        "unit": row["unit"],
        "unit_step": number(row["unit_step"]),
        "price_vnd": row["price_vnd"],
        "stock": None if row["stock"] is None else number(row["stock"]),
        "commune": row["commune"],
        "commune_code": row["commune_code"],
        "commune_name": row["commune_name"],
        "province": row["province"],
        "province_code": row["province_code"],
        "latitude": row["latitude"],
        "longitude": row["longitude"],
        "stars": row["stars"],
        "status": row["status"],
        "images": orjson.loads(row["images"]),
        "external_refs": [{"system": system, "id": id_} for system, id_ in refs],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def cursor(created_at: datetime, product_id: uuid.UUID) -> str:
    import base64

    raw = orjson.dumps({"s": LIST_ORDERING, "v": [created_at.isoformat(), str(product_id)]})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def list_products(pool: asyncpg.Pool, limit: int) -> bytes:
    today = datetime.now(ZONE).date()
    async with pool.acquire() as conn:
        rows = await conn.fetch(LIST_PAGE, today, STARS_SHOWN_FROM, 1, "active", limit + 1)
        page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = cursor(page[-1]["created_at_1"], page[-1]["id_1"])
    items = [product_item(row) for row in page]
    return dumps({"items": items, "next_cursor": next_cursor})


async def principal(conn: asyncpg.Connection, authorization: str | None) -> asyncpg.Record:
    scheme, _, token = (authorization or "").partition(" ")
    _kind, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    # One row per event grant (the principal's events, which orders do not use).
    rows = await conn.fetch(KEY, prefix) if scheme.lower() == "bearer" and prefix else []
    key = rows[0] if rows else None
    candidate = hashlib.sha256(secret.encode()).hexdigest()
    if key is None or key["revoked_at"] is not None:
        raise Problem(401, "unauthorized", "Unauthorized")
    if not hmac.compare_digest(candidate, key["secret_hash"]):
        raise Problem(401, "unauthorized", "Unauthorized")
    if key["role"] not in ("partner", "admin"):
        raise Problem(403, "forbidden_role", "Forbidden")
    return key


def new_number(now: datetime) -> str:
    suffix = "".join(secrets.choice(_BASE32) for _ in range(8))
    return f"LS{now.astimezone(ZONE):%y%m%d}-{suffix}"


def merged_items(body: dict[str, Any]) -> dict[uuid.UUID, int]:
    merged: dict[uuid.UUID, int] = {}
    try:
        for item in body["items"]:
            pid = uuid.UUID(item["product_id"])
            milli = Decimal(str(item["quantity"])) * MILLI
            if milli != milli.to_integral_value() or milli <= 0:
                raise Problem(422, "validation_error", "Invalid request")
            merged[pid] = merged.get(pid, 0) + int(milli)
        body["customer"]["name"]
    except (KeyError, TypeError, ValueError) as exc:
        raise Problem(422, "validation_error", "Invalid request") from exc
    return merged


async def place_order(
    pool: asyncpg.Pool, authorization: str | None, idempotency_key: str | None, raw: bytes
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = orjson.loads(raw)
    quantities = merged_items(body)
    customer = body["customer"]
    if not idempotency_key:
        raise Problem(400, "idempotency_key_required", "Idempotency-Key required")
    now = datetime.now(UTC)
    request_hash = hashlib.sha256(
        b"POST /v1/orders\n" + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    async with pool.acquire() as conn, conn.transaction():
        key = await principal(conn, authorization)
        record_id, claim = uuid.uuid4(), uuid.uuid4()
        claimed = await conn.fetchval(
            CLAIM,
            record_id,
            key["id"],
            idempotency_key,
            request_hash,
            "in_progress",
            claim,
            now + IDEMPOTENCY_LOCK,
            now,
        )
        if claimed is None:
            raise Problem(409, "idempotency_key_in_use", "Idempotency-Key in use")
        ids = list(quantities)
        rows = await conn.fetch(PRODUCTS.format(ids=in_list(len(ids))), *ids)
        products = {row["id"]: row for row in rows}
        if any(pid not in products for pid in ids):
            raise Problem(422, "unknown_product", "Unprocessable")
        if any(products[pid]["status"] != "active" for pid in ids):
            raise Problem(409, "product_unavailable", "Conflict")
        if any(q % products[pid]["unit_step"] for pid, q in quantities.items()):
            raise Problem(422, "invalid_quantity", "Unprocessable")
        if any((s := products[p]["stock"]) is not None and s < q for p, q in quantities.items()):
            raise Problem(409, "insufficient_stock", "Insufficient stock")
        order_id = uuid.uuid4()
        order_number = new_number(now)
        lines = []
        for position, (pid, q) in enumerate(quantities.items()):
            product = products[pid]
            total = (q * product["price_vnd"] + MILLI // 2) // MILLI
            taken = q if product["stock"] is not None else 0
            lines.append((position, product, q, taken, total))
        total_vnd = sum(line[4] for line in lines)
        updated_at = datetime.now(UTC)
        placed = await conn.fetchval(
            ORDER,
            order_number,
            "pending",
            "online",
            None,
            key["id"],
            customer["name"],
            customer.get("phone"),
            customer.get("email"),
            customer.get("country"),
            body.get("note"),
            body.get("reference"),
            orjson.dumps(body.get("metadata") or {}).decode(),
            total_vnd,
            order_id,
            now,
            updated_at,
        )
        if placed is None:
            raise Problem(409, "reference_taken", "Conflict")
        await conn.executemany(
            LINE,
            [
                (
                    uuid.uuid4(),
                    order_id,
                    position,
                    product["id"],
                    product["owner_id"],
                    product["name"],
                    product["unit"],
                    q,
                    taken,
                    product["price_vnd"],
                    total,
                )
                for position, product, q, taken, total in lines
            ],
        )
        await conn.executemany(CHANGE, [(uuid.uuid4(), order_id, None, "pending", now, key["id"])])
        answer = dumps(
            {
                "id": str(order_id),
                "number": order_number,
                "status": "pending",
                "channel": "online",
                "event_id": None,
                "customer": {
                    "name": customer["name"],
                    "phone": customer.get("phone"),
                    "email": customer.get("email"),
                    "country": customer.get("country"),
                },
                "note": body.get("note"),
                "reference": body.get("reference"),
                "metadata": body.get("metadata") or {},
                "lines": [
                    {
                        "product_id": str(product["id"]),
                        "product_name": product["name"],
                        "unit": product["unit"],
                        "quantity": number(q),
                        "unit_price_vnd": product["price_vnd"],
                        "line_total_vnd": total,
                    }
                    for _, product, q, _, total in lines
                ],
                "total_vnd": total_vnd,
                "history": [{"status": "pending", "at": now}],
                "created_at": now,
                "updated_at": updated_at,
            }
        )
        owners = sorted({str(line[1]["owner_id"]) for line in lines})
        await conn.execute(
            OUTBOX,
            uuid.uuid4(),
            "order.created",
            answer.decode(),
            orjson.dumps(owners).decode(),
            key["id"],
            None,
            datetime.now(UTC),
            None,
        )
        taken_by = {line[1]["id"]: line[3] for line in lines if line[3]}
        for pid in sorted(taken_by):  # in product id order, as the API (no deadlocks)
            q = taken_by[pid]
            left = await conn.fetchval(TAKE, q, datetime.now(UTC), pid, "active")
            if left is None:
                raise Problem(409, "insufficient_stock", "Insufficient stock")
        digest = hashlib.sha256(answer).hexdigest()
        headers = {
            "etag": f'"{digest[:32]}-{digest[:16]}"',
            "location": f"/v1/orders/{order_id}",
            "content-type": "application/json",
        }
        await conn.fetchval(
            COMPLETE,
            "completed",
            201,
            orjson.dumps(headers).decode(),
            answer.decode(),
            now,
            record_id,
            claim,
            "in_progress",
        )
    return answer, [(k.encode(), v.encode()) for k, v in headers.items()]


class Baseline:
    """The ASGI app: two routes and /readyz."""

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        assert self.pool is not None
        path, method = scope["path"], scope["method"]
        headers = dict(scope["headers"])
        status, body, extra = 404, b'{"status":404}', []
        try:
            if path == "/v1/products" and method == "GET":
                limit = 20
                for part in scope["query_string"].split(b"&"):
                    name, _, value = part.partition(b"=")
                    if name == b"limit":
                        limit = int(value)
                status, body = 200, await list_products(self.pool, limit)
                extra = [
                    (b"content-language", b"vi"),
                    (b"vary", b"Accept-Language, Authorization"),
                    (b"cache-control", b"public, max-age=30, stale-while-revalidate=30"),
                ]
            elif path == "/v1/orders" and method == "POST":
                raw = b""
                while True:
                    message = await receive()
                    raw += message.get("body", b"")
                    if not message.get("more_body"):
                        break
                key = headers.get(b"idempotency-key")
                auth = headers.get(b"authorization")
                body, extra = await place_order(
                    self.pool,
                    auth.decode() if auth else None,
                    key.decode() if key else None,
                    raw,
                )
                extra = [h for h in extra if h[0] != b"content-type"]
                status = 201
            elif path == "/readyz":
                status, body = 200, b'{"status":"ready"}'
        except Problem as problem:
            status = problem.status
            body = dumps({"status": status, "code": problem.code, "title": problem.title})
        content_type = b"application/problem+json" if status >= 400 else b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                dsn = os.environ["OCOP_DATABASE_URL"].replace("postgresql+asyncpg", "postgresql")
                self.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


app = Baseline()
