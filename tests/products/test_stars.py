"""A product's stars: those of its latest certificate valid today, counted from 3 stars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

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
