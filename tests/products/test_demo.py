from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.db import begin_write
from app.demo import products as demo
from app.demo.seed import SeedReport, seed_demo

pytestmark = pytest.mark.anyio


async def seed(app: FastAPI) -> SeedReport:
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        report = await seed_demo(session)
        await session.commit()
    return report


async def test_seeding_twice_adds_nothing_the_second_time(app: FastAPI) -> None:
    first = await seed(app)
    second = await seed(app)

    assert first.created["products"] == len(demo.PRODUCTS)
    assert first.created["certificates"] == sum(1 for p in demo.PRODUCTS if p.stars)
    assert second.created == {}


async def test_seed_keeps_an_edited_demo_product_as_edited(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await seed(app)
    [mandarin] = (await client.get("/v1/products", params={"q": "quyt vang"})).json()["items"]
    await client.patch(f"/v1/products/{mandarin['id']}", json={"price_vnd": 40000}, headers=admin)

    await seed(app)

    assert (await client.get(f"/v1/products/{mandarin['id']}")).json()["price_vnd"] == 40000


async def test_the_reported_products_have_their_4_stars(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await seed(app)

    response = await client.get("/v1/products", params={"min_stars": 4, "limit": 100})
    four_star = {p["name"]: p for p in response.json()["items"]}

    for name in (
        "Quýt vàng Bắc Sơn",
        "Trà Bổ Khai Ngọc Quế, túi lọc",
        "Trà Bổ Khai Ngọc Quế, hòa tan",
        "Di tích Đình Bắc Lệ",
    ):
        assert four_star[name]["stars"] == 4
    temple = four_star["Di tích Đình Bắc Lệ"]
    assert (temple["group"], temple["unit"], temple["stock"]) == ("tourism", "visit", None)
    mandarin = four_star["Quýt vàng Bắc Sơn"]
    assert (mandarin["unit"], mandarin["unit_step"]) == ("kg", 0.5)


async def test_the_sample_with_an_expired_certificate_has_no_stars(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await seed(app)

    [pork] = (await client.get("/v1/products", params={"q": "khau nhuc"})).json()["items"]
    history = (await client.get(f"/v1/products/{pork['id']}/certificates")).json()["items"]

    assert pork["stars"] is None
    assert [c["valid_until"] for c in history] == ["2024-10-15"]
    assert "Sản phẩm mẫu" in pork["description"]


async def test_the_flagship_certificates_have_no_score_and_read_as_null(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await seed(app)

    for q in ("quyt vang bac son", "tra bo khai", "dinh bac le"):
        for product in (await client.get("/v1/products", params={"q": q})).json()["items"]:
            response = await client.get(f"/v1/products/{product['id']}/certificates")

            assert response.status_code == 200, response.text
            [certificate] = response.json()["items"]
            assert (certificate["stars"], certificate["score"]) == (4, None)


async def test_every_public_read_of_the_demo_data_answers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await seed(app)

    async def every(path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        while True:
            response = await client.get(path, params=params)
            assert response.status_code == 200, (path, response.text)
            items += response.json()["items"]
            if response.json()["next_cursor"] is None:
                return items
            params["cursor"] = response.json()["next_cursor"]

    products = await every("/v1/products")
    assert len(products) == len(demo.PRODUCTS)
    for product in products:
        assert (await client.get(f"/v1/products/{product['id']}")).status_code == 200
        await every(f"/v1/products/{product['id']}/certificates")
    for owner in await every("/v1/owners"):
        assert (await client.get(f"/v1/owners/{owner['id']}")).status_code == 200
    events = await every("/v1/events")
    assert events
    for event in events:
        assert (await client.get(f"/v1/events/{event['id']}")).status_code == 200
        for entry in await every(f"/v1/events/{event['id']}/products"):
            url = f"/v1/events/{event['id']}/products/{entry['product_id']}"
            assert (await client.get(url)).status_code == 200
