from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, EventKind, EventProduct, Product
from app.models.product import ProductStatus
from tests.database import IS_POSTGRES
from tests.helpers import CreateProductViaApi, InsertEvent, InsertProduct, OwnerFactory

pytestmark = pytest.mark.anyio


async def names(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/products", params={"sort": "name", **params})
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["items"]]


@pytest.fixture
async def catalogue(create_product_via_api: CreateProductViaApi, make_owner: OwnerFactory) -> None:
    ngoc_que = await make_owner(
        name="Công ty TNHH MTV Ngọc Quế", kind="company", commune="Hữu Lũng"
    )
    await create_product_via_api(name="Quýt vàng Bắc Sơn", price_vnd=45000)
    for name, price in (
        ("Trà Bổ Khai Ngọc Quế, túi lọc", 120000),
        ("Trà Bổ Khai Ngọc Quế, hòa tan", 95000),
    ):
        await create_product_via_api(
            owner_id=ngoc_que["id"],
            name=name,
            group="beverage",
            unit="box",
            unit_step=1,
            price_vnd=price,
            commune="Hữu Lũng",
        )
    dao = await make_owner(
        name="Hộ kinh doanh Lương Thị Đào", kind="household", commune="Đồng Đăng"
    )
    await create_product_via_api(
        owner_id=dao["id"], name="Đậu đen Đồng Đăng", price_vnd=30000, commune="Đồng Đăng"
    )


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("quyt vang bac son", ["Quýt vàng Bắc Sơn"]),
        ("QUÝT", ["Quýt vàng Bắc Sơn"]),
        ("tra bo khai", ["Trà Bổ Khai Ngọc Quế, hòa tan", "Trà Bổ Khai Ngọc Quế, túi lọc"]),
        ("bo khai tui loc", ["Trà Bổ Khai Ngọc Quế, túi lọc"]),
        ("dau den dong dang", ["Đậu đen Đồng Đăng"]),
        ("luong thi dao", ["Đậu đen Đồng Đăng"]),
        ("ngoc que", ["Trà Bổ Khai Ngọc Quế, hòa tan", "Trà Bổ Khai Ngọc Quế, túi lọc"]),
        ("tnhh tra", ["Trà Bổ Khai Ngọc Quế, hòa tan", "Trà Bổ Khai Ngọc Quế, túi lọc"]),
        ("hop tac xa quyt", ["Quýt vàng Bắc Sơn"]),
        ("100%_", []),
        ("cà phê", []),
    ],
)
async def test_search_is_diacritic_insensitive_over_product_and_owner_names(
    client: httpx.AsyncClient, q: str, expected: list[str]
) -> None:
    assert await names(client, q=q) == expected


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"group": "beverage"}, ["Trà Bổ Khai Ngọc Quế, hòa tan", "Trà Bổ Khai Ngọc Quế, túi lọc"]),
        ({"commune": "dong dang"}, ["Đậu đen Đồng Đăng"]),
        (
            {"min_price_vnd": 45000, "max_price_vnd": 100000},
            ["Quýt vàng Bắc Sơn", "Trà Bổ Khai Ngọc Quế, hòa tan"],
        ),
        ({"min_price_vnd": 100001}, ["Trà Bổ Khai Ngọc Quế, túi lọc"]),
        ({"max_price_vnd": 1, "min_price_vnd": 2}, []),
        ({"q": "tra", "max_price_vnd": 100000}, ["Trà Bổ Khai Ngọc Quế, hòa tan"]),
    ],
)
async def test_filters(
    client: httpx.AsyncClient, params: dict[str, Any], expected: list[str]
) -> None:
    assert await names(client, **params) == expected


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price", [30000, 45000, 95000, 120000]),
        ("-price", [120000, 95000, 45000, 30000]),
    ],
)
async def test_sort_by_price(client: httpx.AsyncClient, sort: str, expected: list[int]) -> None:
    response = await client.get("/v1/products", params={"sort": sort})

    assert [p["price_vnd"] for p in response.json()["items"]] == expected


async def test_newest_first_by_default(
    client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi
) -> None:
    for name in ("Một", "Hai", "Ba"):
        await create_product_via_api(name=name)

    assert [p["name"] for p in (await client.get("/v1/products")).json()["items"]] == [
        "Ba",
        "Hai",
        "Một",
    ]


async def test_owner_filter(
    client: httpx.AsyncClient, create_product_via_api: CreateProductViaApi, make_owner: OwnerFactory
) -> None:
    other = await make_owner(name="Hợp tác xã Na Chi Lăng", commune="Chi Lăng")
    await create_product_via_api(name="Quýt")
    await create_product_via_api(name="Na", owner_id=other["id"])

    assert await names(client, owner_id=other["id"]) == ["Na"]


async def test_event_filter_lists_products_entered_in_the_event(
    client: httpx.AsyncClient, db: AsyncSession, create_product_via_api: CreateProductViaApi
) -> None:
    entered = await create_product_via_api(name="Quýt vàng Bắc Sơn")
    await create_product_via_api(name="Không tham gia")
    festival = Event(
        name="Mùa vàng Bắc Sơn",
        kind=EventKind.festival,
        starts_at=datetime(2025, 11, 1, 1, tzinfo=UTC),
        ends_at=datetime(2025, 11, 8, 1, tzinfo=UTC),
        commune="Bắc Sơn",
        province="Lạng Sơn",
    )
    db.add(festival)
    await db.flush()
    db.add(EventProduct(event_id=festival.id, product_id=uuid.UUID(entered["id"]), booth="A1"))
    await db.commit()

    assert await names(client, event_id=str(festival.id)) == ["Quýt vàng Bắc Sơn"]


async def test_an_events_newest_pages_are_the_catalogues_order_of_its_entries(
    client: httpx.AsyncClient,
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
    insert_event: InsertEvent,
) -> None:
    """The event's newest-first page walks its entries' copy of their products' `created_at`:
    page after page, the catalogue's own newest order of the active products entered, ties
    on `created_at` broken by id as the catalogue breaks them."""
    owner = await make_owner(name="Hợp tác xã Mùa Vàng")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    products = [
        await insert_product(
            owner_id=owner["id"],
            name=f"Sản phẩm {i}",
            created_at=start + timedelta(hours=i // 3),  # three at each moment
            status=ProductStatus.archived if i % 5 == 4 else ProductStatus.active,
        )
        for i in range(14)
    ]
    entered = [product for i, product in enumerate(products) if i % 6 != 1]
    festival = await insert_event(products={product.id: None for product in entered})

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params = {"event_id": str(festival.id), "limit": "4"}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get("/v1/products", params=params)
        assert response.status_code == 200, response.text
        pages.append([item["id"] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    catalogue = await client.get("/v1/products", params={"limit": "100"})
    shown = {str(p.id) for p in entered if p.status is ProductStatus.active}

    assert [len(page) for page in pages] == [4, 4, 1]
    assert [i for page in pages for i in page] == [
        item["id"] for item in catalogue.json()["items"] if item["id"] in shown
    ]


@pytest.mark.parametrize("sort", ["newest", "name", "price", "-price", "stars"])
async def test_a_list_runs_the_same_statements_whatever_the_page_size(
    client: httpx.AsyncClient,
    app: FastAPI,
    create_product_via_api: CreateProductViaApi,
    make_owner: OwnerFactory,
    sort: str,
) -> None:
    for i in range(3):
        owner = await make_owner(name=f"Hợp tác xã {i}")
        for j in range(20):
            await create_product_via_api(
                owner_id=owner["id"], name=f"Sản phẩm {i}-{j}", price_vnd=1000 * j
            )
    statements: list[str] = []
    # Sorting by stars, the process first makes the stored stars current for today, once.
    await client.get("/v1/products", params={"sort": sort})

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
    try:
        small = await client.get("/v1/products", params={"limit": 5, "sort": sort, "q": "san pham"})
        small_count = len(statements)
        statements.clear()
        large = await client.get(
            "/v1/products", params={"limit": 50, "sort": sort, "q": "san pham"}
        )
        large_count = len(statements)
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", count)

    assert len(small.json()["items"]) == 5
    assert len(large.json()["items"]) == 50
    assert {p["owner"]["name"] for p in large.json()["items"]} == {
        "Hợp tác xã 0",
        "Hợp tác xã 1",
        "Hợp tác xã 2",
    }
    assert small_count == large_count
    # BEGIN (SQLite only), and the one SELECT of products with their owners, stars and
    # external refs.
    assert large_count == (1 if IS_POSTGRES else 2)


async def walk(client: httpx.AsyncClient, sort: str, limit: int, pages: int) -> list[list[str]]:
    """The first `pages` pages, each fetched with the previous page's cursor."""
    walked: list[list[str]] = []
    cursor: str | None = None
    while len(walked) < pages:
        params: dict[str, Any] = {"sort": sort, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/v1/products", params=params)).json()
        walked.append([p["id"] for p in body["items"]])
        cursor = body["next_cursor"]
        assert cursor is not None
    return walked


SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "newest": lambda r: (-r["created_at"].timestamp(), [-b for b in r["id"].bytes]),
    "name": lambda r: (r["sort_name"], r["id"]),
    "price": lambda r: (r["price_vnd"], r["id"]),
    "-price": lambda r: (-r["price_vnd"], [-b for b in r["id"].bytes]),
    "stars": lambda r: (0, r["sort_name"], r["id"]),  # none certified: name, then id
}


@pytest.mark.slow
@pytest.mark.parametrize("sort", list(SORT_KEYS))
async def test_deep_page_in_10000_products_equals_walking_there(
    client: httpx.AsyncClient, db: AsyncSession, owner: dict[str, Any], sort: str
) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "owner_id": uuid.UUID(owner["id"]),
            "name": f"Sản phẩm {i:05d}",
            "translations": {},
            "group": "food",
            "unit": "kg",
            "unit_step": 1,
            "price_vnd": (i * 7919) % 500 * 1000,  # many equal prices: ties broken by id
            "commune": "Bắc Sơn",
            "province": "Lạng Sơn",
            "status": "active",
            "sort_name": f"san pham {i % 2500:05d}",  # equal names too
            "search_text": f"san pham {i:05d}",
            "commune_key": "bac son",
            "created_at": start + timedelta(seconds=i // 3),  # and equal timestamps
            "updated_at": start,
        }
        for i in range(10_000)
    ]
    await db.execute(insert(Product), rows)
    await db.commit()

    walked = await walk(client, sort, 100, 60)

    seen = [pid for page in walked for pid in page]
    assert len(seen) == len(set(seen)) == 6000
    expected = [str(r["id"]) for r in sorted(rows, key=SORT_KEYS[sort])]
    assert walked[59] == expected[5900:6000]
    assert seen == expected[:6000]


async def test_a_product_is_found_by_its_owners_new_name_and_not_the_old(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
    make_owner: OwnerFactory,
) -> None:
    owner = await make_owner(name="Hợp tác xã Hồng Phong", representative="Hoàng Văn Tư")
    other = await make_owner(name="Hợp tác xã Hồng Thái")
    await create_product_via_api(owner_id=owner["id"], name="Na Chi Lăng")
    await create_product_via_api(owner_id=other["id"], name="Hồi Văn Quan")
    assert await names(client, q="hong phong") == ["Na Chi Lăng"]

    response = await client.patch(
        f"/v1/owners/{owner['id']}", json={"name": "Hợp tác xã Đồng Bành"}, headers=admin
    )
    assert response.status_code == 200, response.text

    assert await names(client, q="dong banh") == ["Na Chi Lăng"]
    assert await names(client, q="đồng bành na") == ["Na Chi Lăng"]
    assert await names(client, q="hong phong") == []
    assert await names(client, q="phong") == []
    assert await names(client, q="hoang van tu") == ["Na Chi Lăng"]
    assert await names(client, q="na chi lang") == ["Na Chi Lăng"]
    assert await names(client, q="hong") == ["Hồi Văn Quan"]


async def test_a_product_is_found_by_its_owners_new_representative_and_not_the_old(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
    make_owner: OwnerFactory,
) -> None:
    owner = await make_owner(name="Hợp tác xã Hồng Phong", representative="Hoàng Văn Tư")
    await create_product_via_api(owner_id=owner["id"], name="Na Chi Lăng")

    response = await client.patch(
        f"/v1/owners/{owner['id']}", json={"representative": "Lý Thị Mai"}, headers=admin
    )
    assert response.status_code == 200, response.text

    assert await names(client, q="ly thi mai") == ["Na Chi Lăng"]
    assert await names(client, q="hoang van tu") == []
    assert await names(client, q="hong phong na") == ["Na Chi Lăng"]


async def test_a_product_moved_to_another_owner_is_found_by_the_new_owners_name(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
    make_owner: OwnerFactory,
) -> None:
    first = await make_owner(name="Hợp tác xã Hồng Phong")
    second = await make_owner(name="Hợp tác xã Tân Thành")
    product = await create_product_via_api(owner_id=first["id"], name="Na Chi Lăng")

    response = await client.patch(
        f"/v1/products/{product['id']}",
        json={"owner_id": second["id"], "translations": {"en": {"name": "Custard apple"}}},
        headers=admin,
    )
    assert response.status_code == 200, response.text

    assert await names(client, q="tan thanh") == ["Na Chi Lăng"]
    assert await names(client, q="hong phong") == []
    assert await names(client, q="custard tan") == ["Na Chi Lăng"]
