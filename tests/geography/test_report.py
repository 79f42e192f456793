from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Owner
from tests.helpers import InsertProduct, OwnerFactory, ocop

pytestmark = pytest.mark.anyio


async def test_the_report_lists_a_row_whose_commune_does_not_resolve_with_its_id(
    database_url: str, make_owner: OwnerFactory, insert_product: InsertProduct
) -> None:
    owner = await make_owner(name="HTX Hữu Lũng", commune="xã Hữu Lũng", province="Lạng Sơn")
    # Written before codes existed (the API refuses it now): free text that names no commune.
    bad = await insert_product(owner_id=owner["id"], commune="Atlantis")

    result = ocop(database_url, "geography", "report")

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"products {bad.id} commune='Atlantis' province='Lạng Sơn': unknown_commune "
        "(candidates: none)",
        "1 row(s) whose commune does not resolve",
    ]
    assert owner["id"] not in result.stdout


async def test_the_report_of_resolving_rows_is_empty_and_succeeds(
    database_url: str, client: httpx.AsyncClient
) -> None:
    result = ocop(database_url, "geography", "report")

    assert (result.returncode, result.stdout) == (0, "0 row(s) whose commune does not resolve\n")


@pytest.mark.slow
async def test_every_demo_owner_product_and_event_names_a_commune_that_resolves(
    database_url: str, client: httpx.AsyncClient
) -> None:
    assert ocop(database_url, "seed-demo").returncode == 0

    result = ocop(database_url, "geography", "report")

    assert (result.returncode, result.stdout) == (0, "0 row(s) whose commune does not resolve\n")


async def test_fill_places_rows_written_before_codes_and_keeps_their_updated_at(
    database_url: str, db: AsyncSession, make_owner: OwnerFactory
) -> None:
    written_before = await make_owner(name="HTX Hữu Lũng", commune="Huu Lung")
    owner_id = uuid.UUID(written_before["id"])
    await db.execute(
        update(Owner)
        .where(Owner.id == owner_id)
        .values(
            commune="huu lung",
            commune_code=None,
            commune_name=None,
            province="lang son",
            province_code=None,
            updated_at=Owner.updated_at,
        )
    )
    await db.commit()

    result = ocop(database_url, "geography", "fill")

    assert (result.returncode, result.stdout) == (0, "1 row(s) given their commune's code\n")
    row = (await db.execute(select(Owner).where(Owner.id == owner_id))).scalar_one()
    assert (
        row.commune,
        row.commune_key,
        row.commune_code,
        row.commune_name,
        row.province,
        row.province_key,
        row.province_code,
    ) == ("Hữu Lũng", "huu lung", "06385", "Xã Hữu Lũng", "Lạng Sơn", "lang son", "20")
    assert row.updated_at.isoformat().replace("+00:00", "Z") == written_before["updated_at"]
