from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ProductStatus
from tests.helpers import (
    FakeClock,
    InsertEvent,
    InsertProduct,
    idem,
    order_body,
    order_count,
    problem,
    stock_of,
)

pytestmark = pytest.mark.anyio


async def test_partner_places_an_order(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(100))

    response = await client.post(
        "/v1/orders", json=order_body((mandarin, 2.5)), headers=idem(partner)
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/orders/{body['id']}"
    assert body["status"] == "pending"
    assert body["number"].startswith("LS")
    assert body["lines"] == [
        {
            "product_id": str(mandarin.id),
            "product_name": "Quýt vàng Bắc Sơn",
            "unit": "kg",
            "quantity": 2.5,
            "unit_price_vnd": 35_000,
            "line_total_vnd": 87_500,
        }
    ]
    assert body["total_vnd"] == 87_500
    assert [h["status"] for h in body["history"]] == ["pending"]
    assert await stock_of(db, mandarin) == Decimal("97.5")


async def test_quantities_are_exact(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    tea = await insert_product(
        name="Trà", unit_step=Decimal("0.1"), stock=Decimal("0.3"), price_vnd=10
    )

    response = await client.post(
        "/v1/orders", json=order_body((tea, 0.1), (tea, 0.2)), headers=idem(partner)
    )

    assert response.status_code == 201, response.text
    assert response.json()["lines"][0]["quantity"] == 0.3
    assert await stock_of(db, tea) == Decimal(0)


async def test_fractional_totals_round_half_up(
    client: httpx.AsyncClient, partner: dict[str, str], insert_product: InsertProduct
) -> None:
    herb = await insert_product(unit_step=Decimal("0.001"), price_vnd=1001, stock=None)

    response = await client.post("/v1/orders", json=order_body((herb, 0.5)), headers=idem(partner))

    assert response.json()["lines"][0]["line_total_vnd"] == 501  # 500.5 rounds up


async def test_items_of_one_product_are_merged(
    client: httpx.AsyncClient, partner: dict[str, str], insert_product: InsertProduct
) -> None:
    mandarin = await insert_product()

    response = await client.post(
        "/v1/orders", json=order_body((mandarin, 1), (mandarin, 1.5)), headers=idem(partner)
    )

    assert [(line["quantity"], line["line_total_vnd"]) for line in response.json()["lines"]] == [
        (2.5, 87_500)
    ]


async def test_quantity_off_the_unit_step_is_422_and_takes_nothing(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(10))

    response = await client.post(
        "/v1/orders", json=order_body((mandarin, 0.3)), headers=idem(partner)
    )

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "invalid_quantity"
    assert body["errors"][0]["loc"] == ["body", "items", 0, "quantity"]
    assert await stock_of(db, mandarin) == Decimal(10)
    assert await order_count(db) == 0


async def test_lines_that_merge_into_a_step_are_still_each_off_the_step(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(10), unit_step=Decimal("0.5"))

    response = await client.post(
        "/v1/orders",
        json=order_body((mandarin, 1), (mandarin, 0.3), (mandarin, 0.2)),
        headers=idem(partner),
    )

    assert response.status_code == 422, response.text
    body = problem(response)
    assert body["code"] == "invalid_quantity"
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["body", "items", 1, "quantity"], "unit_step"),
        (["body", "items", 2, "quantity"], "unit_step"),
    ]
    assert await stock_of(db, mandarin) == Decimal(10)
    assert await order_count(db) == 0


async def test_fifty_lines_of_one_product_cannot_pass_the_cap_together(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    temple = await insert_product(stock=None, unit="visit", unit_step=Decimal(1))

    response = await client.post(
        "/v1/orders", json=order_body(*[(temple, 100_000)] * 50), headers=idem(partner)
    )

    assert response.status_code == 422, response.text
    body = problem(response)
    assert body["code"] == "invalid_quantity"
    assert [e["loc"] for e in body["errors"]] == [
        ["body", "items", i, "quantity"] for i in range(50)
    ]
    assert {e["type"] for e in body["errors"]} == {"max_quantity"}
    assert "5000000" in body["errors"][0]["msg"]
    assert await order_count(db) == 0


async def test_merged_lines_over_the_cap_name_only_that_products_lines(
    client: httpx.AsyncClient, partner: dict[str, str], insert_product: InsertProduct
) -> None:
    temple = await insert_product(stock=None, unit="visit", unit_step=Decimal(1))
    mandarin = await insert_product(stock=None)

    response = await client.post(
        "/v1/orders",
        json=order_body((temple, 60_000), (mandarin, 1), (temple, 40_001)),
        headers=idem(partner),
    )

    assert response.status_code == 422, response.text
    assert [e["loc"] for e in problem(response)["errors"]] == [
        ["body", "items", 0, "quantity"],
        ["body", "items", 2, "quantity"],
    ]


async def test_merged_lines_up_to_the_cap_are_taken(
    client: httpx.AsyncClient, partner: dict[str, str], insert_product: InsertProduct
) -> None:
    temple = await insert_product(stock=None, unit="visit", unit_step=Decimal(1), price_vnd=0)

    response = await client.post(
        "/v1/orders", json=order_body((temple, 60_000), (temple, 40_000)), headers=idem(partner)
    )

    assert response.status_code == 201, response.text
    assert [line["quantity"] for line in response.json()["lines"]] == [100_000]


@pytest.mark.parametrize("quantity", [0, -1, 0.0001, "2", 100_001])
async def test_invalid_quantity_is_422(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
    quantity: float | str,
) -> None:
    mandarin = await insert_product()

    response = await client.post(
        "/v1/orders", json=order_body((mandarin, quantity)), headers=idem(partner)
    )

    assert response.status_code == 422
    assert problem(response)["errors"][0]["loc"][:4] == ["body", "items", 0, "quantity"]
    assert await order_count(db) == 0


async def test_insufficient_stock_names_each_short_product_and_takes_nothing(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product(stock=Decimal(5))
    tea = await insert_product(
        name="Trà Bổ Khai", unit="box", unit_step=Decimal(1), stock=Decimal(1), price_vnd=120_000
    )
    plenty = await insert_product(name="Na Chi Lăng", stock=Decimal(1000))

    response = await client.post(
        "/v1/orders", json=order_body((mandarin, 6), (tea, 2), (plenty, 1)), headers=idem(partner)
    )

    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "insufficient_stock"
    assert sorted(body["items"], key=lambda i: i["name"]) == [
        {
            "product_id": str(mandarin.id),
            "name": "Quýt vàng Bắc Sơn",
            "unit": "kg",
            "requested": 6,
            "available": 5,
        },
        {
            "product_id": str(tea.id),
            "name": "Trà Bổ Khai",
            "unit": "box",
            "requested": 2,
            "available": 1,
        },
    ]
    assert await stock_of(db, mandarin) == Decimal(5)
    assert await stock_of(db, tea) == Decimal(1)
    assert await stock_of(db, plenty) == Decimal(1000)
    assert await order_count(db) == 0


async def test_untracked_stock_is_never_short(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    temple = await insert_product(
        name="Di tích Đình Bắc Lệ", unit="visit", unit_step=Decimal(1), stock=None, price_vnd=0
    )

    response = await client.post(
        "/v1/orders", json=order_body((temple, 5000)), headers=idem(partner)
    )

    assert response.status_code == 201
    assert await stock_of(db, temple) is None


async def test_archived_or_unknown_products_cannot_be_ordered(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    archived = await insert_product(status=ProductStatus.archived)
    unknown = "00000000-0000-4000-8000-000000000000"

    archived_response = await client.post(
        "/v1/orders", json=order_body((archived, 1)), headers=idem(partner)
    )
    unknown_response = await client.post(
        "/v1/orders",
        json=order_body((archived, 1), (unknown, 1)),
        headers=idem(partner),
    )

    assert archived_response.status_code == 409
    assert problem(archived_response)["code"] == "product_unavailable"
    assert unknown_response.status_code == 422
    assert problem(unknown_response)["errors"] == [
        {
            "loc": ["body", "items", 1, "product_id"],
            "msg": "no such product",
            "type": "unknown_product",
        }
    ]
    assert await order_count(db) == 0


async def test_event_price_applies_at_the_event(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
) -> None:
    mandarin = await insert_product(price_vnd=35_000)
    tea = await insert_product(name="Trà", unit="box", unit_step=Decimal(1), price_vnd=120_000)
    festival = await insert_event(products={mandarin.id: 30_000, tea.id: None})

    response = await client.post(
        "/v1/orders",
        json=order_body((mandarin, 10), (tea, 1), event_id=str(festival.id)),
        headers=idem(partner),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["channel"] == "event"
    assert body["event_id"] == str(festival.id)
    assert [line["unit_price_vnd"] for line in body["lines"]] == [30_000, 120_000]
    assert body["total_vnd"] == 420_000


async def test_products_not_entered_in_the_event_are_refused(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product()
    outsider = await insert_product(name="Hồi Văn Quan")
    festival = await insert_event(products={mandarin.id: None})

    response = await client.post(
        "/v1/orders",
        json=order_body((mandarin, 1), (outsider, 1), event_id=str(festival.id)),
        headers=idem(partner),
    )

    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "product_not_at_event"
    assert [e["loc"] for e in body["errors"]] == [["body", "items", 1, "product_id"]]
    assert await order_count(db) == 0


@pytest.mark.parametrize("state", ["ended", "cancelled"])
async def test_closed_events_take_no_orders(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    clock: FakeClock,
    db: AsyncSession,
    state: str,
) -> None:
    mandarin = await insert_product()
    if state == "ended":
        festival = await insert_event(
            products={mandarin.id: None}, starts_at=clock.now() - timedelta(days=10)
        )
    else:
        festival = await insert_event(products={mandarin.id: None}, cancelled_at=clock.now())

    response = await client.post(
        "/v1/orders",
        json=order_body((mandarin, 1), event_id=str(festival.id)),
        headers=idem(partner),
    )

    assert response.status_code == 409
    assert problem(response)["code"] == "event_closed"
    assert await order_count(db) == 0


async def test_event_channel_needs_an_event(
    client: httpx.AsyncClient, partner: dict[str, str], insert_product: InsertProduct
) -> None:
    mandarin = await insert_product()

    response = await client.post(
        "/v1/orders", json=order_body((mandarin, 1), channel="event"), headers=idem(partner)
    )

    assert response.status_code == 422
    assert problem(response)["code"] == "event_required"


async def test_unknown_fields_are_refused(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    db: AsyncSession,
) -> None:
    mandarin = await insert_product()

    response = await client.post(
        "/v1/orders", json=order_body((mandarin, 1), total_vnd=1), headers=idem(partner)
    )

    assert response.status_code == 422
    assert problem(response)["errors"][0]["loc"] == ["body", "total_vnd"]
    assert await order_count(db) == 0


async def test_too_many_lines_is_422(
    client: httpx.AsyncClient, partner: dict[str, str], insert_product: InsertProduct
) -> None:
    mandarin = await insert_product()

    response = await client.post(
        "/v1/orders", json=order_body(*[(mandarin, 1)] * 51), headers=idem(partner)
    )

    assert response.status_code == 422
    assert problem(response)["errors"][0]["loc"] == ["body", "items"]
