"""The products' change feed: `GET /v1/products?updated_since=...`, then its cursors."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.helpers import (
    EPOCH,
    QUICK_FEED,
    CertificateFactory,
    CreateProductViaApi,
    OwnerFactory,
    idem,
    order_body,
    problem,
    read_feed,
    read_list,
    settle,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=QUICK_FEED)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_the_feed_serves_every_product_oldest_change_first(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
) -> None:
    first = await create_product_via_api(name="Quýt vàng")
    second = await create_product_via_api(name="Hồi Văn Quan")
    third = await create_product_via_api(name="Na Chi Lăng")
    await client.patch(f"/v1/products/{first['id']}", json={"price_vnd": 1}, headers=admin)
    await settle(app)

    items, _cursor = await read_feed(client, "/v1/products")

    assert [item["id"] for item in items] == [second["id"], third["id"], first["id"]]
    assert items[2]["price_vnd"] == 1


async def test_pages_follow_one_another_by_their_cursors_alone(
    app: FastAPI, client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    created = [(await create_product_via_api(name=f"Sản phẩm {i}"))["id"] for i in range(5)]
    await settle(app)

    items, _cursor = await read_feed(client, "/v1/products", limit=2)

    assert [item["id"] for item in items] == created


async def test_archived_products_are_served_with_their_status_but_not_listed(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
) -> None:
    kept = await create_product_via_api(name="Quýt vàng")
    archived = await create_product_via_api(name="Hồi Văn Quan")
    await client.post(f"/v1/products/{archived['id']}/archive", headers=admin)
    await settle(app)

    items, _cursor = await read_feed(client, "/v1/products")
    listed = await read_list(client, "/v1/products")

    assert [(item["id"], item["status"]) for item in items] == [
        (kept["id"], "active"),
        (archived["id"], "archived"),
    ]
    assert [item["id"] for item in listed] == [kept["id"]]


async def test_the_last_page_gives_a_cursor_that_serves_what_changes_later(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
) -> None:
    product = await create_product_via_api()
    await settle(app)
    served, cursor = await read_feed(client, "/v1/products")
    nothing, same_cursor = await read_feed(client, "/v1/products", cursor)

    await client.patch(f"/v1/products/{product['id']}", json={"price_vnd": 7}, headers=admin)
    await settle(app)
    later, _cursor = await read_feed(client, "/v1/products", cursor)

    assert [item["id"] for item in served] == [product["id"]]
    assert (nothing, same_cursor) == ([], cursor)
    assert [(item["id"], item["price_vnd"]) for item in later] == [(product["id"], 7)]


async def test_an_empty_feed_gives_a_cursor_that_serves_the_first_change(
    app: FastAPI, client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    response = await client.get("/v1/products", params={"updated_since": EPOCH})
    product = await create_product_via_api()
    await settle(app)

    items, _cursor = await read_feed(client, "/v1/products", response.json()["next_cursor"])

    assert response.json()["items"] == []
    assert [item["id"] for item in items] == [product["id"]]


async def test_updated_since_includes_changes_at_that_very_moment(
    app: FastAPI, client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    await create_product_via_api(name="Trước")
    product = await create_product_via_api(name="Đúng lúc")
    await settle(app)

    response = await client.get("/v1/products", params={"updated_since": product["updated_at"]})

    assert [item["id"] for item in response.json()["items"]] == [product["id"]]


async def test_a_change_is_served_only_once_it_has_settled(
    app: FastAPI,
    settings: Settings,
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
) -> None:
    settings.feed_settle_s = 3600
    await create_product_via_api()

    items, _cursor = await read_feed(client, "/v1/products")

    assert items == []


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "name"},
        {"sort": "newest"},
        {"q": "quýt"},
        {"group": "food"},
        {"owner_id": "0b7c5a39-3a47-4d0e-a3a8-0b7f3d0f6a01"},
        {"min_price_vnd": "0"},
    ],
)
async def test_the_feed_takes_no_filter_nor_sort(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get("/v1/products", params={"updated_since": EPOCH, **params})

    assert response.status_code == 422
    (error,) = problem(response)["errors"]
    assert error["loc"] == ["query"]
    assert error["msg"].endswith(f"it does not combine with {next(iter(params))}")


async def test_a_feed_cursor_takes_no_filter_either(
    app: FastAPI, client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    await create_product_via_api()
    await settle(app)
    _items, cursor = await read_feed(client, "/v1/products")

    response = await client.get("/v1/products", params={"cursor": cursor, "group": "food"})

    assert response.status_code == 422


async def test_a_cursor_of_the_plain_list_does_not_continue_a_feed(
    client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    for name in ("Một", "Hai"):
        await create_product_via_api(name=name)
    cursor = (await client.get("/v1/products", params={"limit": 1})).json()["next_cursor"]

    response = await client.get("/v1/products", params={"updated_since": EPOCH, "cursor": cursor})

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_cursor"


# Every write of a product moves its `updated_at`, and the feed serves it again.

Write = Callable[[dict[str, Any]], Awaitable[None]]


@pytest.fixture
def writes(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    add_certificate: CertificateFactory,
) -> dict[str, Write]:
    async def ok(response: httpx.Response) -> None:
        assert response.status_code in (200, 201), response.text

    async def patch(product: dict[str, Any]) -> None:
        await ok(
            await client.patch(
                f"/v1/products/{product['id']}", json={"price_vnd": 1}, headers=admin
            )
        )

    async def translate(product: dict[str, Any]) -> None:
        body = {"translations": {"en": {"name": "Bac Son mandarin"}}}
        await ok(await client.patch(f"/v1/products/{product['id']}", json=body, headers=admin))

    async def link(product: dict[str, Any]) -> None:
        body = {"external_refs": [{"system": "shopee", "id": "SKU-1"}]}
        await ok(await client.patch(f"/v1/products/{product['id']}", json=body, headers=admin))

    async def illustrate(product: dict[str, Any]) -> None:
        image = {"url": "https://cdn.example.vn/quyt.jpg", "alt": {"vi": "Quýt vàng"}}
        body = {"images": [image]}
        await ok(await client.patch(f"/v1/products/{product['id']}", json=body, headers=admin))

    async def archive(product: dict[str, Any]) -> None:
        await ok(await client.post(f"/v1/products/{product['id']}/archive", headers=admin))

    async def restore(product: dict[str, Any]) -> None:
        await ok(await client.post(f"/v1/products/{product['id']}/restore", headers=admin))

    async def adjust_stock(product: dict[str, Any]) -> None:
        path = f"/v1/products/{product['id']}/stock-adjustments"
        await ok(await client.post(path, json={"delta": -1}, headers=admin))

    async def order(product: dict[str, Any]) -> None:
        body = order_body((product["id"], 1))
        await ok(await client.post("/v1/orders", json=body, headers=idem(partner)))

    async def cancel_order(product: dict[str, Any]) -> None:
        page = (await client.get("/v1/orders", headers=partner)).json()
        path = f"/v1/orders/{page['items'][0]['id']}/cancel"
        await ok(await client.post(path, headers=partner))

    async def certify(product: dict[str, Any]) -> None:
        await add_certificate(product["id"], 4, date.today())

    async def rename_owner(product: dict[str, Any]) -> None:
        body = {"name": "Hợp tác xã Đổi tên"}
        await ok(await client.patch(f"/v1/owners/{product['owner_id']}", json=body, headers=admin))

    async def reimport(product: dict[str, Any]) -> None:
        owner = (await client.get(f"/v1/owners/{product['owner_id']}")).json()
        header = "owner_name,product_name,group,unit,price_vnd\n"
        csv = f"{header}{owner['name']},{product['name']},food,kg,2\n"
        response = await client.post(
            "/v1/products/import",
            content=csv.encode(),
            headers={**admin, "content-type": "text/csv; charset=utf-8"},
        )
        await ok(response)

    return {
        "patch": patch,
        "translations": translate,
        "external refs only": link,
        "images": illustrate,
        "archive": archive,
        "restore": restore,
        "stock adjustment": adjust_stock,
        "stock taken by an order": order,
        "stock returned by a cancel": cancel_order,
        "certificate": certify,
        "owner renamed": rename_owner,
        "import": reimport,
    }


# What each write needs done first (not itself a change under test).
SETUP = {"restore": "archive", "stock returned by a cancel": "stock taken by an order"}


@pytest.mark.parametrize(
    "write",
    [
        "patch",
        "translations",
        "external refs only",
        "images",
        "archive",
        "restore",
        "stock adjustment",
        "stock taken by an order",
        "stock returned by a cancel",
        "certificate",
        "owner renamed",
        "import",
    ],
)
async def test_every_write_moves_updated_at_and_is_served_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
    writes: dict[str, Write],
    write: str,
) -> None:
    product = await create_product_via_api()
    if write in SETUP:
        await writes[SETUP[write]](product)
    await settle(app)
    before, cursor = await read_feed(client, "/v1/products")

    await writes[write](product)
    await settle(app)
    after, _cursor = await read_feed(client, "/v1/products", cursor)

    assert [item["id"] for item in after] == [product["id"]]
    assert moment(after[0]["updated_at"]) > moment(before[0]["updated_at"])
    assert after[0] == (await client.get(f"/v1/products/{product['id']}")).json()


# A mirror kept from the feed equals the catalogue, whatever happens to it.


class ProductMirror:
    """A copy of the catalogue kept from the change feed alone, and the changes it received."""

    def __init__(self) -> None:
        self.products: dict[str, dict[str, Any]] = {}
        self.cursor: str | None = None
        self.received: list[tuple[str, str]] = []

    async def poll(self, client: httpx.AsyncClient) -> None:
        items, self.cursor = await read_feed(client, "/v1/products", self.cursor, limit=7)
        for item in items:
            self.products[item["id"]] = item
            self.received.append((item["id"], item["updated_at"]))


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_a_mirror_built_from_the_feed_equals_the_live_catalogue(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_owner: OwnerFactory,
    add_certificate: CertificateFactory,
    seed: int,
) -> None:
    rng = random.Random(seed)
    owners = [(await make_owner(name=f"Hợp tác xã {i}"))["id"] for i in range(3)]
    ids: list[str] = []
    orders: list[str] = []
    mirror = ProductMirror()

    async def create() -> None:
        body = {
            "owner_id": rng.choice(owners),
            "name": f"Sản phẩm {len(ids)}",
            "group": rng.choice(["food", "beverage", "herbal", "handicraft"]),
            "unit": "kg",
            "price_vnd": rng.randrange(1000, 500_000),
            "stock": rng.randrange(10, 100),
            "commune": rng.choice(["Bắc Sơn", "Văn Quan", "Chi Lăng"]),
        }
        response = await client.post("/v1/products", json=body, headers=admin)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])

    async def update() -> None:
        body = rng.choice(
            [
                {"price_vnd": rng.randrange(1000, 500_000)},
                {"name": f"Tên mới {rng.randrange(1000)}"},
                {"translations": {"en": {"name": f"New name {rng.randrange(1000)}"}}},
                {"stock": None},
            ]
        )
        response = await client.patch(f"/v1/products/{rng.choice(ids)}", json=body, headers=admin)
        assert response.status_code == 200, response.text

    async def archive_or_restore() -> None:
        action = rng.choice(["archive", "restore"])
        response = await client.post(f"/v1/products/{rng.choice(ids)}/{action}", headers=admin)
        assert response.status_code == 200, response.text

    async def certify() -> None:
        decision = f"{rng.randrange(10**9)}/QĐ-UBND"
        issued = date(2025, 1, rng.randint(1, 28))
        await add_certificate(rng.choice(ids), rng.randint(3, 5), issued, decision_no=decision)

    async def order() -> None:
        body = order_body((rng.choice(ids), 1))
        response = await client.post("/v1/orders", json=body, headers=idem(partner))
        assert response.status_code in (201, 409), response.text  # archived, or sold out
        if response.status_code == 201:
            orders.append(response.json()["id"])

    async def cancel() -> None:
        if orders:
            response = await client.post(f"/v1/orders/{orders.pop()}/cancel", headers=partner)
            assert response.status_code == 200, response.text

    async def rename_owner() -> None:
        body = {"name": f"Hợp tác xã {rng.randrange(10_000)}"}
        response = await client.patch(f"/v1/owners/{rng.choice(owners)}", json=body, headers=admin)
        assert response.status_code == 200, response.text

    operations = [update, update, archive_or_restore, certify, order, cancel, rename_owner]
    for _batch in range(5):
        for _ in range(rng.randint(2, 8)):
            await (create() if len(ids) < 3 or rng.random() < 0.3 else rng.choice(operations)())
        await settle(app)
        await mirror.poll(client)

        live = {item["id"]: item for item in await read_list(client, "/v1/products")}
        active = {i: p for i, p in mirror.products.items() if p["status"] == "active"}
        assert active == live
        assert sorted(mirror.products) == sorted(ids)
        for product_id, product in mirror.products.items():
            assert (await client.get(f"/v1/products/{product_id}")).json() == product
    # Each change was received once: a product comes again only with a new `updated_at`.
    assert len(set(mirror.received)) == len(mirror.received)
