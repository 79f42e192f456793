"""`If-Match` names a version of the resource, whatever language (or zone) the client read it
in; `If-None-Match` (304) stays per representation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import (
    CreateEventViaApi,
    InsertEvent,
    InsertProduct,
)

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
async def festival(create_event_via_api: CreateEventViaApi) -> dict[str, Any]:
    return await create_event_via_api(
        description="Lễ hội quýt.",
        translations={"en": {"name": "Bac Son Golden Season"}},
    )


@pytest.mark.parametrize(
    "reader",
    [ENGLISH, {"Accept-Language": "en", "tz": "Europe/Paris"}, {"tz": "UTC"}],
    ids=["en", "en-paris", "utc"],
)
async def test_an_event_read_in_english_or_another_zone_is_changed_with_that_tag(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    festival: dict[str, Any],
    reader: dict[str, str],
) -> None:
    url = f"/v1/events/{festival['id']}"
    headers = {k: v for k, v in reader.items() if k != "tz"}
    params = {k: v for k, v in reader.items() if k == "tz"}
    read = await client.get(url, headers=headers, params=params)
    assert read.status_code == 200

    response = await client.patch(
        url, json={"venue": "Sân vận động"}, headers={**admin, "If-Match": read.headers["etag"]}
    )

    assert response.status_code == 200, response.text
    assert response.json()["venue"] == "Sân vận động"


async def test_after_a_change_the_old_english_event_tag_is_412(
    client: httpx.AsyncClient, admin: dict[str, str], festival: dict[str, Any]
) -> None:
    url = f"/v1/events/{festival['id']}"
    stale = (await client.get(url, headers=ENGLISH)).headers["etag"]
    assert (await client.patch(url, json={"venue": "A"}, headers=admin)).status_code == 200

    response = await client.patch(
        url, json={"venue": "B"}, headers={**admin, **ENGLISH, "If-Match": stale}
    )

    assert response.status_code == 412
    assert (await client.get(url)).json()["venue"] == "A"


async def test_an_event_entry_read_in_english_is_changed_with_its_english_tag(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
) -> None:
    product = await insert_product(translations={"en": {"name": "Golden mandarin"}})
    event = await insert_event(products={product.id: None})
    url = f"/v1/events/{event.id}/products/{product.id}"
    english = await client.get(url, headers=ENGLISH)
    assert english.json()["name"] == "Golden mandarin"

    response = await client.patch(
        url, json={"booth": "A1"}, headers={**admin, "If-Match": english.headers["etag"]}
    )
    stale = await client.patch(
        url, json={"booth": "A2"}, headers={**admin, **ENGLISH, "If-Match": english.headers["etag"]}
    )

    assert response.status_code == 200, response.text
    assert stale.status_code == 412


async def test_a_bad_event_change_is_422_whatever_its_tag(
    client: httpx.AsyncClient, admin: dict[str, str], festival: dict[str, Any]
) -> None:
    # The tag was checked before the body was read: a stale tag made an invalid body a 412.
    response = await client.patch(
        f"/v1/events/{festival['id']}",
        json={"venue": 42},
        headers={**admin, "If-Match": '"stale"'},
    )

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "venue"]]


async def test_a_bad_entry_change_is_422_whatever_its_tag(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
) -> None:
    mandarin = await insert_product()
    festival = await insert_event(products={mandarin.id: None})

    response = await client.patch(
        f"/v1/events/{festival.id}/products/{mandarin.id}",
        json={"booth": 12},
        headers={**admin, "If-Match": '"stale"'},
    )

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "booth"]]
