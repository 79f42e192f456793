"""Demo orders: the Bac Son Golden Season festival's mandarin sales (more than 10 tonnes over its
7 days) and Ngọc Quế's Bo Khai tea orders after the 2025 fairs (more than 500 million VND), as
the provincial report (`app.demo.data`) gives them. Individual orders are generated
(deterministically), since the report gives only the totals; each is marked as a demo order in
its note.

They are history, so they are written as placed at their time, at the prices of the time,
without taking today's stock.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys import service as keys
from app.core.text import fold
from app.models.api_key import ApiKey, Role
from app.models.event import Event, EventProduct
from app.models.order import Order, OrderChannel, OrderLine, OrderStatus, OrderStatusChange
from app.models.product import Product
from app.orders.service import add_event_sales, new_line, new_number

DEMO_NOTE = "Demo order (generated to match the totals in the provincial report)."
DEMO_PARTNER = "Demo: festival booth and partner shop orders"
MANDARIN_TARGET_KG = Decimal(10_250)
TEA_TARGET_VND = 512_000_000
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_NAMES = [
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
    "Ngọc",
    "Phương",
    "Quân",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
]
FAMILY_NAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Lương"]
COUNTRIES = ["VN"] * 12 + ["CN", "KR", "JP", "FR", "US"]


async def _product(session: AsyncSession, folded_prefix: str) -> Product | None:
    return await session.scalar(
        select(Product)
        .where(Product.sort_name.like(f"{folded_prefix}%"))
        .order_by(Product.sort_name)
    )


async def _demo_key(session: AsyncSession, now: datetime) -> uuid.UUID:
    """A partner key to own the demo orders, revoked at once: nobody can use it."""
    key = await session.scalar(select(ApiKey).where(ApiKey.name == DEMO_PARTNER))
    if key is None:
        key, _token = await keys.create_key(
            session, name=DEMO_PARTNER, role=Role.partner, owner_id=None
        )
        await keys.revoke(session, key, now)
    return key.id


def _customer(rng: random.Random) -> tuple[str, str, str]:
    name = f"{rng.choice(FAMILY_NAMES)} {rng.choice(FIRST_NAMES)}"
    phone = f"09{rng.randrange(10**7, 10**8)}"
    return name, phone, rng.choice(COUNTRIES)


def _order(
    rng: random.Random,
    *,
    at: datetime,
    key_id: uuid.UUID,
    channel: OrderChannel,
    event_id: uuid.UUID | None,
    lines: list[tuple[Product, Decimal, int]],
) -> Order:
    name, phone, country = _customer(rng)
    order_lines = [
        # History: placed without taking today's stock.
        OrderLine(**new_line(i, product, quantity, price, stock_taken=Decimal(0))._asdict())
        for i, (product, quantity, price) in enumerate(lines)
    ]
    return Order(
        id=uuid.uuid4(),
        number=new_number(at, ZONE),
        status=OrderStatus.fulfilled,
        channel=channel,
        event_id=event_id,
        placed_by_key_id=key_id,
        customer_name=name,
        customer_phone=phone,
        customer_country=country,
        note=DEMO_NOTE,
        total_vnd=sum(line.line_total_vnd for line in order_lines),
        # Placed in the past, but written now: `updated_at` is when the row was written, so
        # that a mirror following the change feed receives the demo's orders too.
        created_at=at,
        lines=order_lines,
        history=[
            OrderStatusChange(to_status=OrderStatus.pending, at=at, by_key_id=key_id),
            OrderStatusChange(
                from_status=OrderStatus.pending,
                to_status=OrderStatus.confirmed,
                at=at + timedelta(minutes=10),
            ),
            OrderStatusChange(
                from_status=OrderStatus.confirmed,
                to_status=OrderStatus.fulfilled,
                at=at + timedelta(hours=1),
            ),
        ],
    )


async def seed_orders(session: AsyncSession, now: datetime) -> int:
    """Add the demo orders unless they are there; the number of orders added."""
    existing = await session.scalar(
        select(func.count()).select_from(Order).where(Order.note == DEMO_NOTE)
    )
    if existing:
        return 0
    rng = random.Random(20251103)
    key_id = await _demo_key(session, now)
    orders = await _festival_orders(session, rng, key_id) + await _tea_orders(session, rng, key_id)
    session.add_all(orders)
    await session.flush()
    await add_event_sales(session, orders, ZONE, 1)  # the festival's sales report reads these
    return len(orders)


async def _festival_orders(
    session: AsyncSession, rng: random.Random, key_id: uuid.UUID
) -> list[Order]:
    mandarin = await _product(session, fold("Quýt vàng Bắc Sơn"))
    festival = await session.scalar(
        select(Event)
        .where(Event.search_text.like(f"%{fold('Mùa vàng Bắc Sơn')}%"))
        .order_by(Event.starts_at)
    )
    if mandarin is None or festival is None:
        return []
    entry = await session.scalar(
        select(EventProduct).where(
            EventProduct.event_id == festival.id, EventProduct.product_id == mandarin.id
        )
    )
    price = (
        entry.event_price_vnd if entry and entry.event_price_vnd is not None else mandarin.price_vnd
    )
    first_day = festival.starts_at.astimezone(ZONE).date()
    days = (festival.ends_at.astimezone(ZONE).date() - first_day).days + 1  # local dates spanned
    orders: list[Order] = []
    sold = Decimal(0)
    while sold < MANDARIN_TARGET_KG:
        day = rng.randrange(days)
        moment = time(rng.randrange(7, 18), rng.randrange(60))
        at = datetime.combine(first_day + timedelta(days=day), moment, ZONE)
        at = min(max(at, festival.starts_at), festival.ends_at - timedelta(minutes=1))
        quantity = Decimal(rng.randrange(4, 31)) / 2  # 2 to 15 kg, by half kilos
        sold += quantity
        orders.append(
            _order(
                rng,
                at=at,
                key_id=key_id,
                channel=OrderChannel.event,
                event_id=festival.id,
                lines=[(mandarin, quantity, price)],
            )
        )
    return orders


async def _tea_orders(session: AsyncSession, rng: random.Random, key_id: uuid.UUID) -> list[Order]:
    teas = list(
        await session.scalars(
            select(Product)
            .where(Product.sort_name.like(f"{fold('Trà Bổ Khai')}%"))
            .order_by(Product.sort_name)
        )
    )
    if not teas:
        return []
    orders: list[Order] = []
    revenue = 0
    start = datetime(2025, 11, 15, tzinfo=ZONE)
    while revenue < TEA_TARGET_VND:
        at = start + timedelta(
            days=rng.randrange(45), hours=rng.randrange(8, 20), minutes=rng.randrange(60)
        )
        lines = [
            (tea, Decimal(rng.randrange(5, 60)), tea.price_vnd)
            for tea in rng.sample(teas, k=rng.randint(1, len(teas)))
        ]
        order = _order(
            rng, at=at, key_id=key_id, channel=OrderChannel.partner, event_id=None, lines=lines
        )
        revenue += order.total_vnd
        orders.append(order)
    return orders
