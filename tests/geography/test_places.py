from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, Owner, Product
from tests.database import PROJECT_ROOT
from tests.helpers import OwnerFactory, vn

pytestmark = pytest.mark.anyio

HUU_LUNG = "06385"
BAC_SON = "06325"


async def code_of(db: AsyncSession, model: type[Owner | Product | Event], id_: str) -> str | None:
    code = await db.scalar(select(model.commune_code).where(model.id == uuid.UUID(id_)))
    await db.rollback()  # the next read sees what was written since
    return code


async def test_an_owner_s_free_text_commune_is_resolved_to_its_code(
    db: AsyncSession, make_owner: OwnerFactory
) -> None:
    owner = await make_owner(commune="xa Huu Lung")

    assert (owner["commune"], await code_of(db, Owner, owner["id"])) == ("xa Huu Lung", HUU_LUNG)


async def test_a_commune_that_does_not_resolve_is_kept_without_a_code(
    db: AsyncSession, client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner(commune="Hữu Lũng")

    response = await client.patch(
        f"/v1/owners/{owner['id']}", json={"commune": "Atlantis"}, headers=admin
    )

    assert (response.status_code, response.json()["commune"]) == (200, "Atlantis")
    assert await code_of(db, Owner, owner["id"]) is None


async def test_a_product_s_commune_is_resolved_on_create_and_on_update(
    db: AsyncSession, client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner()
    body = {
        "owner_id": owner["id"],
        "name": "Quýt vàng Bắc Sơn",
        "group": "food",
        "unit": "kg",
        "price_vnd": 45000,
        "commune": "Bắc Sơn",
    }
    product = (await client.post("/v1/products", json=body, headers=admin)).json()
    created = await code_of(db, Product, product["id"])

    patched = await client.patch(
        f"/v1/products/{product['id']}", json={"commune": "Huu Lung"}, headers=admin
    )

    assert patched.status_code == 200, patched.text
    assert (created, await code_of(db, Product, product["id"])) == (BAC_SON, HUU_LUNG)


async def test_an_event_s_commune_is_resolved_on_create_and_on_update(
    db: AsyncSession, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {
        "name": "Lễ hội Mùa vàng Bắc Sơn",
        "kind": "festival",
        "starts_at": vn(3, 8).isoformat(),
        "ends_at": vn(9, 22).isoformat(),
        "commune": "Bắc Sơn",
    }
    event = (await client.post("/v1/events", json=body, headers=admin)).json()
    created = await code_of(db, Event, event["id"])

    patched = await client.patch(
        f"/v1/events/{event['id']}", json={"commune": "Hữu Lũng"}, headers=admin
    )

    assert patched.status_code == 200, patched.text
    assert (created, await code_of(db, Event, event["id"])) == (BAC_SON, HUU_LUNG)


async def test_every_owner_and_product_of_the_example_csv_gets_its_commune_code(
    db: AsyncSession, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    example = PROJECT_ROOT / "examples" / "products.csv"

    response = await client.post(
        "/v1/products/import",
        content=example.read_bytes(),
        headers={**admin, "content-type": "text/csv; charset=utf-8"},
    )

    assert response.status_code == 200, response.text
    codes = [
        *(await db.scalars(select(Owner.commune_code))).all(),
        *(await db.scalars(select(Product.commune_code))).all(),
    ]
    assert len(codes) == 11 + response.json()["products_created"]
    assert None not in codes
