"""Owners, products and events are placed by commune code: resolved on every write, refused
with candidates when the commune names none or several, filtered by code."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, Owner, Product
from tests.database import PROJECT_ROOT
from tests.helpers import InsertEvent, InsertProduct, OwnerFactory, vn

pytestmark = pytest.mark.anyio

HUU_LUNG = "06385"
BAC_SON = "06325"
PLACE_FIELDS = ("commune", "commune_code", "commune_name", "province", "province_code")
AT_HUU_LUNG = ("Hữu Lũng", HUU_LUNG, "Xã Hữu Lũng", "Lạng Sơn", "20")
AT_BAC_SON = ("Bắc Sơn", BAC_SON, "Xã Bắc Sơn", "Lạng Sơn", "20")


def place_of(body: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(body[field] for field in PLACE_FIELDS)


async def stored_place(
    db: AsyncSession, model: type[Owner | Product | Event], id_: str
) -> tuple[Any, ...]:
    columns = [getattr(model, field) for field in PLACE_FIELDS]
    row = (await db.execute(select(*columns).where(model.id == uuid.UUID(id_)))).one()
    await db.rollback()  # the next read sees what was written since
    return tuple(row)


def product_body(owner_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "owner_id": owner_id,
        "name": "Quýt vàng Bắc Sơn",
        "group": "food",
        "unit": "kg",
        "price_vnd": 45000,
        "commune": "Bắc Sơn",
        **fields,
    }


def event_body(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Lễ hội Mùa vàng Bắc Sơn",
        "kind": "festival",
        "starts_at": vn(3, 8).isoformat(),
        "ends_at": vn(9, 22).isoformat(),
        "commune": "Bắc Sơn",
        **fields,
    }


@pytest.mark.parametrize("commune", ["Huu Lung", "xã Hữu Lũng", "XA HUU LUNG", HUU_LUNG, "6385"])
async def test_a_name_or_the_code_of_a_commune_gives_the_same_commune(
    db: AsyncSession, make_owner: OwnerFactory, commune: str
) -> None:
    owner = await make_owner(commune=commune)

    assert place_of(owner) == AT_HUU_LUNG
    assert await stored_place(db, Owner, owner["id"]) == AT_HUU_LUNG


async def test_the_province_is_given_by_code_or_name_and_stored_as_its_official_name(
    make_owner: OwnerFactory,
) -> None:
    by_code = await make_owner(name="HTX Một", commune="Hoan Kiem", province="01")
    by_name = await make_owner(name="HTX Hai", commune="Hoàn Kiếm", province="ha noi")

    expected = ("Hoàn Kiếm", "00070", "Phường Hoàn Kiếm", "Thành phố Hà Nội", "01")
    assert (place_of(by_code), place_of(by_name)) == (expected, expected)


async def test_an_unknown_commune_is_refused_with_the_near_candidates(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"name": "HTX Hữu", "kind": "cooperative", "commune": "Huu"}

    response = await client.post("/v1/owners", json=body, headers=admin)

    problem = response.json()
    assert (response.status_code, problem["code"], problem["errors"][0]["loc"]) == (
        422,
        "unknown_commune",
        ["body", "commune"],
    )
    assert [c["name"] for c in problem["candidates"]] == ["Xã Hữu Lũng", "Xã Hữu Liên"]


async def test_an_ambiguous_commune_is_refused_with_its_candidates(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # Tây Ninh has Xã Tân Thạnh and Xã Tân Thành: without accents the name is either.
    body = {"name": "HTX Tân", "kind": "cooperative", "commune": "Tan Thanh", "province": "80"}

    response = await client.post("/v1/owners", json=body, headers=admin)

    problem = response.json()
    assert (response.status_code, problem["code"]) == (422, "ambiguous_commune")
    assert sorted((c["name"], c["province_code"]) for c in problem["candidates"]) == [
        ("Xã Tân Thành", "80"),
        ("Xã Tân Thạnh", "80"),
    ]


async def test_an_accented_name_picks_the_one_commune_spelled_so(
    make_owner: OwnerFactory,
) -> None:
    owner = await make_owner(commune="Tân Thạnh", province="Tây Ninh")

    assert (owner["commune"], owner["commune_name"], owner["province"]) == (
        "Tân Thạnh",
        "Xã Tân Thạnh",
        "Tây Ninh",
    )


async def test_an_unknown_province_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"name": "HTX", "kind": "cooperative", "commune": "Bắc Sơn", "province": "Atlantis"}

    response = await client.post("/v1/owners", json=body, headers=admin)

    problem = response.json()
    assert (response.status_code, problem["code"], problem["errors"][0]["loc"]) == (
        422,
        "unknown_province",
        ["body", "province"],
    )


async def test_a_commune_of_another_province_is_refused_in_the_row_s_province(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"name": "HTX", "kind": "cooperative", "commune": "Hoàn Kiếm"}  # in Hà Nội

    response = await client.post("/v1/owners", json=body, headers=admin)

    assert (response.status_code, response.json()["code"]) == (422, "unknown_commune")


async def test_a_patch_to_a_commune_that_names_none_is_refused_and_changes_nothing(
    db: AsyncSession, client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner(commune="Hữu Lũng")

    response = await client.patch(
        f"/v1/owners/{owner['id']}", json={"commune": "Atlantis"}, headers=admin
    )

    assert (response.status_code, response.json()["code"]) == (422, "unknown_commune")
    assert await stored_place(db, Owner, owner["id"]) == AT_HUU_LUNG


async def test_a_product_is_placed_on_create_and_on_update(
    db: AsyncSession, client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner()
    product = (
        await client.post("/v1/products", json=product_body(owner["id"]), headers=admin)
    ).json()

    patched = await client.patch(
        f"/v1/products/{product['id']}", json={"commune": "Huu Lung"}, headers=admin
    )

    assert patched.status_code == 200, patched.text
    assert (place_of(product), place_of(patched.json())) == (AT_BAC_SON, AT_HUU_LUNG)
    assert await stored_place(db, Product, product["id"]) == AT_HUU_LUNG


async def test_a_product_in_a_commune_that_names_none_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner()

    response = await client.post(
        "/v1/products", json=product_body(owner["id"], commune="Atlantis"), headers=admin
    )

    assert (response.status_code, response.json()["code"]) == (422, "unknown_commune")


async def test_an_event_is_placed_on_create_and_on_update(
    db: AsyncSession, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    event = (await client.post("/v1/events", json=event_body(), headers=admin)).json()

    patched = await client.patch(
        f"/v1/events/{event['id']}", json={"commune": HUU_LUNG}, headers=admin
    )
    refused = await client.patch(
        f"/v1/events/{event['id']}", json={"commune": "Atlantis"}, headers=admin
    )

    assert patched.status_code == 200, patched.text
    assert (place_of(event), place_of(patched.json())) == (AT_BAC_SON, AT_HUU_LUNG)
    assert (refused.status_code, refused.json()["code"]) == (422, "unknown_commune")
    assert await stored_place(db, Event, event["id"]) == AT_HUU_LUNG


async def test_every_owner_and_product_of_the_example_csv_is_placed(
    db: AsyncSession, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    example = PROJECT_ROOT / "examples" / "products.csv"

    response = await client.post(
        "/v1/products/import",
        content=example.read_bytes(),
        headers={**admin, "content-type": "text/csv; charset=utf-8"},
    )

    assert response.status_code == 200, response.text
    rows = [
        *(await db.execute(select(Owner.commune_code, Owner.province_code))).all(),
        *(await db.execute(select(Product.commune_code, Product.province_code))).all(),
    ]
    assert len(rows) == 11 + response.json()["products_created"]
    assert {province for _, province in rows} == {"20"}
    assert None not in {code for code, _ in rows}


async def test_an_imported_row_whose_commune_names_none_is_refused_with_its_line(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    text = (
        "owner_name,product_name,group,unit,price_vnd,commune,owner_kind\n"
        "HTX Bắc Sơn,Quýt vàng,food,kg,35000,Bac Son,cooperative\n"
        "HTX Hữu,Trà,beverage,box,85000,Huu,cooperative\n"
    )

    response = await client.post(
        "/v1/products/import",
        content=text.encode(),
        headers={**admin, "content-type": "text/csv; charset=utf-8"},
    )

    problem = response.json()
    assert (response.status_code, problem["code"]) == (422, "invalid_rows")
    assert [(e["loc"], e["msg"]) for e in problem["errors"]] == [
        (
            ["body", 3, "commune"],
            "line 3: No commune 'Huu' in Lạng Sơn. Candidates: 06385 Xã Hữu Lũng (Lạng Sơn), "
            "06400 Xã Hữu Liên (Lạng Sơn)",
        )
    ]


async def test_an_imported_name_of_the_commune_a_product_is_in_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    text = (
        "owner_name,product_name,group,unit,price_vnd,commune,owner_kind\n"
        "HTX Bắc Sơn,Quýt vàng,food,kg,35000,{commune},cooperative\n"
    )
    headers = {**admin, "content-type": "text/csv; charset=utf-8"}
    first = await client.post(
        "/v1/products/import", content=text.format(commune="Bắc Sơn").encode(), headers=headers
    )

    again = await client.post(
        "/v1/products/import", content=text.format(commune="xa bac son").encode(), headers=headers
    )

    assert first.status_code == 200, first.text
    assert (again.json()["products_updated"], again.json()["products_unchanged"]) == (0, 1)


@pytest.mark.parametrize("commune", ["Huu Lung", "xã Hữu Lũng", HUU_LUNG])
async def test_the_commune_filters_match_by_code(
    client: httpx.AsyncClient,
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    commune: str,
) -> None:
    here = await make_owner(name="HTX Hữu Lũng", commune="Hữu Lũng")
    await make_owner(name="HTX Bắc Sơn", commune="Bắc Sơn")
    product = await insert_product(owner_id=here["id"], commune="huu lung")
    await insert_product(commune="Bắc Sơn")
    event = await insert_event(commune="Xã Hữu Lũng")
    await insert_event(commune="Bắc Sơn")
    query = {"commune": commune}

    owners = (await client.get("/v1/owners", params=query)).json()["items"]
    products = (await client.get("/v1/products", params=query)).json()["items"]
    events = (await client.get("/v1/events", params=query)).json()["items"]

    assert [o["id"] for o in owners] == [here["id"]]
    assert [p["id"] for p in products] == [str(product.id)]
    assert [e["id"] for e in events] == [str(event.id)]


async def test_a_province_filter_matches_by_code(
    client: httpx.AsyncClient, make_owner: OwnerFactory
) -> None:
    hanoi = await make_owner(name="HTX Hà Nội", commune="Hoàn Kiếm", province="Hà Nội")
    await make_owner(name="HTX Bắc Sơn", commune="Bắc Sơn")

    by_name = (await client.get("/v1/owners", params={"province": "ha noi"})).json()["items"]
    by_code = (await client.get("/v1/owners", params={"province": "01"})).json()["items"]
    in_it = await client.get("/v1/owners", params={"province": "01", "commune": "hoan kiem"})

    assert [o["id"] for o in by_name] == [o["id"] for o in by_code] == [hanoi["id"]]
    assert [o["id"] for o in in_it.json()["items"]] == [hanoi["id"]]


@pytest.mark.parametrize("path", ["/v1/owners", "/v1/products", "/v1/events"])
async def test_a_commune_filter_that_names_none_is_refused_with_candidates(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, params={"commune": "Huu"})

    problem = response.json()
    assert (response.status_code, problem["code"], problem["errors"][0]["loc"]) == (
        422,
        "unknown_commune",
        ["query", "commune"],
    )
    assert [c["name"] for c in problem["candidates"]] == ["Xã Hữu Lũng", "Xã Hữu Liên"]
