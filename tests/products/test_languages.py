from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.core.i18n import LanguagePreference
from tests.helpers import CreateProductViaApi

pytestmark = pytest.mark.anyio

TRANSLATIONS = {
    "en": {"name": "Bac Son golden mandarin", "description": "Sweet, thin-skinned mandarins."},
    "zh": {"name": "北山金橘"},
}


@pytest.fixture
async def mandarin(create_product_via_api: CreateProductViaApi) -> dict[str, Any]:
    return await create_product_via_api(
        description="Quýt ngọt, vỏ mỏng.", translations=TRANSLATIONS
    )


@pytest.mark.parametrize(
    ("accept", "language", "name", "description"),
    [
        ("en", "en", "Bac Son golden mandarin", "Sweet, thin-skinned mandarins."),
        ("en-US,en;q=0.9", "en", "Bac Son golden mandarin", "Sweet, thin-skinned mandarins."),
        ("zh", "zh", "北山金橘", "Quýt ngọt, vỏ mỏng."),
        (
            "ko, zh;q=0.5, en;q=0.8",
            "en",
            "Bac Son golden mandarin",
            "Sweet, thin-skinned mandarins.",
        ),
        ("fr", "vi", "Quýt vàng Bắc Sơn", "Quýt ngọt, vỏ mỏng."),
        ("en;q=0, zh", "zh", "北山金橘", "Quýt ngọt, vỏ mỏng."),
    ],
)
async def test_name_and_description_in_the_best_language(
    client: httpx.AsyncClient,
    mandarin: dict[str, Any],
    accept: str,
    language: str,
    name: str,
    description: str,
) -> None:
    response = await client.get(
        f"/v1/products/{mandarin['id']}", headers={"Accept-Language": accept}
    )

    assert response.status_code == 200
    body = response.json()
    assert response.headers["content-language"] == language
    assert body["language"] == language
    assert (body["name"], body["description"]) == (name, description)
    assert body["translations"]["en"]["name"] == "Bac Son golden mandarin"


async def test_etag_differs_by_language(
    client: httpx.AsyncClient, mandarin: dict[str, Any]
) -> None:
    url = f"/v1/products/{mandarin['id']}"
    english = await client.get(url, headers={"Accept-Language": "en"})
    vietnamese = await client.get(url)

    assert english.headers["etag"] != vietnamese.headers["etag"]
    assert english.headers["vary"] == "Accept-Language, Authorization"
    stale = await client.get(url, headers={"If-None-Match": english.headers["etag"]})
    assert stale.status_code == 200


async def test_list_is_localised_and_says_so(
    client: httpx.AsyncClient, mandarin: dict[str, Any], create_product_via_api: CreateProductViaApi
) -> None:
    await create_product_via_api(name="Trà Bổ Khai")

    response = await client.get(
        "/v1/products", params={"sort": "name"}, headers={"Accept-Language": "en"}
    )

    assert [p["name"] for p in response.json()["items"]] == [
        "Bac Son golden mandarin",
        "Trà Bổ Khai",
    ]
    assert response.headers["content-language"] == "en, vi"


async def test_search_finds_a_translated_name(
    client: httpx.AsyncClient, mandarin: dict[str, Any]
) -> None:
    response = await client.get("/v1/products", params={"q": "golden mandarin"})

    assert [p["id"] for p in response.json()["items"]] == [mandarin["id"]]


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        (None, ()),
        ("en", ("en",)),
        ("fr;q=0.5, en, de;q=0.7", ("en", "de", "fr")),
        ("EN-gb ; q=0.9 , *;q=0.1", ("en-gb", "*")),
        ("en;q=abc, zh", ("zh",)),
    ],
)
def test_accept_language_parsing(header: str | None, ranges: tuple[str, ...]) -> None:
    assert LanguagePreference.parse(header).ranges == ranges
