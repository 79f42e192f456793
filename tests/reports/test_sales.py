from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.models import Role
from tests.helpers import (
    FakeClock,
    InsertEvent,
    InsertProduct,
    KeyFactory,
    OwnerFactory,
    ScopedPartnerFactory,
    csv_rows,
    idem,
    order_body,
    problem,
)

pytestmark = pytest.mark.anyio

ICT = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh
FESTIVAL_START = datetime(2025, 11, 3, 8, 0, tzinfo=ICT)


async def place(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    clock: FakeClock,
    at: datetime,
    *items: Any,
    **fields: Any,
) -> dict[str, Any]:
    clock.set(at)
    response = await client.post(
        "/v1/orders", json=order_body(*items, **fields), headers=idem(headers)
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


@pytest.fixture
async def festival(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    clock: FakeClock,
) -> dict[str, Any]:
    """A festival with three days of known orders (one cancelled) and one order elsewhere."""
    growers = uuid.UUID((await make_owner(name="Hợp tác xã Quýt vàng Bắc Sơn"))["id"])
    ngoc_que = uuid.UUID((await make_owner(name="Công ty TNHH MTV Ngọc Quế"))["id"])
    mandarin = await insert_product(owner_id=growers, stock=Decimal(20_000), price_vnd=35_000)
    tea = await insert_product(
        owner_id=ngoc_que,
        name="Trà Bổ Khai",
        unit="box",
        unit_step=Decimal(1),
        stock=None,
        price_vnd=120_000,
    )
    event = await insert_event(
        products={mandarin.id: 30_000, tea.id: None}, starts_at=FESTIVAL_START
    )
    at = str(event.id)
    # Day 1 (3 Nov local): 2500.5 kg of mandarins at the festival price, and 2 boxes of tea.
    await place(
        client,
        partner,
        clock,
        datetime(2025, 11, 3, 10, 0, tzinfo=ICT),
        (mandarin, 2500.5),
        event_id=at,
    )
    await place(
        client, partner, clock, datetime(2025, 11, 3, 23, 30, tzinfo=ICT), (tea, 2), event_id=at
    )
    # Day 2 (4 Nov local, still 3 Nov in UTC): 1000 kg and a box.
    await place(
        client,
        partner,
        clock,
        datetime(2025, 11, 4, 0, 30, tzinfo=ICT),
        (mandarin, 1000),
        (tea, 1),
        event_id=at,
    )
    # Cancelled on day 2: never counts.
    cancelled = await place(
        client,
        partner,
        clock,
        datetime(2025, 11, 4, 9, 0, tzinfo=ICT),
        (mandarin, 500),
        event_id=at,
    )
    assert (
        await client.post(f"/v1/orders/{cancelled['id']}/cancel", headers=admin)
    ).status_code == 200
    # Day 3: 0.5 kg.
    await place(
        client,
        partner,
        clock,
        datetime(2025, 11, 5, 12, 0, tzinfo=ICT),
        (mandarin, 0.5),
        event_id=at,
    )
    # Not at the festival: an online order, which the event report leaves out.
    await place(client, partner, clock, datetime(2025, 11, 5, 13, 0, tzinfo=ICT), (mandarin, 7))
    return {
        "event": event,
        "mandarin": mandarin,
        "tea": tea,
        "growers": growers,
        "ngoc_que": ngoc_que,
    }


async def test_event_sales_are_exact_by_product_day_and_owner(
    client: httpx.AsyncClient, admin: dict[str, str], festival: dict[str, Any]
) -> None:
    event, mandarin, tea = festival["event"], festival["mandarin"], festival["tea"]

    response = await client.get(f"/v1/reports/events/{event.id}/sales", headers=admin)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["orders"] == 4
    # 3501 kg x 30,000 + 3 boxes x 120,000
    assert report["revenue_vnd"] == 105_030_000 + 360_000
    assert report["by_product"] == [
        {
            "product_id": str(mandarin.id),
            "name": "Quýt vàng Bắc Sơn",
            "unit": "kg",
            "orders": 3,
            "quantity": 3501,
            "quantity_tonnes": 3.501,
            "revenue_vnd": 105_030_000,
        },
        {
            "product_id": str(tea.id),
            "name": "Trà Bổ Khai",
            "unit": "box",
            "orders": 2,
            "quantity": 3,
            "quantity_tonnes": None,
            "revenue_vnd": 360_000,
        },
    ]
    assert report["by_day"] == [
        {"date": "2025-11-03", "orders": 2, "revenue_vnd": 75_015_000 + 240_000},
        {"date": "2025-11-04", "orders": 1, "revenue_vnd": 30_000_000 + 120_000},
        {"date": "2025-11-05", "orders": 1, "revenue_vnd": 15_000},
    ]
    assert report["by_owner"] == [
        {
            "owner_id": str(festival["growers"]),
            "name": "Hợp tác xã Quýt vàng Bắc Sơn",
            "orders": 3,
            "revenue_vnd": 105_030_000,
        },
        {
            "owner_id": str(festival["ngoc_que"]),
            "name": "Công ty TNHH MTV Ngọc Quế",
            "orders": 2,
            "revenue_vnd": 360_000,
        },
    ]


async def test_event_sales_csv_agrees_with_json(
    client: httpx.AsyncClient, admin: dict[str, str], festival: dict[str, Any]
) -> None:
    url = f"/v1/reports/events/{festival['event'].id}/sales"

    as_json = (await client.get(url, headers=admin)).json()
    as_csv = await client.get(url, headers={**admin, "Accept": "text/csv"})

    assert as_csv.status_code == 200
    rows = csv_rows(as_csv)
    total = [r for r in rows if r["section"] == "total"]
    assert [(int(r["orders"]), int(r["revenue_vnd"])) for r in total] == [
        (as_json["orders"], as_json["revenue_vnd"])
    ]
    assert [
        (
            r["id"],
            r["name"],
            r["unit"],
            int(r["orders"]),
            Decimal(r["quantity"]),
            Decimal(r["quantity_tonnes"]) if r["quantity_tonnes"] else None,
            int(r["revenue_vnd"]),
        )
        for r in rows
        if r["section"] == "product"
    ] == [
        (
            p["product_id"],
            p["name"],
            p["unit"],
            p["orders"],
            Decimal(str(p["quantity"])),
            Decimal(str(p["quantity_tonnes"])) if p["quantity_tonnes"] is not None else None,
            p["revenue_vnd"],
        )
        for p in as_json["by_product"]
    ]
    assert [
        (r["date"], int(r["orders"]), int(r["revenue_vnd"])) for r in rows if r["section"] == "day"
    ] == [(d["date"], d["orders"], d["revenue_vnd"]) for d in as_json["by_day"]]
    assert [
        (r["id"], r["name"], int(r["orders"]), int(r["revenue_vnd"]))
        for r in rows
        if r["section"] == "owner"
    ] == [(o["owner_id"], o["name"], o["orders"], o["revenue_vnd"]) for o in as_json["by_owner"]]


async def test_more_than_ten_tonnes_shows_in_tonnes(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
    clock: FakeClock,
) -> None:
    mandarin = await insert_product(stock=None, unit_step=Decimal("0.5"))
    event = await insert_event(products={mandarin.id: None}, starts_at=FESTIVAL_START)
    for day in range(7):
        await place(
            client,
            partner,
            clock,
            FESTIVAL_START + timedelta(days=day, hours=2),
            (mandarin, 1500.5),
            event_id=str(event.id),
        )

    report = (await client.get(f"/v1/reports/events/{event.id}/sales", headers=admin)).json()

    assert report["by_product"][0]["quantity"] == 10503.5
    assert report["by_product"][0]["quantity_tonnes"] == 10.5035
    assert len(report["by_day"]) == 7


async def test_owner_sales_count_only_its_own_lines(
    client: httpx.AsyncClient, make_key: KeyFactory, festival: dict[str, Any]
) -> None:
    tea_owner = await make_key(Role.owner, owner_id=festival["ngoc_que"])

    response = await client.get(
        f"/v1/reports/owners/{festival['ngoc_que']}/sales",
        params={"from": "2025-11-01", "to": "2025-11-30"},
        headers=tea_owner,
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["from"], report["to"]) == ("2025-11-01", "2025-11-30")
    assert report["orders"] == 2
    assert report["revenue_vnd"] == 360_000
    assert [(d["date"], d["revenue_vnd"]) for d in report["by_day"]] == [
        ("2025-11-03", 240_000),
        ("2025-11-04", 120_000),
    ]


async def test_owner_sales_date_range_is_in_local_days(
    client: httpx.AsyncClient, admin: dict[str, str], festival: dict[str, Any]
) -> None:
    response = await client.get(
        f"/v1/reports/owners/{festival['growers']}/sales",
        params={"from": "2025-11-04", "to": "2025-11-04"},
        headers=admin,
    )

    report = response.json()
    assert report["orders"] == 1  # 00:30 on the 4th local time, though the 3rd in UTC
    assert report["revenue_vnd"] == 30_000_000


async def test_an_owner_key_cannot_read_another_owners_sales(
    client: httpx.AsyncClient, make_key: KeyFactory, festival: dict[str, Any]
) -> None:
    tea_owner = await make_key(Role.owner, owner_id=festival["ngoc_que"])

    response = await client.get(
        f"/v1/reports/owners/{festival['growers']}/sales",
        params={"from": "2025-11-01", "to": "2025-11-30"},
        headers=tea_owner,
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "not_your_owner"


@pytest.mark.parametrize("role", [Role.partner, Role.owner])
async def test_event_report_is_refused_to_owners_and_to_partners_without_a_grant(
    client: httpx.AsyncClient, make_key: KeyFactory, festival: dict[str, Any], role: Role
) -> None:
    headers = await make_key(role, owner_id=festival["growers"] if role is Role.owner else None)

    response = await client.get(f"/v1/reports/events/{festival['event'].id}/sales", headers=headers)

    assert response.status_code == 403


async def test_a_partner_key_granted_the_event_reads_its_sales(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_scoped_partner: ScopedPartnerFactory,
    festival: dict[str, Any],
) -> None:
    partner = await make_scoped_partner(festival["event"].id)
    url = f"/v1/reports/events/{festival['event'].id}/sales"
    csv_accept = {"Accept": "text/csv"}

    as_json = await client.get(url, headers=partner)
    as_csv = await client.get(url, headers={**partner, **csv_accept})

    assert as_json.status_code == 200, as_json.text
    assert as_json.json() == (await client.get(url, headers=admin)).json()
    assert as_json.json()["orders"] == 4
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.text == (await client.get(url, headers={**admin, **csv_accept})).text


@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
async def test_a_partner_key_reads_no_sales_of_an_event_it_was_not_granted(
    client: httpx.AsyncClient,
    make_scoped_partner: ScopedPartnerFactory,
    insert_event: InsertEvent,
    festival: dict[str, Any],
    accept: str,
) -> None:
    partner = await make_scoped_partner((await insert_event()).id)

    response = await client.get(
        f"/v1/reports/events/{festival['event'].id}/sales", headers={**partner, "Accept": accept}
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "event_not_granted"


async def test_reports_need_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/reports/events/{uuid.uuid4()}/sales")

    assert response.status_code == 401


async def test_unknown_event_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get(f"/v1/reports/events/{uuid.uuid4()}/sales", headers=admin)

    assert response.status_code == 404


async def test_reversed_range_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], festival: dict[str, Any]
) -> None:
    response = await client.get(
        f"/v1/reports/owners/{festival['growers']}/sales",
        params={"from": "2025-11-30", "to": "2025-11-01"},
        headers=admin,
    )

    assert response.status_code == 422
    assert problem(response)["errors"][0]["loc"] == ["query", "to"]
