"""Texts are stored in NFC, however they were typed: `Bắc Sơn` in NFD (a base letter and
combining marks) and in NFC (precomposed letters) is one name, not two."""

from __future__ import annotations

import unicodedata
from typing import Any

import httpx
import pytest
from pydantic import ConfigDict, TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import schemas
from app.models import Owner, Product
from tests.helpers import InsertProduct, OwnerFactory

pytestmark = pytest.mark.anyio


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


OWNER = "Hợp tác xã Quýt vàng Bắc Sơn"
assert nfd(OWNER) != OWNER == nfc(OWNER)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Name", "Hợp tác xã Quýt vàng Bắc Sơn"),
        ("Place", "Bắc Sơn"),
        ("ShortText", "Thôn Đông Mỏ, Hữu Lũng"),
        ("LongText", "Quýt ngọt, vỏ mỏng.\nTrà Bổ Khai."),
        ("Email", "hợp-tác-xã@bắcsơn.vn"),
        ("Url", "https://bắcsơn.vn/quýt"),
    ],
)
def test_each_shared_text_type_stores_nfc(name: str, text: str) -> None:
    # The engine of request bodies (`InputModel`): their patterns use look-ahead.
    adapter: TypeAdapter[str] = TypeAdapter(
        getattr(schemas, name), config=ConfigDict(regex_engine="python-re")
    )

    assert adapter.validate_python(nfd(text)) == nfc(text)
    assert adapter.validate_python(nfc(text)) == nfc(text)


async def test_an_owner_named_in_nfd_reads_back_in_nfc(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    response = await client.post(
        "/v1/owners",
        json={
            "name": nfd(OWNER),
            "kind": "cooperative",
            "commune": nfd("Bắc Sơn"),
            "representative": nfd("Nguyễn Văn Hải"),
            "address": nfd("Thôn Đông Mỏ"),
            "description": nfd("Quýt vàng."),
        },
        headers=admin,
    )

    assert response.status_code == 201, response.text
    created = response.json()
    read = (await client.get(f"/v1/owners/{created['id']}")).json()
    for body in (created, read):
        assert (body["name"], body["commune"], body["province"]) == (OWNER, "Bắc Sơn", "Lạng Sơn")
        assert body["representative"] == "Nguyễn Văn Hải"
        assert (body["address"], body["description"]) == ("Thôn Đông Mỏ", "Quýt vàng.")
    assert await db.scalar(select(Owner.name)) == OWNER


async def test_a_product_named_in_nfd_is_stored_in_nfc_with_its_translations(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory, db: AsyncSession
) -> None:
    owner = await make_owner()
    response = await client.post(
        "/v1/products",
        json={
            "owner_id": owner["id"],
            "name": nfd("Quýt vàng Bắc Sơn"),
            "description": nfd("Quýt ngọt."),
            "translations": {"zh": {"name": nfd("北山金橘 Bắc Sơn")}},
            "group": "food",
            "unit": "kg",
            "price_vnd": 35_000,
            "commune": nfd("Bắc Sơn"),
            "subgroup": nfd("Trái cây tươi"),
        },
        headers=admin,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["name"], body["description"], body["commune"]) == (
        "Quýt vàng Bắc Sơn",
        "Quýt ngọt.",
        "Bắc Sơn",
    )
    assert body["subgroup"] == "Trái cây tươi"
    assert body["translations"] == {"zh": {"name": "北山金橘 Bắc Sơn", "description": None}}
    assert await db.scalar(select(Product.name)) == "Quýt vàng Bắc Sơn"


@pytest.mark.parametrize("query", ["Bắc Sơn", "Quýt vàng", "Hợp tác xã Quýt"])
async def test_a_search_typed_in_nfd_finds_the_nfc_names(
    client: httpx.AsyncClient,
    insert_product: InsertProduct,
    make_owner: OwnerFactory,
    query: str,
) -> None:
    owner = await make_owner(name=OWNER)
    product = await insert_product(owner_id=owner["id"])

    products = await client.get("/v1/products", params={"q": nfd(query)})
    by_commune = await client.get("/v1/products", params={"commune": nfd("Bắc Sơn")})
    owners = await client.get("/v1/owners", params={"q": nfd("Hợp tác xã Quýt vàng")})

    assert [p["id"] for p in products.json()["items"]] == [str(product.id)]
    assert [p["id"] for p in by_commune.json()["items"]] == [str(product.id)]
    assert [o["id"] for o in owners.json()["items"]] == [owner["id"]]


async def test_an_event_found_by_its_external_ref_typed_in_nfd(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await client.post(
        "/v1/events",
        json={
            "name": nfd("Lễ hội Mùa vàng Bắc Sơn"),
            "kind": "festival",
            "starts_at": "2025-11-03T08:00:00+07:00",
            "ends_at": "2025-11-09T22:00:00+07:00",
            "commune": nfd("Bắc Sơn"),
            "venue": nfd("Quảng trường"),
            "external_refs": [{"system": "ticketbox", "id": nfd("mùa-vàng-2025")}],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Lễ hội Mùa vàng Bắc Sơn"
    assert created.json()["external_refs"] == [{"system": "ticketbox", "id": "mùa-vàng-2025"}]

    for typed in (nfd, nfc):
        found = await client.get(
            "/v1/events", params={"external_ref": "ticketbox:" + typed("mùa-vàng-2025")}
        )

        assert [e["id"] for e in found.json()["items"]] == [created.json()["id"]]


HEADER = "owner_name,product_name,group,unit,price_vnd,commune,owner_kind,name_en\n"


async def import_csv(client: httpx.AsyncClient, admin: dict[str, str], body: str) -> Any:
    response = await client.post(
        "/v1/products/import",
        content=body.encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_importing_nfd_names_creates_no_second_owner_and_stores_nfc(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    row = "{owner},{product},food,kg,35000,{commune},cooperative,{english}\n"
    spelt = {"owner": OWNER, "product": "Quýt vàng", "commune": "Bắc Sơn", "english": "Mandarin"}
    first = await import_csv(
        client, admin, HEADER + row.format(**{k: nfd(v) for k, v in spelt.items()})
    )
    again = await import_csv(client, admin, HEADER + row.format(**spelt))

    assert (first["owners_created"], first["products_created"]) == (1, 1)
    assert (again["owners_created"], again["products_created"]) == (0, 0)
    assert (again["products_updated"], again["products_unchanged"]) == (0, 1)
    await db.rollback()
    assert await db.scalar(select(func.count()).select_from(Owner)) == 1
    assert (await db.execute(select(Owner.name, Owner.commune))).one() == (OWNER, "Bắc Sơn")
    assert (await db.execute(select(Product.name, Product.commune))).one() == (
        "Quýt vàng",
        "Bắc Sơn",
    )
