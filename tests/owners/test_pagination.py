from __future__ import annotations

import httpx
import pytest

from tests.helpers import OwnerFactory, problem

pytestmark = pytest.mark.anyio


async def walk(client: httpx.AsyncClient, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/v1/owners", params=params)).json()
        pages.append([o["id"] for o in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_45_owners_come_in_pages_of_20_20_5(
    client: httpx.AsyncClient, make_owner: OwnerFactory
) -> None:
    created = {(await make_owner(name=f"Hợp tác xã số {i:02d}"))["id"] for i in range(45)}

    pages = await walk(client, 20)

    assert [len(p) for p in pages] == [20, 20, 5]
    seen = [owner_id for page in pages for owner_id in page]
    assert len(seen) == 45
    assert set(seen) == created


async def test_rows_inserted_between_pages_are_neither_skipped_nor_repeated(
    client: httpx.AsyncClient, make_owner: OwnerFactory
) -> None:
    original = {(await make_owner(name=f"Hợp tác xã {i:02d}"))["id"] for i in range(0, 45)}
    first = (await client.get("/v1/owners", params={"limit": 20})).json()
    # New rows on both sides of the cursor: before it (00a...) and after it (44a...).
    for name in ("Hợp tác xã 00a", "Hợp tác xã 25a", "Hợp tác xã 44a"):
        await make_owner(name=name)

    seen = [o["id"] for o in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        body = (await client.get("/v1/owners", params={"limit": 20, "cursor": cursor})).json()
        seen += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]

    assert len(seen) == len(set(seen))
    assert original <= set(seen)
    assert len(set(seen) - original) == 2  # 25a and 44a lie ahead of the cursor; 00a behind it


async def test_garbage_cursor_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/owners", params={"cursor": "not-a-cursor"})

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_cursor"


@pytest.mark.parametrize("limit", [0, 101, -1])
async def test_limit_out_of_range_is_422(client: httpx.AsyncClient, limit: int) -> None:
    response = await client.get("/v1/owners", params={"limit": limit})

    assert response.status_code == 422
    assert problem(response)["errors"][0]["loc"] == ["query", "limit"]
