"""Hand-made cursors: whatever a client puts in one, the answer is 400 `invalid_cursor`, never
a query with it (and never a 500); the cursors the API issues still page through every list."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.core.pagination import MAX_CURSOR_LENGTH, MAX_CURSOR_TEXT, Ordering, SortKey
from app.models import Owner
from tests.helpers import InsertEvent, InsertProduct, OwnerFactory, problem

pytestmark = pytest.mark.anyio

AN_ID = "7f0c2a9e-3b1d-4c5e-8f6a-0b1c2d3e4f5a"
NEAR = {"near": "21.85,106.76", "radius_km": "50"}


def crafted(raw_json: str) -> str:
    """A cursor as a client could make one: base64url of any JSON text, unpadded."""
    return base64.urlsafe_b64encode(raw_json.encode()).decode().rstrip("=")


def cursor_of(name: str, *values: Any) -> str:
    return crafted(json.dumps({"s": name, "v": list(values)}))


# (list, extra query parameters, cursor): each once answered 500, or must never.
CRAFTED = [
    # A string where the id is: not a UUID, or not in its canonical form.
    ("/v1/owners", {}, cursor_of("name", "a", 5)),
    ("/v1/owners", {}, cursor_of("name", "a", "5")),
    ("/v1/owners", {}, cursor_of("name", "a", AN_ID.upper())),
    ("/v1/owners", {}, cursor_of("name", "a", "{" + AN_ID + "}")),
    ("/v1/owners", {}, cursor_of("name", "a", None)),
    # Text: a NUL character, a lone surrogate, too long, not text.
    ("/v1/owners", {}, cursor_of("name", "a\x00b", AN_ID)),
    ("/v1/owners", {}, crafted('{"s": "name", "v": ["\\ud800", "' + AN_ID + '"]}')),
    ("/v1/owners", {}, cursor_of("name", "x" * (MAX_CURSOR_TEXT + 1), AN_ID)),
    ("/v1/owners", {}, cursor_of("name", 12, AN_ID)),
    ("/v1/owners", {}, cursor_of("name", ["a"], AN_ID)),
    # Timestamps: without a zone, out of range once in UTC, not a timestamp.
    ("/v1/products", {}, cursor_of("newest", "2025-11-03T10:00:00", AN_ID)),
    ("/v1/products", {}, cursor_of("newest", "0001-01-01T00:00:00+05:00", AN_ID)),
    ("/v1/products", {}, cursor_of("newest", "9999-12-31T23:00:00-05:00", AN_ID)),
    ("/v1/products", {}, cursor_of("newest", 1762164000, AN_ID)),
    ("/v1/events", {}, cursor_of("start", "2025-11-03T10:00:00", AN_ID)),
    ("/v1/events", {}, cursor_of("start", "2025-11-03", AN_ID)),
    # Integers: past 64 bits either way, a fraction, a boolean, a string.
    ("/v1/products", {"sort": "price"}, cursor_of("price", 2**64, AN_ID)),
    ("/v1/products", {"sort": "price"}, cursor_of("price", 2**63, AN_ID)),
    ("/v1/products", {"sort": "-price"}, cursor_of("-price", -(2**63) - 1, AN_ID)),
    (
        "/v1/products",
        {"sort": "price"},
        crafted('{"s": "price", "v": [1' + "0" * 500 + ', "' + AN_ID + '"]}'),
    ),
    ("/v1/products", {"sort": "price"}, cursor_of("price", 1.5, AN_ID)),
    ("/v1/products", {"sort": "price"}, cursor_of("price", True, AN_ID)),
    ("/v1/products", {"sort": "price"}, cursor_of("price", "100", AN_ID)),
    ("/v1/products", {"sort": "stars"}, cursor_of("stars", 5, "a\x00", AN_ID)),
    ("/v1/products", {"sort": "name"}, cursor_of("name", "a", 7)),
    # Floats (a distance): not finite, too large for a float, a string.
    ("/v1/events", NEAR, crafted('{"s": "near", "v": [NaN, "' + AN_ID + '"]}')),
    ("/v1/events", NEAR, crafted('{"s": "near", "v": [-Infinity, "' + AN_ID + '"]}')),
    ("/v1/events", NEAR, crafted('{"s": "near", "v": [1e999, "' + AN_ID + '"]}')),
    ("/v1/events", NEAR, crafted('{"s": "near", "v": [1' + "0" * 400 + ', "' + AN_ID + '"]}')),
    ("/v1/events", NEAR, cursor_of("near", "1.5", AN_ID)),
    # The envelope: not JSON, not an object, keys missing or extra, another list's, too few.
    ("/v1/owners", {}, crafted("not json")),
    ("/v1/owners", {}, crafted("[]")),
    ("/v1/owners", {}, crafted('"name"')),
    ("/v1/owners", {}, crafted('{"s": "name"}')),
    ("/v1/owners", {}, crafted('{"s": "name", "v": ["a", "' + AN_ID + '"], "x": 1}')),
    ("/v1/owners", {}, crafted('{"s": "name", "v": {"a": 1}}')),
    ("/v1/owners", {}, cursor_of("newest", "a", AN_ID)),
    ("/v1/owners", {}, cursor_of("name", "a")),
    ("/v1/owners", {}, crafted("[" * 350 + "]" * 350)),
    ("/v1/owners", {}, "A"),  # not base64 of anything
]


@pytest.mark.parametrize(("path", "params", "cursor"), CRAFTED)
async def test_a_hand_made_cursor_is_400_invalid_cursor(
    client: httpx.AsyncClient, path: str, params: dict[str, str], cursor: str
) -> None:
    response = await client.get(path, params={**params, "cursor": cursor})

    assert response.status_code == 400, response.text
    assert problem(response)["code"] == "invalid_cursor"


def test_every_crafted_cursor_fits_the_query_parameter() -> None:
    """Else the 422 of the parameter's own bounds would answer, not the decoding."""
    assert max(len(cursor) for _path, _params, cursor in CRAFTED) <= MAX_CURSOR_LENGTH


# Names of the longest length whose folded sort key is longest ("ﬄ" folds to "ffl", "ß" to
# "ss") or whose cursor is largest (a CJK character is 3 bytes of UTF-8): each once overflowed
# the sort key's column on PostgreSQL (500), or made a cursor the API itself refused.
LONGEST_NAMES = ["ﬄ" * 200, "ß" * 200, "茶" * 200, "\U0001d518" * 200]  # a letter of 4 bytes


async def test_the_longest_names_are_stored_and_paged_by_name(
    client: httpx.AsyncClient, make_owner: OwnerFactory
) -> None:
    ids = [(await make_owner(name=name, commune="Hữu Lũng"))["id"] for name in LONGEST_NAMES]

    seen = await _page_all(client, "/v1/owners", {"commune": "Hữu Lũng"})

    assert sorted(seen) == sorted(ids)


def test_a_sort_key_of_a_type_without_codec_is_refused_when_declared() -> None:
    with pytest.raises(TypeError, match="no cursor codec"):
        SortKey(Owner.name, bytes)


def test_every_codec_round_trips() -> None:
    keys = (
        SortKey(Owner.name, str),
        SortKey(Owner.name, int),
        SortKey(Owner.name, float),
        SortKey(Owner.name, Decimal),
        SortKey(Owner.created_at, datetime),
        SortKey(Owner.created_at, type(datetime.now().date())),
        SortKey(Owner.id, uuid.UUID),
    )
    ordering = Ordering("all", keys)
    values = [
        "Trà Bổ Khai 茶",
        -(2**63),
        0.1,
        Decimal("1000"),  # normalised quantities print as 1E+3
        datetime(2025, 11, 3, 10, tzinfo=UTC),
        datetime(2025, 11, 3).date(),
        uuid.UUID(AN_ID),
    ]

    assert ordering.decode(ordering.encode(values)) == values


async def test_issued_cursors_page_through_owners(
    client: httpx.AsyncClient, make_owner: OwnerFactory
) -> None:
    names = ["Hợp tác xã Bắc Sơn", "Công ty Ngọc Quế", "长城茶叶合作社", "Đình Bắc Lệ"]
    ids = [(await make_owner(name=name))["id"] for name in names]

    seen = await _page_all(client, "/v1/owners", {})

    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize("sort", ["newest", "name", "price", "-price", "stars"])
async def test_issued_cursors_page_through_products(
    client: httpx.AsyncClient, insert_product: InsertProduct, sort: str
) -> None:
    ids = [
        str((await insert_product(name=f"Sản phẩm {i}", price_vnd=price)).id)
        for i, price in enumerate([30_000, 85_000, 85_000, 2**40])
    ]

    seen = await _page_all(client, "/v1/products", {"sort": sort})

    assert sorted(seen) == sorted(ids)


async def test_issued_cursors_page_through_events(
    client: httpx.AsyncClient, insert_event: InsertEvent
) -> None:
    start = datetime.now(UTC)
    ids = [
        str(
            (
                await insert_event(
                    starts_at=start + timedelta(hours=i), latitude=21.85, longitude=106.76 + i / 100
                )
            ).id
        )
        for i in range(3)
    ]

    by_start = await _page_all(client, "/v1/events", {})
    nearest = await _page_all(client, "/v1/events", NEAR)

    assert sorted(by_start) == sorted(nearest) == sorted(ids)


async def _page_all(client: httpx.AsyncClient, path: str, params: dict[str, str]) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        query = {**params, "limit": "1", **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("more pages than rows")


async def test_the_longest_names_are_stored_and_paged_for_products_and_events(
    client: httpx.AsyncClient, insert_product: InsertProduct, insert_event: InsertEvent
) -> None:
    # The longest commune too: rows written before codes keep their text, whatever it is.
    products = [
        str((await insert_product(name=name, commune="ß" * 100)).id) for name in LONGEST_NAMES
    ]
    events = [str((await insert_event(name=name, commune="ß" * 100)).id) for name in LONGEST_NAMES]

    assert sorted(await _page_all(client, "/v1/products", {"sort": "name"})) == sorted(products)
    assert sorted(await _page_all(client, "/v1/events", {})) == sorted(events)
