from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.core.i18n import LanguagePreference
from tests.helpers import CreateProductViaApi

pytestmark = pytest.mark.anyio

EN_NAME, EN_DESCRIPTION = "Bac Son golden mandarin", "Sweet, thin-skinned mandarins."
VI_NAME, VI_DESCRIPTION = "Quýt vàng Bắc Sơn", "Quýt ngọt, vỏ mỏng."
TRANSLATIONS = {
    "en": {"name": EN_NAME, "description": EN_DESCRIPTION},
    "zh": {"name": "北山金橘"},
}


@pytest.fixture
async def mandarin(create_product_via_api: CreateProductViaApi) -> dict[str, Any]:
    return await create_product_via_api(description=VI_DESCRIPTION, translations=TRANSLATIONS)


@pytest.mark.parametrize(
    ("accept", "name", "description", "content_language"),
    [
        # A full translation: both texts in English, and said to be.
        ("en", (EN_NAME, "en"), (EN_DESCRIPTION, "en"), "en"),
        ("en-US,en;q=0.9", (EN_NAME, "en"), (EN_DESCRIPTION, "en"), "en"),
        ("ko, zh;q=0.5, en;q=0.8", (EN_NAME, "en"), (EN_DESCRIPTION, "en"), "en"),
        # A partial one: the name in Chinese, the description falls back to Vietnamese.
        ("zh", ("北山金橘", "zh"), (VI_DESCRIPTION, "vi"), "vi, zh"),
        ("en;q=0, zh", ("北山金橘", "zh"), (VI_DESCRIPTION, "vi"), "vi, zh"),
        # None: Vietnamese, labelled so, whatever was asked for.
        ("fr", (VI_NAME, "vi"), (VI_DESCRIPTION, "vi"), "vi"),
        (None, (VI_NAME, "vi"), (VI_DESCRIPTION, "vi"), "vi"),
    ],
)
async def test_each_text_says_the_language_it_is_in(
    client: httpx.AsyncClient,
    mandarin: dict[str, Any],
    accept: str | None,
    name: tuple[str, str],
    description: tuple[str, str],
    content_language: str,
) -> None:
    headers = {} if accept is None else {"Accept-Language": accept}
    response = await client.get(f"/v1/products/{mandarin['id']}", headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["language"]) == name
    assert (body["description"], body["description_language"]) == description
    assert response.headers["content-language"] == content_language
    assert response.headers["vary"] == "Accept-Language, Authorization"
    assert body["translations"]["en"]["name"] == EN_NAME


async def test_a_product_without_a_description_has_no_description_language(
    client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    product = await create_product_via_api(translations={"en": {"name": "Star anise"}})

    response = await client.get(f"/v1/products/{product['id']}", headers={"Accept-Language": "en"})

    body = response.json()
    assert (body["language"], body["description"], body["description_language"]) == (
        "en",
        None,
        None,
    )
    assert response.headers["content-language"] == "en"


async def test_etag_differs_by_representation(
    client: httpx.AsyncClient, mandarin: dict[str, Any]
) -> None:
    url = f"/v1/products/{mandarin['id']}"
    tags = {
        accept: (await client.get(url, headers={"Accept-Language": accept})).headers["etag"]
        for accept in ("en", "zh", "vi")
    }
    again = (await client.get(url, headers={"Accept-Language": "zh"})).headers["etag"]

    assert len(set(tags.values())) == 3
    assert again == tags["zh"]
    # The versions agree: a tag read in any language names the same version.
    assert len({tag.strip('"').partition("-")[0] for tag in tags.values()}) == 1
    stale = await client.get(url, headers={"If-None-Match": tags["en"], "Accept-Language": "zh"})
    assert stale.status_code == 200
    cached = await client.get(url, headers={"If-None-Match": tags["zh"], "Accept-Language": "zh"})
    assert cached.status_code == 304
    assert cached.headers["content-language"] == "vi, zh"


async def test_list_is_localised_and_says_so(
    client: httpx.AsyncClient, mandarin: dict[str, Any], create_product_via_api: CreateProductViaApi
) -> None:
    await create_product_via_api(name="Trà Bổ Khai", description="Trà thảo mộc.")

    response = await client.get(
        "/v1/products", params={"sort": "name"}, headers={"Accept-Language": "en"}
    )

    assert [
        (p["name"], p["language"], p["description_language"]) for p in response.json()["items"]
    ] == [
        (EN_NAME, "en", "en"),
        ("Trà Bổ Khai", "vi", "vi"),
    ]
    assert response.headers["content-language"] == "en, vi"
    assert response.headers["vary"] == "Accept-Language, Accept-Encoding, Authorization"


async def test_list_names_every_language_of_partial_translations(
    client: httpx.AsyncClient, mandarin: dict[str, Any]
) -> None:
    response = await client.get("/v1/products", headers={"Accept-Language": "zh"})

    [item] = response.json()["items"]
    assert (item["language"], item["description_language"]) == ("zh", "vi")
    assert response.headers["content-language"] == "vi, zh"


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
