from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

from app.core.text import fold
from app.models import Commune, Province

pytestmark = pytest.mark.anyio

PACKAGE = json.loads(NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
LANG_SON = "20"


async def test_the_reference_tables_hold_the_package_s_34_provinces_and_every_commune(
    db: AsyncSession,
) -> None:
    provinces = await db.scalar(select(func.count()).select_from(Province))
    communes = await db.scalar(select(func.count()).select_from(Commune))

    assert (provinces, communes) == (34, sum(len(p["wards"]) for p in PACKAGE))


async def test_the_migration_folds_names_as_the_application_does(db: AsyncSession) -> None:
    rows = (await db.execute(select(Commune.name, Commune.name_key))).all()

    assert [key for _, key in rows] == [fold(name) for name, _ in rows]


async def test_lang_son_lists_its_65_communes_with_bac_son_huu_lung_and_tan_thanh(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get(f"/v1/geography/provinces/{LANG_SON}/communes?limit=50")
    second = await client.get(
        f"/v1/geography/provinces/{LANG_SON}/communes",
        params={"limit": 50, "cursor": first.json()["next_cursor"]},
    )

    items = first.json()["items"] + second.json()["items"]
    names = {item["name"] for item in items}
    assert len(items) == 65
    assert second.json()["next_cursor"] is None
    assert {"Xã Bắc Sơn", "Xã Hữu Lũng", "Xã Tân Thành"} <= names
    assert {item["province_code"] for item in items} == {LANG_SON}


async def test_the_provinces_list_is_the_34_by_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/geography/provinces?limit=100")

    codes = [item["code"] for item in response.json()["items"]]
    assert len(codes) == 34
    assert codes == sorted(codes)
    assert {"code": "20", "name": "Lạng Sơn", "kind": "tỉnh", "codename": "lang_son"} in (
        response.json()["items"]
    )


async def test_q_finds_communes_without_accents(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"/v1/geography/provinces/{LANG_SON}/communes", params={"q": "HUU LUNG"}
    )

    assert [item["name"] for item in response.json()["items"]] == ["Xã Hữu Lũng"]


async def test_q_finds_provinces_without_accents(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/geography/provinces", params={"q": "lang son"})

    assert [item["code"] for item in response.json()["items"]] == [LANG_SON]


async def test_the_communes_list_answers_304_to_its_own_etag(client: httpx.AsyncClient) -> None:
    url = f"/v1/geography/provinces/{LANG_SON}/communes"
    first = await client.get(url)

    again = await client.get(url, headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304


async def test_an_unknown_province_s_communes_are_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/geography/provinces/99/communes")

    assert response.status_code == 404
