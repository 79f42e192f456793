"""gzip for answers of 1 KiB or more, to clients that accept it; ETags and 304s unchanged."""

from __future__ import annotations

import gzip

import httpx
import pytest

from tests.helpers import InsertProduct

pytestmark = pytest.mark.anyio

LONG_DESCRIPTION = "Quýt chín vàng trên sườn núi đá vôi Bắc Sơn, vỏ mỏng, vị ngọt thanh. " * 20


def _vary(response: httpx.Response) -> list[str]:
    return [part.strip() for part in response.headers.get("vary", "").split(",")]


async def _raw_get(client: httpx.AsyncClient, url: str) -> tuple[httpx.Response, bytes]:
    """A gzip-accepting GET and its body as sent (httpx would decode it as it reads)."""
    async with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, raw


async def test_a_large_answer_is_gzipped_with_vary(
    client: httpx.AsyncClient, insert_product: InsertProduct
) -> None:
    product = await insert_product(description=LONG_DESCRIPTION)
    plain = await client.get(f"/v1/products/{product.id}", headers={"Accept-Encoding": "identity"})

    response, raw = await _raw_get(client, f"/v1/products/{product.id}")

    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == len(raw)
    assert len(raw) < len(plain.content) // 3
    assert gzip.decompress(raw) == plain.content
    assert _vary(response) == ["Accept-Language", "Accept-Encoding", "Authorization"]


async def test_a_large_answer_to_a_client_without_gzip_is_plain_but_varies(
    client: httpx.AsyncClient, insert_product: InsertProduct
) -> None:
    product = await insert_product(description=LONG_DESCRIPTION)

    response = await client.get(
        f"/v1/products/{product.id}", headers={"Accept-Encoding": "identity"}
    )

    assert "content-encoding" not in response.headers
    assert "Accept-Encoding" in _vary(response)
    assert response.json()["description"] == LONG_DESCRIPTION


async def test_a_small_answer_is_not_compressed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})

    assert "content-encoding" not in response.headers
    assert "Accept-Encoding" not in _vary(response)


async def test_the_etag_of_a_gzipped_answer_revalidates_both_ways(
    client: httpx.AsyncClient, insert_product: InsertProduct
) -> None:
    product = await insert_product(description=LONG_DESCRIPTION)
    url = f"/v1/products/{product.id}"
    zipped = await client.get(url, headers={"Accept-Encoding": "gzip"})
    plain = await client.get(url, headers={"Accept-Encoding": "identity"})

    again_zipped = await client.get(
        url, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
    )
    again_plain = await client.get(
        url, headers={"Accept-Encoding": "identity", "If-None-Match": zipped.headers["etag"]}
    )

    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == plain.headers["etag"]
    assert (again_zipped.status_code, again_plain.status_code) == (304, 304)
    assert again_zipped.content == b""


async def test_if_match_takes_the_etag_of_a_gzipped_answer(
    client: httpx.AsyncClient, admin: dict[str, str], insert_product: InsertProduct
) -> None:
    product = await insert_product(description=LONG_DESCRIPTION)
    url = f"/v1/products/{product.id}"
    etag = (await client.get(url, headers={"Accept-Encoding": "gzip"})).headers["etag"]

    response = await client.patch(
        url, json={"price_vnd": 40_000}, headers={**admin, "If-Match": etag}
    )

    assert response.status_code == 200
    assert response.json()["price_vnd"] == 40_000
