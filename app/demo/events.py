"""Demo events, from the provincial report (`app.demo.data`), and the products sold at each.

The products come from the catalogue's demo data; an entry whose product does not exist (yet)
is skipped, and added by a later `ocop seed-demo` once it does. Events are matched by name,
entries by (event, product), so running the seed again adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.external_refs import ExternalRef
from app.core.text import fold
from app.events import service as events
from app.events.schemas import EventCreate, EventTranslation
from app.models.event import EventKind

VN = timezone(timedelta(hours=7))
SAMPLE_NOTE = "Sample record for the demo; not taken from the provincial report."
SAMPLE_NOTE_VI = "Bản ghi mẫu để minh họa, không lấy từ báo cáo của tỉnh."

# The catalogue's demo product names these entries look for (matched ignoring accents, case
# and punctuation, so "Trà Bổ Khai Ngọc Quế, túi lọc" matches too).
MANDARIN = "Quýt vàng Bắc Sơn"
TEA_BAGS = "Trà Bổ Khai Ngọc Quế túi lọc"
TEA_INSTANT = "Trà Bổ Khai Ngọc Quế hòa tan"
BAC_LE_TEMPLE = "Di tích Đình Bắc Lệ"
PRODUCT_NAMES = (MANDARIN, TEA_BAGS, TEA_INSTANT, BAC_LE_TEMPLE)


@dataclass(frozen=True)
class Entry:
    product: str
    booth: str
    event_price_vnd: int | None = None


@dataclass(frozen=True)
class DemoEvent:
    event: EventCreate
    entries: tuple[Entry, ...] = ()


def _vn(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=VN)


def _en(name: str, description: str | None = None) -> dict[str, EventTranslation]:
    return {"en": EventTranslation(name=name, description=description)}


GOLDEN_SEASON = DemoEvent(
    EventCreate(
        name="Lễ hội Mùa vàng Bắc Sơn 2025",
        kind=EventKind.festival,
        starts_at=_vn(2025, 11, 3, 8),
        ends_at=_vn(2025, 11, 9, 22),
        venue="Trung tâm xã Bắc Sơn và các vườn quýt",
        commune="Bắc Sơn",
        latitude=21.90,
        longitude=106.32,
        description=(
            "Lễ hội Mùa vàng Bắc Sơn, 7 ngày đầu tháng 11/2025: du khách thăm vườn quýt và đặt "
            "hàng; hơn 10 tấn quýt vàng Bắc Sơn đã được tiêu thụ. Ngày cụ thể trong đầu tháng "
            "11, địa điểm, gian hàng và giá tại lễ hội là giá trị mẫu."
        ),
        translations=_en(
            "Bac Son Golden Season festival 2025",
            "Seven days in early November 2025: visitors toured the orchards and ordered more "
            "than 10 tonnes of Bac Son golden mandarins. Dates within early November, venue, "
            "booth and festival price are sample values.",
        ),
        external_refs=[ExternalRef(system="demo-tickets", id="MUA-VANG-BAC-SON-2025")],
    ),
    (Entry(MANDARIN, booth="A01", event_price_vnd=45_000),),
)

TRADE_FAIR = DemoEvent(
    EventCreate(
        name="Hội chợ Thương mại và Sản phẩm OCOP Lạng Sơn 2025",
        kind=EventKind.trade_fair,
        starts_at=_vn(2025, 9, 24, 8),
        ends_at=_vn(2025, 9, 28, 22),
        venue="Quảng trường 17/10, Lạng Sơn",
        commune="Đông Kinh",
        latitude=21.85,
        longitude=106.76,
        description=(
            "Công ty TNHH MTV Ngọc Quế bán trực tiếp hàng nghìn sản phẩm trà tại các hội chợ "
            "năm 2025. Tên, ngày và địa điểm của hội chợ là giá trị mẫu."
        ),
        translations=_en(
            "Lang Son Trade and OCOP Products Fair 2025",
            "Ngoc Que sold thousands of its teas directly at fairs in 2025. The fair's name, "
            "dates and venue are sample values.",
        ),
    ),
    (Entry(TEA_BAGS, booth="B07"), Entry(TEA_INSTANT, booth="B07")),
)

TOURISM_WEEK = DemoEvent(
    EventCreate(
        name="Tuần Văn hóa - Du lịch tỉnh Lạng Sơn 2025",
        kind=EventKind.product_week,
        starts_at=_vn(2025, 12, 1, 8),
        ends_at=_vn(2025, 12, 7, 22),
        venue="Quảng trường 17/10, Lạng Sơn",
        commune="Đông Kinh",
        latitude=21.85,
        longitude=106.76,
        description=(
            "Giới thiệu Di tích Đình Bắc Lệ, sản phẩm du lịch OCOP đầu tiên của tỉnh. Ngày và "
            "địa điểm là giá trị mẫu."
        ),
        translations=_en(
            "Lang Son Culture and Tourism Week 2025",
            "Showing the Bac Le communal temple, the province's first OCOP tourism product. "
            "Dates and venue are sample values.",
        ),
    ),
    (Entry(BAC_LE_TEMPLE, booth="Gian du lịch cộng đồng"),),
)

FIXED_EVENTS = (GOLDEN_SEASON, TRADE_FAIR, TOURISM_WEEK)


def upcoming_samples(today: datetime) -> list[DemoEvent]:
    """Sample events a few weeks and months ahead of `today`, so the calendar is never empty."""

    def at(days: int, hour: int) -> datetime:
        local_day = (today.astimezone(VN) + timedelta(days=days)).date()
        return datetime.combine(local_day, time(hour), tzinfo=VN)

    def sample(
        name: str, en: str, kind: EventKind, start: int, length: int, **place: object
    ) -> EventCreate:
        return EventCreate.model_validate(
            {
                "name": f"{name} (mẫu)",
                "kind": kind,
                "starts_at": at(start, 8),
                "ends_at": at(start + length - 1, 21),
                "description": SAMPLE_NOTE_VI,
                "translations": _en(f"{en} (sample)", SAMPLE_NOTE),
                **place,
            }
        )

    return [
        DemoEvent(
            sample(
                "Phiên chợ OCOP cuối tuần Kỳ Lừa",
                "Ky Lua weekend OCOP market",
                EventKind.other,
                14,
                2,
                venue="Chợ Kỳ Lừa",
                commune="Kỳ Lừa",
                latitude=21.86,
                longitude=106.76,
            ),
            (Entry(MANDARIN, booth="K03"), Entry(TEA_BAGS, booth="K05")),
        ),
        DemoEvent(
            sample(
                "Triển lãm sản phẩm OCOP và làng nghề Lạng Sơn",
                "Lang Son OCOP and craft villages exhibition",
                EventKind.exhibition,
                40,
                5,
                venue="Nhà văn hóa Hữu Lũng",
                commune="Hữu Lũng",
                latitude=21.50,
                longitude=106.35,
            ),
            (Entry(TEA_BAGS, booth="E12"), Entry(TEA_INSTANT, booth="E12")),
        ),
        DemoEvent(
            sample(
                "Tuần hàng OCOP Lạng Sơn tại Hà Nội",
                "Lang Son OCOP product week in Hanoi",
                EventKind.product_week,
                75,
                7,
                venue="Trung tâm triển lãm, Hà Nội",
                commune="Hoàn Kiếm",
                province="Hà Nội",
            ),
            (Entry(MANDARIN, booth="L01"), Entry(TEA_INSTANT, booth="L02")),
        ),
    ]


def _product_key(name: str) -> str:
    return " ".join(re.sub(r"[^\w ]", " ", fold(name)).split())


async def seed_events(
    session: AsyncSession, now: datetime, count: Callable[[str, int], None]
) -> None:
    """Insert the demo events and entries that are missing; `count(kind, n)` is told what."""
    demo = [*FIXED_EVENTS, *upcoming_samples(now)]
    by_name = await events.events_named(session, (item.event.name for item in demo))
    products = {_product_key(p.name): p for p in await events.all_products(session)}
    for item in demo:
        event = by_name.get(item.event.name)
        if event is None:
            event = await events.create_event(session, item.event)
            count("events", 1)
        entered = await events.entered_product_ids(session, event.id)
        for entry in item.entries:
            product = products.get(_product_key(entry.product))
            if product is None or product.id in entered:
                continue
            # Not through `enter_product`: past demo events are closed to new entries.
            events.record_entry(
                session,
                event,
                product.id,
                booth=entry.booth,
                event_price_vnd=entry.event_price_vnd,
            )
            entered.add(product.id)
            count("event products", 1)
    await session.flush()
