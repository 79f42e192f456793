"""`ocop seed-demo`: load the demo data; running it again adds nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.changes import restamp
from app.core.config import get_settings
from app.core.text import fold
from app.core.zones import zone
from app.demo import data
from app.demo import products as demo_products
from app.demo.bookings import seed_bookings
from app.demo.events import seed_events
from app.demo.experiences import seed_experiences
from app.demo.orders import seed_orders
from app.imports import products as importer
from app.owners import service as owners


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + count


async def seed_demo(session: AsyncSession, now: datetime | None = None) -> SeedReport:
    """Insert what is missing of the demo data, matching records by their natural keys.

    `now` places the upcoming sample events (default: the current time)."""
    report = SeedReport()
    wanted = {fold(owner.name) for owner in data.OWNERS}
    existing = {owner.name for owner in await owners.owners_named(session, wanted)}
    for owner in data.OWNERS:
        if owner.name not in existing:
            await owners.create_owner(session, owner)
            report.add("owners")
    today = (now or datetime.now(UTC)).astimezone(zone(get_settings().timezone)).date()
    imported = await importer.import_csv(
        session, demo_products.csv_text(), today=today, update_existing=False
    )
    for kind, count in (
        ("owners", imported.owners_created),
        ("products", imported.products_created),
        ("certificates", imported.certificates_created),
    ):
        if count:
            report.add(kind, count)
    # Events after the products: their entries look up the products by name.
    moment = now or datetime.now(UTC)
    await seed_events(session, moment, report.add)
    await seed_experiences(session, moment, report.add)
    await seed_bookings(session, moment, report.add)
    # Orders last: they are placed for the festival's and Ngọc Quế's products.
    added = await seed_orders(session, moment)
    if added:
        report.add("orders", added)
    # One transaction, longer than a commit may take after its first write: what it wrote is
    # stamped changed again, now, just before the commit (app.core.changes).
    await restamp(session)
    return report
