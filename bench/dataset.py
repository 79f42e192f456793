"""A national-scale dataset: owners, products, certificates, events and orders, in a PostgreSQL
database of its own, for measuring the API at 10,000 or 1,000,000 products.

    python -m bench.dataset --products 1000000 --owners 50000 --orders 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

creates `ocop_bench_<size>` (`ocop_bench_1m`, `ocop_bench_10k`, ...) on that server, migrates it
to head with Alembic and fills it with PostgreSQL COPY (asyncpg `copy_records_to_table`), in
chunks. Everything comes from one seed, so two runs give the same rows. A database that already
holds a complete dataset of the same parameters is kept as it is (`--force` rebuilds it).

What the rows look like: owners named as Lạng Sơn's are (companies, cooperatives "HTX ..." and
"Hợp tác xã ...", "Hộ kinh doanh ..." households, village communities) in the province's
communes (the official list the migrations load); products of the domain (Bắc Sơn golden
mandarins, Bổ Khai tea, star anise, custard apples, ...) named with their commune and a grade or
packing; certificates of 3 to 5 stars with their decisions and 36-month validity; festivals and
fairs with hundreds to thousands of entered products; orders of 1 to 3 lines, most at events,
the first event (a "Mùa vàng Bắc Sơn") taking about half of them. Every derived column the API
relies on is filled by the application's own rules: `sort_name`, `search_text`,
`commune_key`, `province_key` (`app.core.text.fold`, as the models' `derive_keys`), the
commune's code, line totals (`app.orders.service.line_total`), stock in thousandths, and the
event sales sums (`event_sales`) the report reads, counted as the order path counts them
(`app.orders.repository.event_sales_rows`). A `stars` column on products, where the schema has
one, gets each product's current stars.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from app.core.migrations import head_revision
from app.core.text import fold
from app.core.zones import zone
from app.models.product import Product
from app.orders.service import line_total
from app.products.stars import restarred
from tests import database

Log = Callable[[str], None]
MILLI = 1000
CHUNK = 20_000
PROVINCE = "Lạng Sơn"
PROVINCE_CODE = "20"
TIMEZONE = "Asia/Ho_Chi_Minh"
START = datetime(2021, 1, 1, tzinfo=UTC)
TODAY = date(2026, 12, 1)
"""The dataset's "today": the last day products are created on, events end before it."""
FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Lương",
    "Nông",
    "Hà",
    "Lục",
    "Vi",
    "Lăng",
    "Mã",
    "Hứa",
    "Chu",
    "Dương",
    "Triệu",
]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh", "Hữu", "Quang", "Xuân", "Thu"]
GIVEN = [
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hương",
    "Lan",
    "Linh",
    "Minh",
    "Nam",
    "Quế",
    "Phương",
    "Quân",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
    "Sơn",
    "Thắng",
    "Hoa",
    "Mai",
    "Khánh",
    "Tùng",
    "Cường",
    "Nhung",
]
COUNTRIES = ["VN"] * 14 + ["CN", "KR", "JP", "FR", "US", "TW"]


@dataclass(frozen=True)
class Kind:
    """A product of the domain: its name, group, unit, unit step, price range, English name."""

    name: str
    group: str
    unit: str
    step: Decimal
    prices: tuple[int, int]
    english: str
    tracked: bool = True


KINDS = [
    Kind("Quýt vàng", "food", "kg", Decimal("0.5"), (30_000, 80_000), "golden mandarin"),
    Kind("Trà Bổ Khai", "beverage", "box", Decimal(1), (80_000, 250_000), "Bo Khai tea"),
    Kind("Trà hoa vàng", "beverage", "box", Decimal(1), (200_000, 900_000), "golden camellia tea"),
    Kind("Chè Shan tuyết", "beverage", "bag", Decimal(1), (120_000, 600_000), "Shan Tuyet tea"),
    Kind("Hoa hồi khô", "food", "kg", Decimal("0.5"), (90_000, 180_000), "dried star anise"),
    Kind("Tinh dầu hồi", "herbal", "bottle", Decimal(1), (150_000, 450_000), "star anise oil"),
    Kind("Na", "food", "kg", Decimal("0.5"), (40_000, 120_000), "custard apple"),
    Kind("Hồng không hạt", "food", "kg", Decimal("0.5"), (35_000, 90_000), "seedless persimmon"),
    Kind("Mác mật", "food", "kg", Decimal("0.5"), (30_000, 70_000), "mac mat fruit"),
    Kind("Mật ong hoa rừng", "food", "bottle", Decimal(1), (180_000, 500_000), "wild honey"),
    Kind("Thạch đen", "food", "kg", Decimal("0.5"), (40_000, 90_000), "black grass jelly"),
    Kind("Miến dong", "food", "bag", Decimal(1), (50_000, 120_000), "arrowroot noodles"),
    Kind("Rượu men lá", "beverage", "bottle", Decimal(1), (80_000, 300_000), "leaf-yeast wine"),
    Kind("Lạp sườn hun khói", "food", "kg", Decimal("0.5"), (250_000, 450_000), "smoked sausage"),
    Kind("Thịt lợn gác bếp", "food", "kg", Decimal("0.5"), (500_000, 900_000), "kitchen-hung pork"),
    Kind("Măng khô", "food", "kg", Decimal("0.5"), (200_000, 400_000), "dried bamboo shoots"),
    Kind("Nấm hương rừng", "food", "kg", Decimal("0.5"), (300_000, 700_000), "wild shiitake"),
    Kind("Gạo nếp cái hoa vàng", "food", "bag", Decimal(1), (60_000, 150_000), "sticky rice"),
    Kind("Khăn thổ cẩm", "handicraft", "piece", Decimal(1), (150_000, 800_000), "brocade scarf"),
    Kind("Giỏ mây tre đan", "handicraft", "piece", Decimal(1), (80_000, 400_000), "rattan basket"),
    Kind("Cao xương", "herbal", "jar", Decimal(1), (300_000, 1_200_000), "bone balm"),
    Kind("Trà giảo cổ lam", "herbal", "box", Decimal(1), (90_000, 300_000), "gynostemma tea"),
    Kind("Cây giống quýt", "flora_fauna", "piece", Decimal(1), (30_000, 90_000), "seedling"),
    Kind(
        "Trải nghiệm hái quýt",
        "tourism",
        "ticket",
        Decimal(1),
        (50_000, 200_000),
        "mandarin picking tour",
        tracked=False,
    ),
    Kind(
        "Homestay nhà sàn",
        "tourism",
        "visit",
        Decimal(1),
        (300_000, 1_200_000),
        "stilt house homestay",
        tracked=False,
    ),
]
GRADES = [
    "loại 1",
    "loại đặc biệt",
    "hữu cơ",
    "hộp quà",
    "túi 500g",
    "túi 1kg",
    "sấy khô",
    "truyền thống",
    "chính vụ",
    "VietGAP",
    "cao cấp",
    "đóng hộp",
    "xuất khẩu",
    "gia đình",
]
COMPANY_WORDS = [
    "Nông sản",
    "Thực phẩm",
    "Dược liệu",
    "Thương mại",
    "Đặc sản",
    "Xanh",
    "Phát triển",
    "Sản xuất",
    "Chế biến",
    "Du lịch",
]
EVENTS = [
    "Mùa vàng Bắc Sơn",
    "Hội chợ OCOP Lạng Sơn",
    "Lễ hội Na Chi Lăng",
    "Tuần hàng đặc sản xứ Lạng",
    "Hội chợ Xuân Kỳ Lừa",
    "Lễ hội Hoa hồi Văn Quan",
    "Phiên chợ vùng cao Mẫu Sơn",
    "Hội chợ thương mại biên giới Đồng Đăng",
]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def size_label(products: int) -> str:
    """1000000 -> "1m", 10000 -> "10k", 123 -> "123"."""
    for unit, label in ((1_000_000, "m"), (1_000, "k")):
        if products >= unit and products % unit == 0:
            return f"{products // unit}{label}"
    return str(products)


@dataclass(frozen=True)
class Params:
    products: int
    owners: int
    orders: int
    seed: int

    @property
    def signature(self) -> str:
        """What the database's comment says once a dataset is complete: its size and seed, and
        the schema it was built for (a database of an older schema is built again)."""
        return (
            f"ocop bench dataset: products={self.products} owners={self.owners} "
            f"orders={self.orders} seed={self.seed} schema={head_revision()} complete"
        )


def person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def short_name(name: str, kind: str) -> str:
    """How owners and products name a commune: "Xã Bắc Sơn" -> "Bắc Sơn"."""
    return name.removeprefix(kind[0].upper() + kind[1:] + " ")


def new_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment from `start` until `end`, to the microsecond."""
    span = int((end - start).total_seconds() * 1_000_000)
    return start + timedelta(microseconds=rng.randrange(span))


def milli(value: Decimal) -> int:
    return int(value * MILLI)


@dataclass(frozen=True)
class Commune:
    code: str
    name: str  # as products and owners name it: "Bắc Sơn"


@dataclass(frozen=True)
class Sold:
    """What an order needs of a product (kept for a sample of them)."""

    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    unit: str
    step: Decimal
    price: int
    created_at: datetime


@dataclass
class Builder:
    params: Params
    communes: list[Commune]
    rng: random.Random = field(init=False)
    owners: list[uuid.UUID] = field(default_factory=list)
    owner_texts: dict[uuid.UUID, str] = field(default_factory=dict)
    sold: list[Sold] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.params.seed)

    def owner_rows(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for i in range(self.params.owners):
            commune = rng.choice(self.communes)
            roll = rng.random()
            representative = person(rng)
            kind = rng.choice(KINDS)
            if roll < 0.25:
                form = rng.choice(["Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV"])
                words = rng.choice(COMPANY_WORDS)
                name = f"{form} {words} {commune.name} {representative.split()[-1]}"
                owner_kind = "company"
            elif roll < 0.65:
                form = rng.choice(["HTX", "Hợp tác xã"])
                name = f"{form} {kind.name} {commune.name}"
                owner_kind = "cooperative"
            elif roll < 0.95:
                name = f"Hộ kinh doanh {representative}"
                owner_kind = "household"
            else:
                name = f"Cộng đồng thôn {rng.choice(GIVEN)} {commune.name}"
                owner_kind = "community"
            if i % 7 == 0:  # names repeat across communes; a number tells some apart, as in life
                name = f"{name} {i // 7 % 97 + 1}"
            created = moment(rng, START - timedelta(days=365), START)
            owner_id = new_uuid(rng)
            self.owners.append(owner_id)
            yield {
                "id": owner_id,
                "name": name,
                "kind": owner_kind,
                "commune": commune.name,
                "commune_code": commune.code,
                "province": PROVINCE,
                "representative": representative,
                "phone": f"0{rng.choice([20, 91, 98, 96, 86, 33])}{rng.randrange(10**6, 10**7)}",
                "email": None,
                "address": f"Thôn {rng.choice(GIVEN)}, {commune.name}, {PROVINCE}",
                "website": None,
                "description": None,
                "status": "active",
                # As Owner.derive_keys.
                "sort_name": fold(name),
                "search_text": self.owner_texts.setdefault(
                    owner_id, fold(" ".join(filter(None, [name, representative])))
                ),
                "commune_key": fold(commune.name),
                "province_key": fold(PROVINCE),
                "created_at": created,
                "updated_at": created,
            }

    def product_and_certificate_rows(self) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        rng, count = self.rng, self.params.products
        keep_every = max(1, count // 20_000)  # the products orders are drawn from
        span = (datetime.combine(TODAY, datetime.min.time(), UTC) - START).total_seconds()
        for i in range(count):
            kind = rng.choice(KINDS)
            commune = rng.choice(self.communes)
            name = f"{kind.name} {commune.name} {rng.choice(GRADES)}"
            translations = (
                {"en": {"name": f"{commune.name} {kind.english}"}} if rng.random() < 0.1 else {}
            )
            names = [name, *(t["name"] for t in translations.values())]
            price = rng.randrange(kind.prices[0], kind.prices[1], 1_000)
            # Created at an even pace over the years (keyset pages and sorts see a real spread).
            created = START + timedelta(seconds=span * (i + rng.random()) / count)
            product_id = new_uuid(rng)
            owner_id = rng.choice(self.owners)
            stock = (
                kind.step * rng.randrange(0, 4_000) if kind.tracked and rng.random() < 0.8 else None
            )
            located = rng.random() < 0.5
            certificates = self.certificates(product_id, created)
            product = {
                "id": product_id,
                "owner_id": owner_id,
                "name": name,
                "description": f"{kind.name} đặc sản {commune.name}, {PROVINCE}."
                if rng.random() < 0.6
                else None,
                "translations": json.dumps(translations, ensure_ascii=False),
                "group": kind.group,
                "subgroup": None,
                "unit": kind.unit,
                "unit_step": milli(kind.step),
                "price_vnd": price,
                "stock": None if stock is None else milli(stock),
                "commune": commune.name,
                "commune_code": commune.code,
                "province": PROVINCE,
                "latitude": round(rng.uniform(21.3, 22.5), 6) if located else None,
                "longitude": round(rng.uniform(106.1, 107.4), 6) if located else None,
                "status": "archived" if rng.random() < 0.03 else "active",
                "images": "[]",
                # As Product.derive_keys.
                "sort_name": fold(name),
                "search_text": f"{fold(' '.join(names))} {self.owner_texts[owner_id]}",
                "commune_key": fold(commune.name),
                "created_at": created,
                "updated_at": created,
            }
            if i % keep_every == 0 and product["status"] == "active":
                self.sold.append(
                    Sold(product_id, owner_id, name, kind.unit, kind.step, price, created)
                )
            yield product, certificates

    def certificates(self, product_id: uuid.UUID, created: datetime) -> list[dict[str, Any]]:
        """None for a fifth of the products; else one, or a renewal over an older one."""
        rng = self.rng
        if rng.random() < 0.2:
            return []
        rows = []
        issued = max(created.date(), date(2021, 3, 1)) + timedelta(days=rng.randrange(30, 400))
        for _ in range(2 if rng.random() < 0.25 else 1):
            if issued > TODAY:
                break
            stars = rng.choices([3, 4, 5], weights=[75, 20, 5])[0]
            score = {3: rng.randrange(50, 70), 4: rng.randrange(70, 90), 5: rng.randrange(90, 101)}
            at = datetime.combine(issued, datetime.min.time(), UTC) + timedelta(hours=9)
            rows.append(
                {
                    "id": new_uuid(rng),
                    "product_id": product_id,
                    "stars": stars,
                    "score": score[stars],
                    "decision_no": f"{rng.randrange(100, 4000)}/QĐ-UBND ngày {issued:%d/%m/%Y}",
                    "issued_on": issued,
                    "valid_until": issued + timedelta(days=3 * 365),
                    "level": "central" if stars == 5 else "provincial",
                    "created_at": at,
                    "updated_at": at,
                }
            )
            issued += timedelta(days=3 * 365 + rng.randrange(-30, 30))
        return rows


_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def order_number(at: datetime, index: int) -> str:
    """LS + local date + 8 base32 characters, as the API writes them; unique by construction
    (a bijection of the order's index over 40 bits), where 1M random ones might collide."""
    code = (index * 0x9E3779B97F + 0x5DEECE66D) % (1 << 40)
    chars = "".join(_BASE32[(code >> shift) & 31] for shift in range(35, -5, -5))
    return f"LS{at.astimezone(zone(TIMEZONE)).strftime('%y%m%d')}-{chars}"


@dataclass
class EventPlan:
    id: uuid.UUID
    name: str
    starts_at: datetime
    ends_at: datetime
    commune: Commune
    entries: dict[uuid.UUID, int | None]  # product -> event price
    products: list[Sold]


class Sums:
    """The event sales sums, counted as `app.orders.repository.event_sales_rows` counts them:
    every line adds to (event, local day, product, owner, unit, name); the order counts on its
    first line, and per owner on that owner's first line."""

    def __init__(self) -> None:
        self.rows: dict[tuple[Any, ...], list[int]] = {}

    def add(self, event_id: uuid.UUID, day: date, lines: Sequence[dict[str, Any]]) -> None:
        seen: set[uuid.UUID] = set()
        for i, line in enumerate(sorted(lines, key=lambda line: line["position"])):
            key = (
                event_id,
                day,
                line["product_id"],
                line["owner_id"],
                line["unit"],
                line["product_name"],
            )
            sums = self.rows.setdefault(key, [0, 0, 0, 0, 0])
            sums[0] += 1
            sums[1] += line["quantity"]
            sums[2] += line["line_total_vnd"]
            sums[3] += 1 if i == 0 else 0
            sums[4] += 1 if line["owner_id"] not in seen else 0
            seen.add(line["owner_id"])

    def records(self) -> Iterator[tuple[Any, ...]]:
        for key, sums in self.rows.items():
            yield (*key, *sums)


LOADED = (
    "owners",
    "products",
    "certificates",
    "events",
    "event_products",
    "orders",
    "order_lines",
    "order_status_changes",
    "event_sales",
)
SUMS_COLUMNS = [
    "event_id",
    "day",
    "product_id",
    "owner_id",
    "unit",
    "product_name",
    "lines",
    "quantity",
    "revenue_vnd",
    "orders",
    "owner_orders",
]


async def copy(conn: asyncpg.Connection, table: str, rows: Iterable[dict[str, Any]]) -> int:
    """COPY `rows` (dicts of one shape) into `table`, CHUNK at a time; how many."""
    count, chunk, columns = 0, [], None
    for row in rows:
        if columns is None:
            columns = list(row)
        chunk.append(tuple(row[c] for c in columns))
        if len(chunk) >= CHUNK:
            await conn.copy_records_to_table(table, records=chunk, columns=columns)
            count, chunk = count + len(chunk), []
    if chunk and columns is not None:
        await conn.copy_records_to_table(table, records=chunk, columns=columns)
        count += len(chunk)
    return count


def stored_stars_sql() -> str:
    """The UPDATE that stores every product's stars as of `TODAY`, as `ocop worker` would."""
    stmt = update(Product).values(**restarred(TODAY))
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


async def columns_of(conn: asyncpg.Connection, table: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table
    )
    return {row["column_name"] for row in rows}


async def load(dsn: str, params: Params, log: Log) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        communes = [
            Commune(row["code"], short_name(row["name"], row["kind"]))
            for row in await conn.fetch(
                "SELECT code, name, kind FROM communes WHERE province_code = $1 ORDER BY code",
                PROVINCE_CODE,
            )
        ]
        if not communes:
            raise SystemExit("no communes of Lạng Sơn: is the database migrated?")
        builder = Builder(params, communes)
        started = time.monotonic()
        # The rows are consistent by construction: no foreign key checks while loading, and
        # the secondary indexes built once at the end rather than maintained row by row.
        await conn.execute("SET session_replication_role = replica")
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' AND "
            "tablename = ANY($1::text[]) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            list(LOADED),
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        n = await copy(conn, "owners", builder.owner_rows())
        log(f"  owners: {n:,} ({time.monotonic() - started:.0f} s)")
        products: list[dict[str, Any]] = []
        certificates: list[dict[str, Any]] = []
        n = m = 0
        for product, certs in builder.product_and_certificate_rows():
            products.append(product)
            certificates.extend(certs)
            if len(products) >= CHUNK:
                n += await copy(conn, "products", products)
                m += await copy(conn, "certificates", certificates)
                products.clear()
                certificates.clear()
                if n % 200_000 == 0:
                    log(f"  products: {n:,} ({time.monotonic() - started:.0f} s)")
        n += await copy(conn, "products", products)
        m += await copy(conn, "certificates", certificates)
        log(f"  products: {n:,}, certificates: {m:,} ({time.monotonic() - started:.0f} s)")
        key_id = await bench_key(conn, builder.rng)
        events = plan_events(builder)
        await copy(conn, "events", (event_row(e) for e in events))
        await copy(
            conn,
            "event_products",
            (
                {
                    "id": new_uuid(builder.rng),
                    "event_id": e.id,
                    "product_id": product.id,
                    "booth": None,
                    "event_price_vnd": e.entries[product.id],
                    "product_created_at": product.created_at,
                    "created_at": e.starts_at - timedelta(days=20),
                    "updated_at": e.starts_at - timedelta(days=20),
                }
                for e in events
                for product in e.products
            ),
        )
        log(f"  events: {len(events)}, entries: {sum(len(e.entries) for e in events):,}")
        sums = await load_orders(conn, builder, events, key_id, log, started)
        n = await conn.copy_records_to_table(
            "event_sales", records=list(sums.records()), columns=SUMS_COLUMNS
        )
        log(f"  event sales sums: {len(sums.rows):,} rows ({time.monotonic() - started:.0f} s)")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for index in indexes:
            await conn.execute(index["indexdef"])
        log(f"  {len(indexes)} indexes built ({time.monotonic() - started:.0f} s)")
        # The stars products store, by the app's own rule and statement (app.products.stars).
        await conn.execute(stored_stars_sql())
        log(f"  stars stored ({time.monotonic() - started:.0f} s)")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def bench_key(conn: asyncpg.Connection, rng: random.Random) -> uuid.UUID:
    """The revoked partner key the orders were placed with (nobody can use it)."""
    key_id = new_uuid(rng)
    now = datetime.combine(TODAY, datetime.min.time(), UTC)
    await conn.execute(
        "INSERT INTO api_keys (id, name, role, prefix, secret_hash, created_at, revoked_at) "
        "VALUES ($1, 'Bench: booth and partner orders', 'partner', $2, $3, $4, $4)",
        key_id,
        f"bench{rng.getrandbits(32):08x}",
        "0" * 64,
        now,
    )
    return key_id


def plan_events(builder: Builder) -> list[EventPlan]:
    """One event per 100,000 orders (at least 4): the first, a festival of the last autumn, the
    others over the years; each with hundreds to thousands of the sampled products."""
    rng, sold = builder.rng, builder.sold
    count = max(4, builder.params.orders // 100_000)
    events = []
    for i in range(count):
        if i == 0:
            starts = datetime(2025, 11, 1, 1, 0, tzinfo=UTC)
            commune = next(
                (c for c in builder.communes if c.name == "Bắc Sơn"), builder.communes[0]
            )
        else:
            starts = moment(rng, START + timedelta(days=180), datetime(2026, 10, 1, tzinfo=UTC))
            commune = rng.choice(builder.communes)
        entered = rng.sample(sold, min(len(sold), rng.randrange(300, 2_000)))
        entries = {
            s.id: (s.price * rng.choice([80, 90, 95]) // 100 if rng.random() < 0.6 else None)
            for s in entered
        }
        name = f"{EVENTS[i % len(EVENTS)]} {starts.year}"
        if i >= len(EVENTS):
            name += f" ({i // len(EVENTS) + 1})"
        events.append(
            EventPlan(
                new_uuid(rng), name, starts, starts + timedelta(days=7), commune, entries, entered
            )
        )
    return events


def event_row(event: EventPlan) -> dict[str, Any]:
    return {
        "id": event.id,
        "name": event.name,
        "kind": "festival"
        if "Lễ hội" in event.name or "Mùa" in event.name
        else "product_week"
        if "Tuần" in event.name
        else "trade_fair",
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "venue": None,
        "commune": event.commune.name,
        "commune_code": event.commune.code,
        "province": PROVINCE,
        "latitude": None,
        "longitude": None,
        "description": None,
        "translations": "{}",
        "cancelled_at": None,
        # As Event.derive_keys.
        "sort_name": fold(event.name),
        "search_text": fold(event.name),
        "commune_key": fold(event.commune.name),
        "created_at": event.starts_at - timedelta(days=30),
        "updated_at": event.starts_at - timedelta(days=30),
    }


async def load_orders(
    conn: asyncpg.Connection,
    builder: Builder,
    events: list[EventPlan],
    key_id: uuid.UUID,
    log: Log,
    started: float,
) -> Sums:
    """The orders, their lines and status changes; the event sales sums they make."""
    rng, sums, local = builder.rng, Sums(), zone(TIMEZONE)
    statuses = ["fulfilled"] * 17 + ["pending", "confirmed", "cancelled"]
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    total = 0

    async def flush() -> None:
        await copy(conn, "orders", orders)
        await copy(conn, "order_lines", lines)
        await copy(conn, "order_status_changes", changes)
        for rows in (orders, lines, changes):
            rows.clear()

    for index in range(builder.params.orders):
        roll = rng.random()
        event = events[0] if roll < 0.5 else rng.choice(events) if roll < 0.9 else None
        if event is not None:
            at = moment(rng, event.starts_at, event.ends_at)
            products = rng.sample(event.products, rng.choices([1, 2, 3], weights=[6, 3, 1])[0])
        else:
            at = moment(rng, START, datetime.combine(TODAY, datetime.min.time(), UTC))
            products = rng.sample(builder.sold, rng.choices([1, 2, 3], weights=[6, 3, 1])[0])
        order_id, status = new_uuid(rng), rng.choice(statuses)
        order_lines = []
        for position, product in enumerate(products):
            quantity = product.step * rng.randrange(1, 21)
            price = product.price
            if event is not None and (event_price := event.entries[product.id]) is not None:
                price = event_price
            order_lines.append(
                {
                    "id": new_uuid(rng),
                    "order_id": order_id,
                    "position": position,
                    "product_id": product.id,
                    "owner_id": product.owner_id,
                    "product_name": product.name,
                    "unit": product.unit,
                    "quantity": milli(quantity),
                    "stock_taken": 0,  # history: placed without taking today's stock
                    "unit_price_vnd": price,
                    "line_total_vnd": line_total(quantity, price),
                }
            )
        orders.append(
            {
                "id": order_id,
                "number": order_number(at, index),
                "status": status,
                "channel": "event" if event else rng.choice(["online", "partner"]),
                "event_id": event.id if event else None,
                "placed_by_key_id": key_id,
                "customer_name": person(rng),
                "customer_phone": f"09{rng.randrange(10**7, 10**8)}",
                "customer_email": None,
                "customer_country": rng.choice(COUNTRIES),
                "note": None,
                "reference": None,
                "metadata": "{}",
                "total_vnd": sum(line["line_total_vnd"] for line in order_lines),
                "created_at": at,
                "updated_at": at if status == "pending" else at + timedelta(hours=1),
            }
        )
        lines.extend(order_lines)
        changes.append(
            {
                "id": new_uuid(rng),
                "order_id": order_id,
                "from_status": None,
                "to_status": "pending",
                "at": at,
                "by_key_id": key_id,
            }
        )
        if status != "pending":
            changes.append(
                {
                    "id": new_uuid(rng),
                    "order_id": order_id,
                    "from_status": "pending",
                    "to_status": status,
                    "at": at + timedelta(hours=1),
                    "by_key_id": None,
                }
            )
        if event is not None and status != "cancelled":  # what the event report counts
            sums.add(event.id, at.astimezone(local).date(), order_lines)
        if len(orders) >= CHUNK:
            total += len(orders)
            await flush()
            if total % 200_000 == 0:
                log(f"  orders: {total:,} ({time.monotonic() - started:.0f} s)")
    total += len(orders)
    await flush()
    log(f"  orders: {total:,} ({time.monotonic() - started:.0f} s)")
    return sums


def database_name(params: Params) -> str:
    return f"ocop_bench_{size_label(params.products)}"


async def ensure(
    server_url: str,
    params: Params,
    *,
    force: bool = False,
    name: str | None = None,
    log: Log | None = None,
) -> str:
    """The URL (postgresql+asyncpg://) of a database (`name`, by default `ocop_bench_<size>`)
    holding the dataset `params`, built unless one that is complete is there."""
    log = log or say
    url = make_url(server_url).set(drivername="postgresql")
    name = name or database_name(params)
    admin = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        comment = await admin.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            name,
        )
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        target = url.set(database=name)
        if exists and comment == params.signature and not force:
            log(f"{name}: complete ({params.signature}), reused")
            return target.set(drivername="postgresql+asyncpg").render_as_string(False)
        if exists:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    sqlalchemy_url = target.set(drivername="postgresql+asyncpg").render_as_string(False)
    log(
        f"{name}: migrating, then loading {params.products:,} products, {params.owners:,} "
        f"owners, {params.orders:,} orders (seed {params.seed})"
    )
    await asyncio.to_thread(database.migrate, sqlalchemy_url)
    await load(target.render_as_string(hide_password=False), params, log)
    admin = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{params.signature}'")
    finally:
        await admin.close()
    return sqlalchemy_url


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--owners", type=int, default=None, help="default: products / 20")
    parser.add_argument("--orders", type=int, default=None, help="default: as many as products")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server (any database on it): ocop_bench_<size> is created there",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if complete")
    args = parser.parse_args(argv)
    params = Params(
        products=args.products,
        owners=args.owners or max(1, args.products // 20),
        orders=args.orders if args.orders is not None else args.products,
        seed=args.seed,
    )
    started = time.monotonic()
    url = asyncio.run(ensure(args.database_url, params, force=args.force))
    sys.stdout.write(f"ready in {time.monotonic() - started:.0f} s: {url}\n")


if __name__ == "__main__":
    main()
