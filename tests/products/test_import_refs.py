"""The CSV import's `external_refs` column: `system:id` pairs apart by spaces, as the API's
`external_refs` (a pair names one product only; given, they replace the product's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.helpers import CreateProductViaApi, problem

pytestmark = pytest.mark.anyio

HEADER = "owner_name,product_name,group,unit,price_vnd,external_refs\n"
OWNER = "Hợp tác xã Quýt vàng Bắc Sơn"  # the `owner` fixture's


async def post_csv(
    client: httpx.AsyncClient, headers: dict[str, str], *rows: str
) -> httpx.Response:
    return await client.post(
        "/v1/products/import",
        content=(HEADER + "".join(f"{row}\n" for row in rows)).encode(),
        headers={**headers, "content-type": "text/csv; charset=utf-8"},
    )


async def products(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    items = (await client.get("/v1/products")).json()["items"]
    return {item["name"]: item for item in items}


def refs(*pairs: str) -> list[dict[str, str]]:
    return [dict(zip(("system", "id"), pair.split(":", 1), strict=True)) for pair in pairs]


@pytest.mark.usefixtures("owner")
async def test_imported_products_get_their_refs(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await post_csv(
        client, admin, f"{OWNER},Quýt,food,kg,45000,shopee:Q-1 tiki:9", f"{OWNER},Na,food,kg,1,"
    )

    assert response.status_code == 200, response.text
    found = await products(client)
    assert found["Quýt"]["external_refs"] == refs("shopee:Q-1", "tiki:9")
    assert found["Na"]["external_refs"] == []


@pytest.mark.usefixtures("owner")
async def test_the_same_file_again_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    row = f"{OWNER},Quýt,food,kg,45000,shopee:Q-1 tiki:9"
    await post_csv(client, admin, row)
    before = await products(client)

    response = await post_csv(client, admin, row)

    assert (response.json()["products_updated"], response.json()["products_unchanged"]) == (0, 1)
    assert await products(client) == before


@pytest.mark.usefixtures("owner")
async def test_other_refs_replace_the_products_and_move_updated_at(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await post_csv(client, admin, f"{OWNER},Quýt,food,kg,45000,shopee:Q-1 tiki:9")
    before = (await products(client))["Quýt"]

    response = await post_csv(client, admin, f"{OWNER},Quýt,food,kg,45000,tiki:9 lazada:L")

    assert response.json()["products_updated"] == 1
    after = (await products(client))["Quýt"]
    assert after["external_refs"] == refs("lazada:L", "tiki:9")
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(
        before["updated_at"]
    )


@pytest.mark.usefixtures("owner")
async def test_a_blank_cell_keeps_the_refs(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await post_csv(client, admin, f"{OWNER},Quýt,food,kg,45000,shopee:Q-1")

    response = await post_csv(client, admin, f"{OWNER},Quýt,food,kg,45000,")

    assert response.json()["products_unchanged"] == 1
    assert (await products(client))["Quýt"]["external_refs"] == refs("shopee:Q-1")


@pytest.mark.usefixtures("owner")
async def test_a_ref_another_product_holds_is_422_and_writes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], create_product_via_api: CreateProductViaApi
) -> None:
    holder = await create_product_via_api(name="Hồi", external_refs=refs("shopee:Q-1"))

    response = await post_csv(
        client, admin, f"{OWNER},Na,food,kg,1,", f"{OWNER},Quýt,food,kg,45000,shopee:Q-1"
    )

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "invalid_rows"
    assert body["errors"] == [
        {
            "loc": ["body", 3, "external_refs"],
            "msg": f"line 3: shopee:Q-1 already names product {holder['id']}",
            "type": "invalid_row",
        }
    ]
    assert list(await products(client)) == ["Hồi"]


@pytest.mark.usefixtures("owner")
async def test_two_rows_with_one_ref_are_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await post_csv(
        client, admin, f"{OWNER},Quýt,food,kg,1,shopee:Q-1", f"{OWNER},Na,food,kg,1,shopee:Q-1"
    )

    assert response.status_code == 422
    assert [e["msg"] for e in problem(response)["errors"]] == [
        "line 3: shopee:Q-1 is also on line 2"
    ]
    assert await products(client) == {}


@pytest.mark.usefixtures("owner")
@pytest.mark.parametrize(
    "cell",
    [
        "shopee",
        "Shopee:Q-1",
        "shopee:Q-1 shopee:Q-1",
        " ".join(f"s:{i}" for i in range(21)),
        "shopee:" + "x" * 201,
    ],
)
async def test_a_malformed_cell_is_422_naming_it(
    client: httpx.AsyncClient, admin: dict[str, str], cell: str
) -> None:
    response = await post_csv(client, admin, f"{OWNER},Quýt,food,kg,1,{cell}")

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [["body", 2, "external_refs"]]
    assert await products(client) == {}
