from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import EventProduct, Product, ProductStatus, Role, Unit
from tests.helpers import (
    CreateEventViaApi,
    FakeClock,
    InsertEvent,
    InsertProduct,
    KeyFactory,
    OwnerFactory,
    problem,
    vn,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def festival_time(clock: FakeClock) -> None:
    clock.set(vn(1))  # the festival (3rd to 9th) is still to come


async def entries(db: AsyncSession) -> list[tuple[uuid.UUID, str | None, int | None]]:
    rows = await db.execute(
        select(EventProduct.product_id, EventProduct.booth, EventProduct.event_price_vnd)
    )
    return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def count_entries(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(EventProduct)) or 0)


@pytest.fixture
async def growers(make_owner: OwnerFactory) -> dict[str, Any]:
    return await make_owner(name="Hợp tác xã Quýt vàng Bắc Sơn")


@pytest.fixture
async def ngoc_que(make_owner: OwnerFactory) -> dict[str, Any]:
    return await make_owner(name="Công ty TNHH MTV Ngọc Quế", kind="company", commune="Hữu Lũng")


async def owner_key(make_key: KeyFactory, owner: dict[str, Any]) -> dict[str, str]:
    return await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))


@pytest.mark.usefixtures("festival_time")
async def test_admin_enters_a_product_with_booth_and_festival_price(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"], price_vnd=60_000)

    response = await client.post(
        f"/v1/events/{event['id']}/products",
        json={"product_id": str(mandarin.id), "booth": "A12", "event_price_vnd": 50_000},
        headers=admin,
    )

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/v1/events/{event['id']}/products/{mandarin.id}"
    assert {k: body[k] for k in ("product_id", "name", "unit", "owner", "booth")} == {
        "product_id": str(mandarin.id),
        "name": "Quýt vàng Bắc Sơn",
        "unit": "kg",
        "owner": {"id": growers["id"], "name": "Hợp tác xã Quýt vàng Bắc Sơn"},
        "booth": "A12",
    }
    assert (body["event_price_vnd"], body["regular_price_vnd"], body["price_vnd"]) == (
        50_000,
        60_000,
        50_000,
    )


@pytest.mark.usefixtures("festival_time")
async def test_list_shows_owner_booth_and_the_price_that_applies(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    ngoc_que: dict[str, Any],
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"], price_vnd=60_000)
    tea = await insert_product(
        ngoc_que["id"], name="Trà Bổ Khai Ngọc Quế túi lọc", unit=Unit.box, price_vnd=85_000
    )
    url = f"/v1/events/{event['id']}/products"
    await client.post(
        url, json={"product_id": str(mandarin.id), "event_price_vnd": 50_000}, headers=admin
    )
    await client.post(url, json={"product_id": str(tea.id), "booth": "B3"}, headers=admin)

    response = await client.get(url)

    assert response.status_code == 200
    assert [
        (e["name"], e["owner"]["name"], e["booth"], e["price_vnd"])
        for e in response.json()["items"]
    ] == [
        ("Quýt vàng Bắc Sơn", "Hợp tác xã Quýt vàng Bắc Sơn", None, 50_000),
        ("Trà Bổ Khai Ngọc Quế túi lọc", "Công ty TNHH MTV Ngọc Quế", "B3", 85_000),
    ]


@contextmanager
def count_queries(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = app.state.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)


@pytest.mark.usefixtures("festival_time")
async def test_list_runs_the_same_queries_whatever_the_page_size(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    make_owner: OwnerFactory,
) -> None:
    event = await create_event_via_api()
    url = f"/v1/events/{event['id']}/products"
    for i in range(6):
        owner = await make_owner(name=f"Hộ {i}")
        product = await insert_product(owner["id"], name=f"Sản phẩm {i}")
        await client.post(url, json={"product_id": str(product.id)}, headers=admin)

    with count_queries(app) as one:
        assert len((await client.get(url, params={"limit": 1})).json()["items"]) == 1
    with count_queries(app) as six:
        assert len((await client.get(url, params={"limit": 6})).json()["items"]) == 6

    assert len(one) == len(six)


@pytest.mark.usefixtures("festival_time")
async def test_owner_enters_its_own_product(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"], price_vnd=60_000)

    response = await client.post(
        f"/v1/events/{event['id']}/products",
        json={"product_id": str(mandarin.id), "booth": "A1"},
        headers=await owner_key(make_key, growers),
    )

    assert response.status_code == 201
    assert response.json()["price_vnd"] == 60_000


@pytest.mark.usefixtures("festival_time")
async def test_owner_cannot_enter_another_owners_product(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    ngoc_que: dict[str, Any],
    db: AsyncSession,
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"])

    response = await client.post(
        f"/v1/events/{event['id']}/products",
        json={"product_id": str(mandarin.id)},
        headers=await owner_key(make_key, ngoc_que),
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "not_your_product"
    assert await count_entries(db) == 0


@pytest.mark.usefixtures("festival_time")
async def test_owner_cannot_change_or_remove_another_owners_entry(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    ngoc_que: dict[str, Any],
    db: AsyncSession,
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"])
    url = f"/v1/events/{event['id']}/products"
    await client.post(
        url,
        json={"product_id": str(mandarin.id), "booth": "A12", "event_price_vnd": 50_000},
        headers=admin,
    )
    other = await owner_key(make_key, ngoc_que)

    changed = await client.patch(
        f"{url}/{mandarin.id}", json={"booth": "Z9", "event_price_vnd": 1}, headers=other
    )
    removed = await client.delete(f"{url}/{mandarin.id}", headers=other)

    assert (changed.status_code, removed.status_code) == (403, 403)
    assert problem(changed)["code"] == problem(removed)["code"] == "not_your_product"
    assert await entries(db) == [(mandarin.id, "A12", 50_000)]


@pytest.mark.usefixtures("festival_time")
async def test_owner_changes_and_removes_its_own_entry(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    db: AsyncSession,
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"])
    key = await owner_key(make_key, growers)
    url = f"/v1/events/{event['id']}/products"
    await client.post(url, json={"product_id": str(mandarin.id)}, headers=key)
    etag = (await client.get(f"{url}/{mandarin.id}")).headers["etag"]

    changed = await client.patch(
        f"{url}/{mandarin.id}",
        json={"booth": "C4", "event_price_vnd": 55_000},
        headers={**key, "If-Match": etag},
    )
    assert (changed.status_code, changed.json()["booth"], changed.json()["price_vnd"]) == (
        200,
        "C4",
        55_000,
    )
    removed = await client.delete(f"{url}/{mandarin.id}", headers=key)

    assert removed.status_code == 204
    assert await count_entries(db) == 0
    assert (await client.get(f"{url}/{mandarin.id}")).status_code == 404


@pytest.mark.usefixtures("festival_time")
async def test_clearing_the_event_price_falls_back_to_the_products(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"], price_vnd=60_000)
    url = f"/v1/events/{event['id']}/products"
    await client.post(
        url, json={"product_id": str(mandarin.id), "event_price_vnd": 1}, headers=admin
    )

    response = await client.patch(
        f"{url}/{mandarin.id}", json={"event_price_vnd": None}, headers=admin
    )

    assert (response.json()["event_price_vnd"], response.json()["price_vnd"]) == (None, 60_000)


@pytest.mark.usefixtures("festival_time")
async def test_entering_a_product_twice_is_409(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    db: AsyncSession,
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"])
    url = f"/v1/events/{event['id']}/products"
    await client.post(url, json={"product_id": str(mandarin.id), "booth": "A"}, headers=admin)

    response = await client.post(
        url, json={"product_id": str(mandarin.id), "booth": "B"}, headers=admin
    )

    assert response.status_code == 409
    assert problem(response)["code"] == "already_entered"
    assert await entries(db) == [(mandarin.id, "A", None)]


@pytest.mark.usefixtures("festival_time")
async def test_an_archived_product_cannot_be_entered(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    db: AsyncSession,
) -> None:
    event = await create_event_via_api()
    old = await insert_product(growers["id"], status=ProductStatus.archived)

    response = await client.post(
        f"/v1/events/{event['id']}/products", json={"product_id": str(old.id)}, headers=admin
    )

    assert response.status_code == 409
    assert problem(response)["code"] == "product_archived"
    assert await count_entries(db) == 0


@pytest.mark.usefixtures("festival_time")
async def test_an_unknown_product_is_404(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    db: AsyncSession,
) -> None:
    event = await create_event_via_api()

    response = await client.post(
        f"/v1/events/{event['id']}/products", json={"product_id": str(uuid.uuid4())}, headers=admin
    )

    assert response.status_code == 404
    assert problem(response)["code"] == "unknown_product"
    assert await count_entries(db) == 0


async def test_an_unknown_event_is_404(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    growers: dict[str, Any],
) -> None:
    mandarin = await insert_product(growers["id"])

    posted = await client.post(
        f"/v1/events/{uuid.uuid4()}/products", json={"product_id": str(mandarin.id)}, headers=admin
    )
    listed = await client.get(f"/v1/events/{uuid.uuid4()}/products")

    assert (posted.status_code, listed.status_code) == (404, 404)


@pytest.mark.parametrize("moment", [vn(9, 22), vn(20)])
async def test_an_ended_event_takes_no_entries(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    clock: FakeClock,
    db: AsyncSession,
    moment: Any,
) -> None:
    clock.set(vn(1))
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"])
    clock.set(moment)

    response = await client.post(
        f"/v1/events/{event['id']}/products", json={"product_id": str(mandarin.id)}, headers=admin
    )

    assert response.status_code == 409
    assert (problem(response)["code"], problem(response)["event_status"]) == (
        "event_closed",
        "ended",
    )
    assert await count_entries(db) == 0


async def test_an_ongoing_event_takes_entries(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    clock: FakeClock,
) -> None:
    clock.set(vn(5))
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"])

    response = await client.post(
        f"/v1/events/{event['id']}/products", json={"product_id": str(mandarin.id)}, headers=admin
    )

    assert response.status_code == 201


@pytest.mark.usefixtures("festival_time")
async def test_a_cancelled_event_takes_no_entries_nor_changes(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    db: AsyncSession,
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"])
    tea = await insert_product(growers["id"], name="Trà")
    url = f"/v1/events/{event['id']}/products"
    await client.post(url, json={"product_id": str(tea.id), "booth": "A"}, headers=admin)
    await client.post(f"/v1/events/{event['id']}/cancel", headers=admin)

    entered = await client.post(url, json={"product_id": str(mandarin.id)}, headers=admin)
    changed = await client.patch(f"{url}/{tea.id}", json={"booth": "B"}, headers=admin)
    removed = await client.delete(f"{url}/{tea.id}", headers=admin)

    assert [r.status_code for r in (entered, changed, removed)] == [409, 409, 409]
    assert {problem(r)["code"] for r in (entered, changed, removed)} == {"event_closed"}
    assert await entries(db) == [(tea.id, "A", None)]


@pytest.mark.usefixtures("festival_time")
async def test_partner_key_cannot_enter_products(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"])

    response = await client.post(
        f"/v1/events/{event['id']}/products", json={"product_id": str(mandarin.id)}, headers=partner
    )

    assert response.status_code == 403


@pytest.mark.usefixtures("festival_time")
async def test_archived_products_leave_the_public_list(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    db: AsyncSession,
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"])
    url = f"/v1/events/{event['id']}/products"
    await client.post(url, json={"product_id": str(mandarin.id)}, headers=admin)
    await db.execute(
        update(Product).where(Product.id == mandarin.id).values(status=ProductStatus.archived)
    )
    await db.commit()

    assert (await client.get(url)).json()["items"] == []


@pytest.mark.usefixtures("festival_time")
async def test_two_concurrent_entries_of_one_product_one_wins(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    growers: dict[str, Any],
    db: AsyncSession,
) -> None:
    event = await create_event_via_api()
    mandarin = await insert_product(growers["id"])
    url = f"/v1/events/{event['id']}/products"

    responses = await asyncio.gather(
        client.post(url, json={"product_id": str(mandarin.id), "booth": "A"}, headers=admin),
        client.post(url, json={"product_id": str(mandarin.id), "booth": "B"}, headers=admin),
    )

    assert sorted(r.status_code for r in responses) == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert problem(loser)["code"] == "already_entered"
    assert await count_entries(db) == 1


async def test_entries_say_which_language_each_name_is_in(
    client: httpx.AsyncClient, insert_product: InsertProduct, insert_event: InsertEvent
) -> None:
    translated = await insert_product(
        name="Quýt vàng Bắc Sơn", translations={"en": {"name": "Golden mandarin"}}
    )
    untranslated = await insert_product(name="Trà Bổ Khai")
    event = await insert_event(products={translated.id: None, untranslated.id: None})

    response = await client.get(
        f"/v1/events/{event.id}/products", headers={"Accept-Language": "en"}
    )

    assert sorted((e["name"], e["language"]) for e in response.json()["items"]) == [
        ("Golden mandarin", "en"),
        ("Trà Bổ Khai", "vi"),
    ]
    assert response.headers["content-language"] == "en, vi"
    assert response.headers["vary"] == "Accept-Language, Authorization"


@pytest.mark.usefixtures("festival_time")
async def test_the_list_pages_by_name_and_filters_by_owner(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    insert_product: InsertProduct,
    make_owner: OwnerFactory,
) -> None:
    event = await create_event_via_api()
    url = f"/v1/events/{event['id']}/products"
    owners = [await make_owner(name=f"Hộ {i}") for i in range(2)]
    names = [f"Sản phẩm {letter}" for letter in "FEDCBA"]
    for i, name in enumerate(names):
        product = await insert_product(owners[i % 2]["id"], name=name)
        entered = await client.post(url, json={"product_id": str(product.id)}, headers=admin)
        assert entered.status_code == 201, entered.text

    async def walk(**params: str) -> list[str]:
        seen: list[str] = []
        cursor: dict[str, str] = {}
        for _ in range(len(names)):
            page = (await client.get(url, params={"limit": "2", **params, **cursor})).json()
            seen += [item["name"] for item in page["items"]]
            if page["next_cursor"] is None:
                return seen
            cursor = {"cursor": page["next_cursor"]}
        raise AssertionError(f"no last page after {seen}")

    assert await walk() == sorted(names)
    first_owners = await walk(owner_id=owners[0]["id"])
    assert first_owners == sorted(names[0::2])
