"""Every demo owner, product, event and experience is placed: after `ocop seed-demo` each names
a commune of the official list by its code, with that commune's names and province."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.experiences import DEMO_EXPERIENCES
from app.geography.service import short_name
from app.models import Commune, Event, Experience, Owner, Product, Province
from tests.helpers import ocop

pytestmark = pytest.mark.anyio


@pytest.mark.slow
async def test_every_demo_owner_product_event_and_experience_has_a_valid_commune_code(
    database_url: str, db: AsyncSession, client: httpx.AsyncClient
) -> None:
    assert ocop(database_url, "seed-demo").returncode == 0

    for model in (Owner, Product, Event):
        rows = (
            await db.execute(
                select(
                    model.commune,
                    model.commune_code,
                    model.commune_name,
                    model.province,
                    model.province_code,
                    Commune,
                    Province.name,
                )
                .outerjoin(Commune, Commune.code == model.commune_code)
                .outerjoin(Province, Province.code == Commune.province_code)
            )
        ).all()
        total = await db.scalar(select(func.count()).select_from(model))
        assert len(rows) == total, model
        misplaced = [
            row
            for row in rows
            if row.Commune is None
            or (row.commune, row.commune_name, row.province, row.province_code)
            != (short_name(row.Commune), row.Commune.name, row.name, row.Commune.province_code)
        ]
        assert misplaced == [], model
    experiences = (
        await db.scalars(
            select(Product.commune_code)
            .join(Experience, Experience.product_id == Product.id)
            .join(Commune, Commune.code == Product.commune_code)
        )
    ).all()
    assert len(experiences) == len(DEMO_EXPERIENCES)
