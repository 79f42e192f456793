"""Demo booking settings of three tourism experiences: the Bắc Lệ temple's guided visits, mandarin
picking in the Bắc Sơn orchards offered at the Bắc Sơn Golden Season festival (in the mandarin
season), and a visit of the Ngọc Quế tea workshop. Samples: the report gives the temple's OCOP
rating and the festival's orchard visits, not visiting times, capacities or ticket prices.

Each product gets its settings once: one that has some (edited since, say) is left as it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.text import fold
from app.demo.data import BAC_LE_COMMUNITY, NGOC_QUE
from app.demo.events import GOLDEN_SEASON
from app.events import service as events
from app.experiences import service as experiences
from app.experiences.schemas import (
    ClosureIn,
    ExperienceWrite,
    ScheduleIn,
    TicketTypeIn,
    TicketTypeTranslation,
    Weekday,
)
from app.models.experience import BookingMode
from app.models.product import Product
from app.owners import service as owners
from app.products import service as products

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
BAC_LE_TEMPLE = "Di tích Đình Bắc Lệ"
MANDARIN_PICKING = "Trải nghiệm hái quýt Bắc Sơn"
TEA_WORKSHOP = "Tham quan xưởng trà Ngọc Quế"
QUYNH_SON = "Hợp tác xã Du lịch cộng đồng Quỳnh Sơn"


def _ticket(code: str, name: str, english: str, price_vnd: int, places: int = 1) -> TicketTypeIn:
    return TicketTypeIn(
        code=code,
        name=name,
        translations={"en": TicketTypeTranslation(name=english)},
        price_vnd=price_vnd,
        places=places,
    )


def _rule(**fields: object) -> ScheduleIn:
    return ScheduleIn.model_validate(fields)


BAC_LE_VISITS = ExperienceWrite(
    booking_mode=BookingMode.start_time,
    duration_minutes=60,
    cutoff_minutes=30,
    hold_minutes=15,
    # Four guided visits a day, 25 people each: 100 visitors a day.
    schedules=[_rule(start_times=["08:00", "09:30", "14:00", "15:30"], capacity=25)],
    ticket_types=[
        _ticket("adult", "Người lớn", "Adult", 20_000),
        _ticket("child", "Trẻ em (6-15 tuổi)", "Child (6-15)", 10_000),
        _ticket("infant", "Em bé (dưới 6 tuổi)", "Infant (under 6)", 0, places=0),
    ],
)


def mandarin_picking(festival_id: uuid.UUID) -> ExperienceWrite:
    """Two hours in an orchard, offered at the festival (bookable on its dates only) within the
    mandarin season; more start times on the festival's weekend (the shorter rule wins)."""
    return ExperienceWrite(
        booking_mode=BookingMode.start_time,
        duration_minutes=120,
        cutoff_minutes=60,
        hold_minutes=20,
        event_id=festival_id,
        schedules=[
            _rule(
                valid_from="2025-10-15",
                valid_to="2025-12-31",
                start_times=["08:00", "14:00"],
                capacity=30,
            ),
            _rule(
                valid_from="2025-11-08",
                valid_to="2025-11-09",
                start_times=["07:30", "09:30", "14:00", "16:00"],
                capacity=40,
            ),
        ],
        ticket_types=[
            _ticket("adult", "Người lớn", "Adult", 50_000),
            _ticket("child", "Trẻ em (6-15 tuổi)", "Child (6-15)", 30_000),
            _ticket("infant", "Em bé (dưới 6 tuổi)", "Infant (under 6)", 0, places=0),
        ],
    )


TEA_WORKSHOP_VISITS = ExperienceWrite(
    booking_mode=BookingMode.date,
    duration_minutes=90,
    cutoff_minutes=60,
    hold_minutes=15,
    # Open Tuesday to Sunday, 40 visitors a day; closed over the 2026 Lunar New Year.
    schedules=[
        _rule(
            weekdays=[d for d in Weekday if d is not Weekday.mon],
            opening_from="08:00",
            opening_to="16:30",
            capacity=40,
        )
    ],
    closures=[
        ClosureIn(date=date(2026, 2, day), reason="Nghỉ Tết Nguyên đán") for day in (16, 17, 18)
    ],
    ticket_types=[
        _ticket("adult", "Người lớn (kèm thưởng trà)", "Adult (tasting included)", 60_000),
        _ticket("child", "Trẻ em (6-15 tuổi)", "Child (6-15)", 30_000),
        _ticket("infant", "Em bé (dưới 6 tuổi)", "Infant (under 6)", 0, places=0),
    ],
)


@dataclass(frozen=True)
class DemoExperience:
    owner: str
    product: str


DEMO_EXPERIENCES = (
    DemoExperience(BAC_LE_COMMUNITY.name, BAC_LE_TEMPLE),
    DemoExperience(QUYNH_SON, MANDARIN_PICKING),
    DemoExperience(NGOC_QUE.name, TEA_WORKSHOP),
)


async def find_product(session: AsyncSession, demo: DemoExperience) -> Product | None:
    """The demo product of an experience, if the catalogue's demo data has it."""
    found = await owners.owners_named(session, [fold(demo.owner)])
    if not found:
        return None
    return await products.find_by_owner_and_name(session, found[0].id, demo.product)


async def _settings(session: AsyncSession, product: str) -> ExperienceWrite | None:
    if product == BAC_LE_TEMPLE:
        return BAC_LE_VISITS
    if product == TEA_WORKSHOP:
        return TEA_WORKSHOP_VISITS
    festival = (await events.events_named(session, [GOLDEN_SEASON.event.name])).get(
        GOLDEN_SEASON.event.name
    )
    return mandarin_picking(festival.id) if festival is not None else None


async def seed_experiences(
    session: AsyncSession, now: datetime, count: Callable[[str, int], None]
) -> None:
    """Give each demo experience its booking settings, unless it has some."""
    for demo in DEMO_EXPERIENCES:
        product = await find_product(session, demo)
        if product is None or await experiences.find_experience(session, product.id) is not None:
            continue
        settings = await _settings(session, demo.product)
        if settings is None:
            continue
        await experiences.put_experience(session, product, None, settings, now=now, zone=ZONE)
        count("experiences", 1)
