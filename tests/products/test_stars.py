"""A product's stars: those of its latest certificate valid today, counted from 3 stars."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.text import fold
from app.models import Product
from app.products.upkeep import StarsKeeper
from tests.helpers import CertificateFactory, CreateProductViaApi, FakeClock, problem

pytestmark = pytest.mark.anyio

# 00:30 in Lang Son on 15 June 2026 is still 14 June in UTC: "today" is the province's date.
NOW = datetime(2026, 6, 14, 17, 30, tzinfo=UTC)
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _now(clock: FakeClock) -> None:
    clock.set(NOW)


async def stars(client: httpx.AsyncClient, product: dict[str, Any]) -> int | None:
    value: int | None = (await client.get(f"/v1/products/{product['id']}")).json()["stars"]
    return value


async def listed(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/products", params={"sort": "name", **params})
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["items"]]


async def test_a_valid_certificate_gives_its_stars(
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    product = await create_product_via_api()
    certificate = await add_certificate(product["id"], 4, date(2025, 9, 30))

    assert await stars(client, product) == 4
    assert certificate["valid_until"] == "2028-09-30"
    assert certificate["level"] == "provincial"


async def test_certificate_expired_yesterday_no_longer_counts(
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    product = await create_product_via_api()
    await add_certificate(
        product["id"], 4, date(2023, 6, 1), valid_until=(TODAY - timedelta(days=1)).isoformat()
    )

    assert await stars(client, product) is None


async def test_certificate_counts_through_its_last_day_then_stops(
    client: httpx.AsyncClient,
    clock: FakeClock,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    product = await create_product_via_api()
    await add_certificate(product["id"], 4, date(2023, 6, 1), valid_until=TODAY.isoformat())
    assert await stars(client, product) == 4

    clock.advance(timedelta(days=1))

    assert await stars(client, product) is None
    assert await listed(client, certified="true") == []


async def test_a_newer_3_star_certificate_replaces_an_older_4_star(
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    product = await create_product_via_api()
    await add_certificate(product["id"], 4, date(2024, 9, 30))
    await add_certificate(product["id"], 3, date(2025, 9, 30))

    assert await stars(client, product) == 3
    assert await listed(client, min_stars=4) == []


async def test_a_newer_2_star_evaluation_means_not_certified(
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    product = await create_product_via_api()
    await add_certificate(product["id"], 3, date(2024, 9, 30))
    two = await add_certificate(product["id"], 2, date(2025, 9, 30))

    assert await stars(client, product) is None
    assert two["level"] is None


async def test_a_certificate_issued_in_the_future_does_not_count_yet(
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    product = await create_product_via_api()
    await add_certificate(product["id"], 5, TODAY + timedelta(days=1))

    assert await stars(client, product) is None


async def test_certified_and_min_stars_agree_with_stars(
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    three = await create_product_via_api(name="A ba sao")
    four = await create_product_via_api(name="B bốn sao")
    five = await create_product_via_api(name="C năm sao")
    expired = await create_product_via_api(name="D hết hạn")
    await create_product_via_api(name="E chưa có")
    await add_certificate(three["id"], 3, date(2025, 9, 30))
    await add_certificate(four["id"], 4, date(2025, 9, 30))
    await add_certificate(five["id"], 5, date(2025, 9, 30))
    await add_certificate(expired["id"], 5, date(2022, 1, 10))

    everything = (await client.get("/v1/products", params={"limit": 100})).json()["items"]
    by_stars = {p["name"]: p["stars"] for p in everything}

    assert by_stars == {
        "A ba sao": 3,
        "B bốn sao": 4,
        "C năm sao": 5,
        "D hết hạn": None,
        "E chưa có": None,
    }
    assert await listed(client, certified="true") == sorted(
        n for n, s in by_stars.items() if s is not None
    )
    assert await listed(client, certified="false") == ["D hết hạn", "E chưa có"]
    for minimum in (1, 3, 4, 5):
        assert await listed(client, min_stars=minimum) == sorted(
            n for n, s in by_stars.items() if s is not None and s >= minimum
        )
    sorted_by_stars = (await client.get("/v1/products", params={"sort": "stars"})).json()
    assert [p["name"] for p in sorted_by_stars["items"]] == [
        "C năm sao",
        "B bốn sao",
        "A ba sao",
        "D hết hạn",
        "E chưa có",
    ]


async def test_five_stars_is_central_and_defaults_to_36_months(
    create_product_via_api: CreateProductViaApi, add_certificate: CertificateFactory
) -> None:
    product = await create_product_via_api()

    certificate = await add_certificate(product["id"], 5, date(2024, 2, 29))

    assert certificate["level"] == "central"
    assert certificate["valid_until"] == "2027-02-28"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"stars": 4, "score": 95}, 422),
        ({"stars": 3, "score": 49}, 422),
        ({"stars": 6, "score": 95}, 422),
        ({"stars": 4, "score": 80, "valid_until": "2025-01-01"}, 422),
    ],
)
async def test_inconsistent_certificates_are_refused(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
    body: dict[str, Any],
    status: int,
) -> None:
    product = await create_product_via_api()
    payload = {"decision_no": "1/QĐ-UBND", "issued_on": "2025-09-30", **body}

    response = await client.post(
        f"/v1/products/{product['id']}/certificates", json=payload, headers=admin
    )

    assert response.status_code == status
    problem(response)
    history = await client.get(f"/v1/products/{product['id']}/certificates")
    assert history.json() == {"items": [], "next_cursor": None}


async def test_same_decision_twice_is_409(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    product = await create_product_via_api()
    first = await add_certificate(product["id"], 4, date(2025, 9, 30))

    response = await client.post(
        f"/v1/products/{product['id']}/certificates",
        json={
            "stars": 4,
            "score": 75,
            "decision_no": first["decision_no"],
            "issued_on": "2025-09-30",
        },
        headers=admin,
    )

    assert response.status_code == 409
    assert problem(response)["code"] == "duplicate_certificate"


async def test_certificate_history_is_public_latest_first(
    client: httpx.AsyncClient,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    product = await create_product_via_api()
    older = await add_certificate(product["id"], 3, date(2022, 9, 30))
    newer = await add_certificate(product["id"], 4, date(2025, 9, 30))

    first = (
        await client.get(f"/v1/products/{product['id']}/certificates", params={"limit": 1})
    ).json()
    second = (
        await client.get(
            f"/v1/products/{product['id']}/certificates",
            params={"limit": 1, "cursor": first["next_cursor"]},
        )
    ).json()

    assert [c["id"] for c in first["items"]] == [newer["id"]]
    assert second == {"items": [older], "next_cursor": None}


def rule(certificates: list[tuple[int, date, date]], day: date) -> int | None:
    """The stars rule in Python, for certificates (stars, issued_on, valid_until) in the order
    they were recorded: the latest issued (then recorded) valid on `day`, from 3 stars."""
    valid = [
        (issued, order, stars)
        for order, (stars, issued, until) in enumerate(certificates)
        if issued <= day <= until
    ]
    if not valid:
        return None
    stars = max(valid)[2]
    return stars if stars >= 3 else None


async def stored(db: AsyncSession) -> dict[str, tuple[int | None, date, date]]:
    """Each product's stored stars and their window, as the database holds them."""
    rows = await db.execute(
        select(Product.id, Product.stars, Product.stars_from, Product.stars_until)
    )
    await db.rollback()
    return {str(pid): (stars, since, until) for pid, stars, since, until in rows}


def on(day: date) -> datetime:
    """Noon of `day` in the province."""
    return datetime(day.year, day.month, day.day, 5, tzinfo=UTC)


async def test_stored_stars_follow_the_rule_through_random_writes_and_days(
    client: httpx.AsyncClient,
    clock: FakeClock,
    db: AsyncSession,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    """Certificates recorded on random days, read on days before, between and after them (each
    direction): every answer is the rule's, and so is every stored value inside its window."""
    rng = random.Random(13)
    products = [await create_product_via_api(name=f"Sản phẩm {i}") for i in range(6)]
    history: dict[str, list[tuple[int, date, date]]] = {p["id"]: [] for p in products}
    start = date(2024, 1, 1)
    days = [start + timedelta(days=rng.randrange(0, 4 * 365)) for _ in range(10)]

    async def check(day: date) -> None:
        clock.set(on(day))
        expected = {p["name"]: rule(history[p["id"]], day) for p in products}
        for product in products:
            assert await stars(client, product) == expected[product["name"]], day
        assert await listed(client, certified="true") == sorted(
            n for n, s in expected.items() if s is not None
        ), day
        assert await listed(client, min_stars=4) == sorted(
            n for n, s in expected.items() if s is not None and s >= 4
        ), day
        by_stars = (await client.get("/v1/products", params={"sort": "stars"})).json()["items"]
        assert [p["name"] for p in by_stars] == sorted(
            expected, key=lambda n: (-(expected[n] or 0), fold(n))
        ), day
        for product_id, (value, since, until) in (await stored(db)).items():
            assert since <= day <= until, day  # a read by stars made every row current
            for inside in {since, until, day}:
                if start - timedelta(days=2000) <= inside <= start + timedelta(days=4000):
                    assert value == rule(history[product_id], inside), (day, inside)

    for n in range(18):
        product = rng.choice(products)
        issued = start + timedelta(days=rng.randrange(0, 4 * 365))
        valid_until = issued + timedelta(days=rng.randrange(0, 3 * 365))
        stars_ = rng.randint(1, 5)
        clock.set(on(rng.choice(days)))  # the writer's day: any, before or after the certificate
        await add_certificate(
            product["id"],
            stars_,
            issued,
            valid_until=valid_until.isoformat(),
            decision_no=f"{n}/QĐ-UBND",
        )
        history[product["id"]].append((stars_, issued, valid_until))
        if n % 6 == 5:
            for day in rng.sample(days, 3):
                await check(day)
    for day in [*sorted(days), *sorted(days, reverse=True)]:
        await check(day)


async def test_a_certificate_write_stores_the_stars_in_its_transaction(
    client: httpx.AsyncClient,
    db: AsyncSession,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    """The row holds the new stars as the write commits: a read by stars that finds the stored
    stars already current for today (this process made them so just before) sees them."""
    product = await create_product_via_api(name="A")
    assert await listed(client, certified="true") == []

    await add_certificate(product["id"], 4, date(2025, 9, 30))

    assert (await stored(db))[product["id"]] == (4, date(2025, 9, 30), date(2028, 9, 30))
    assert await listed(client, certified="true") == ["A"]
    assert await listed(client, min_stars=4) == ["A"]


async def test_an_imported_certificate_stores_the_stars(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    csv = (
        "owner_name,owner_kind,commune,product_name,group,unit,price_vnd,stars,decision_no,"
        "issued_on\n"
        "Hợp tác xã Hồng Phong,cooperative,Bắc Sơn,Na Chi Lăng,food,kg,30000,5,9/QĐ-UBND,"
        "2025-09-30\n"
    )
    response = await client.post(
        "/v1/products/import", content=csv, headers={**admin, "Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text

    assert list((await stored(db)).values()) == [(5, date(2025, 9, 30), date(2028, 9, 30))]
    assert await listed(client, min_stars=5) == ["Na Chi Lăng"]


async def test_the_worker_recomputes_stars_a_new_day_changed(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    clock: FakeClock,
    db: AsyncSession,
    create_product_via_api: CreateProductViaApi,
    add_certificate: CertificateFactory,
) -> None:
    product = await create_product_via_api()
    other = await create_product_via_api(name="Khác")
    await add_certificate(product["id"], 4, date(2023, 6, 1), valid_until=TODAY.isoformat())
    await add_certificate(other["id"], 3, date(2025, 6, 1))
    keeper = StarsKeeper(app.state.sessionmaker, settings, clock=clock)
    assert await keeper.run_once() == 0

    clock.advance(timedelta(days=1))

    before = (await client.get(f"/v1/products/{product['id']}")).json()

    assert await keeper.run_once() == 1
    tomorrow = TODAY + timedelta(days=1)
    assert (await stored(db))[product["id"]] == (None, tomorrow, date(9999, 12, 31))
    assert await keeper.run_once() == 0
    # Days passing are no change of the product: its feed position and version stay.
    after = (await client.get(f"/v1/products/{product['id']}")).json()
    assert after == before
