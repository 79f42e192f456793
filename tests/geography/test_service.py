from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Unprocessable
from app.geography.service import resolve_commune

pytestmark = pytest.mark.anyio

HUU_LUNG = "06385"
TAN_THANH = "06445"


@pytest.mark.parametrize("value", ["Huu Lung", "xã Hữu Lũng", "XA HUU LUNG", HUU_LUNG, "6385"])
async def test_a_code_or_a_name_without_accents_case_or_kind_gives_the_same_commune(
    db: AsyncSession, value: str
) -> None:
    commune = await resolve_commune(db, value)

    assert (commune.code, commune.name, commune.province_code) == (HUU_LUNG, "Xã Hữu Lũng", "20")


async def test_a_province_by_name_narrows_an_ambiguous_name(db: AsyncSession) -> None:
    commune = await resolve_commune(db, "Tan Thanh", province="tỉnh Lạng Sơn")

    assert (commune.code, commune.name) == (TAN_THANH, "Xã Tân Thành")


async def test_accents_typed_pick_the_one_commune_spelled_so(db: AsyncSession) -> None:
    # "Thanh Xuan" folds both Phường Thanh Xuân (Hà Nội) and Xã Thạnh Xuân (Cần Thơ).
    commune = await resolve_commune(db, "Thạnh Xuân")

    assert (commune.code, commune.name) == ("31360", "Xã Thạnh Xuân")


async def test_an_ambiguous_name_is_422_listing_every_candidate(db: AsyncSession) -> None:
    with pytest.raises(Unprocessable) as raised:
        await resolve_commune(db, "Tân Thành")

    assert raised.value.instance_code == "ambiguous_commune"
    candidates = raised.value.extra["candidates"]
    assert len(candidates) == 15
    assert {
        "code": TAN_THANH,
        "name": "Xã Tân Thành",
        "province_code": "20",
        "province_name": "Lạng Sơn",
    } in candidates


async def test_an_unknown_name_is_422_listing_near_candidates(db: AsyncSession) -> None:
    with pytest.raises(Unprocessable) as raised:
        await resolve_commune(db, "Hữu", province="20")

    assert raised.value.instance_code == "unknown_commune"
    assert [c["name"] for c in raised.value.extra["candidates"]] == ["Xã Hữu Lũng", "Xã Hữu Liên"]


async def test_a_code_outside_the_given_province_is_unknown(db: AsyncSession) -> None:
    with pytest.raises(Unprocessable) as raised:
        await resolve_commune(db, HUU_LUNG, province="01")

    assert raised.value.instance_code == "unknown_commune"


async def test_an_unknown_province_is_422(db: AsyncSession) -> None:
    with pytest.raises(Unprocessable) as raised:
        await resolve_commune(db, "Hữu Lũng", province="Atlantis")

    assert raised.value.instance_code == "unknown_province"
