"""Demo booking settings: guided visits of the Bắc Lệ communal temple relic site. A sample: the
report gives the site's OCOP rating, not its visiting times, capacities or ticket prices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.text import fold
from app.demo.data import BAC_LE_COMMUNITY
from app.experiences import service as experiences
from app.experiences.schemas import (
    ExperienceWrite,
    ScheduleIn,
    TicketTypeIn,
    TicketTypeTranslation,
)
from app.models.experience import BookingMode
from app.owners import service as owners
from app.products import service as products

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
BAC_LE_TEMPLE = "Di tích Đình Bắc Lệ"

BAC_LE_VISITS = ExperienceWrite(
    booking_mode=BookingMode.start_time,
    duration_minutes=60,
    cutoff_minutes=30,
    hold_minutes=15,
    schedules=[
        ScheduleIn.model_validate(
            {"start_times": ["08:00", "09:30", "14:00", "15:30"], "capacity": 25}
        )
    ],
    ticket_types=[
        TicketTypeIn(
            code="adult",
            name="Người lớn",
            translations={"en": TicketTypeTranslation(name="Adult")},
            price_vnd=20_000,
        ),
        TicketTypeIn(
            code="child",
            name="Trẻ em (6-15 tuổi)",
            translations={"en": TicketTypeTranslation(name="Child (6-15)")},
            price_vnd=10_000,
        ),
        TicketTypeIn(
            code="infant",
            name="Em bé (dưới 6 tuổi)",
            translations={"en": TicketTypeTranslation(name="Infant (under 6)")},
            price_vnd=0,
            places=0,
        ),
    ],
)


async def seed_experiences(
    session: AsyncSession, now: datetime, count: Callable[[str, int], None]
) -> None:
    """Give the Bắc Lệ temple its booking settings, unless it has some."""
    [community] = await owners.owners_named(session, [fold(BAC_LE_COMMUNITY.name)])
    temple = await products.find_by_owner_and_name(session, community.id, BAC_LE_TEMPLE)
    if temple is None or await experiences.find_experience(session, temple.id) is not None:
        return
    await experiences.put_experience(session, temple, None, BAC_LE_VISITS, now=now, zone=ZONE)
    count("experiences", 1)
