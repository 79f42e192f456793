"""`If-Match` names a version of the resource, whatever language (or zone) the client read it
in; `If-None-Match` (304) stays per representation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import (
    CreateProductViaApi,
    problem,
)

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
async def mandarin(create_product_via_api: CreateProductViaApi) -> dict[str, Any]:
    return await create_product_via_api(
        description="Quýt ngọt, vỏ mỏng.",
        translations={"en": {"name": "Bac Son golden mandarin"}, "zh": {"name": "北山金橘"}},
    )


async def test_a_product_read_in_english_is_changed_with_its_english_tag(
    client: httpx.AsyncClient, admin: dict[str, str], mandarin: dict[str, Any]
) -> None:
    url = f"/v1/products/{mandarin['id']}"
    english = await client.get(url, headers=ENGLISH)
    assert english.json()["language"] == "en"

    response = await client.patch(
        url, json={"price_vnd": 40_000}, headers={**admin, "If-Match": english.headers["etag"]}
    )

    assert response.status_code == 200, response.text
    assert response.json()["price_vnd"] == 40_000


@pytest.mark.parametrize("reader", [{"Accept-Language": "en"}, {"Accept-Language": "zh"}, {}])
@pytest.mark.parametrize("writer", [{"Accept-Language": "en"}, {"Accept-Language": "zh"}, {}])
async def test_a_product_tag_from_any_language_fits_a_write_in_any_language(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    mandarin: dict[str, Any],
    reader: dict[str, str],
    writer: dict[str, str],
) -> None:
    url = f"/v1/products/{mandarin['id']}"
    etag = (await client.get(url, headers=reader)).headers["etag"]

    response = await client.patch(
        url, json={"stock": 50}, headers={**admin, **writer, "If-Match": etag}
    )

    assert response.status_code == 200, response.text


async def test_after_a_change_the_old_english_product_tag_is_412(
    client: httpx.AsyncClient, admin: dict[str, str], mandarin: dict[str, Any]
) -> None:
    url = f"/v1/products/{mandarin['id']}"
    stale = (await client.get(url, headers=ENGLISH)).headers["etag"]
    changed = await client.patch(url, json={"price_vnd": 40_000}, headers=admin)
    assert changed.status_code == 200

    for headers in (ENGLISH, {}):
        response = await client.patch(
            url, json={"price_vnd": 1}, headers={**admin, **headers, "If-Match": stale}
        )

        assert response.status_code == 412
        assert problem(response)["code"] == "etag_mismatch"
    assert (await client.get(url)).json()["price_vnd"] == 40_000


async def test_a_change_of_a_translation_alone_is_a_new_version(
    client: httpx.AsyncClient, admin: dict[str, str], mandarin: dict[str, Any]
) -> None:
    url = f"/v1/products/{mandarin['id']}"
    vietnamese = (await client.get(url)).headers["etag"]
    translations = {"en": {"name": "Golden mandarin"}, "zh": {"name": "北山金橘"}}
    assert (
        await client.patch(url, json={"translations": translations}, headers=admin)
    ).status_code == 200

    response = await client.patch(
        url, json={"price_vnd": 1}, headers={**admin, "If-Match": vietnamese}
    )

    assert response.status_code == 412


async def test_if_none_match_stays_per_language(
    client: httpx.AsyncClient, mandarin: dict[str, Any]
) -> None:
    from app.core.http import etag_version

    url = f"/v1/products/{mandarin['id']}"
    english = await client.get(url, headers=ENGLISH)
    vietnamese = await client.get(url)

    assert english.headers["etag"] != vietnamese.headers["etag"]
    assert etag_version(english.headers["etag"]) == etag_version(vietnamese.headers["etag"])
    assert (
        await client.get(url, headers={**ENGLISH, "If-None-Match": english.headers["etag"]})
    ).status_code == 304
    assert (
        await client.get(url, headers={"If-None-Match": english.headers["etag"]})
    ).status_code == 200
