"""Reports as `Accept` asks (q-values, 406), and the CSV a spreadsheet opens right."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import httpx
import pytest

from app.models import Event
from app.reports.router import attachment
from tests.helpers import FakeClock, InsertEvent, InsertProduct, csv_rows, idem, order_body, problem

pytestmark = pytest.mark.anyio

REPORTS = (
    "/v1/reports/events/{event_id}/sales",
    "/v1/reports/owners/{owner_id}/sales",
    "/v1/reports/catalog",
)


@pytest.fixture
async def sold(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
) -> Event:
    """An event ("Mùa vàng Bắc Sơn") where one kilogram of "Quýt vàng Bắc Sơn" was sold."""
    product = await insert_product(stock=None)
    event = await insert_event(products={product.id: None})
    placed = await client.post(
        "/v1/orders", json=order_body((product, 1), event_id=str(event.id)), headers=idem(partner)
    )
    assert placed.status_code == 201, placed.text
    return event


async def test_csv_starts_with_a_bom_and_is_offered_as_a_named_file(
    client: httpx.AsyncClient, admin: dict[str, str], sold: Event
) -> None:
    response = await client.get(
        f"/v1/reports/events/{sold.id}/sales", headers={**admin, "Accept": "text/csv"}
    )

    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbfsection,id,name,")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="Mua vang Bac Son sales.csv"; '
        "filename*=UTF-8''M%C3%B9a%20v%C3%A0ng%20B%E1%BA%AFc%20S%C6%A1n%20sales.csv"
    )
    assert response.headers["vary"] == "Accept, Authorization"
    [product] = [row for row in csv_rows(response) if row["section"] == "product"]
    assert product["name"] == "Quýt vàng Bắc Sơn"


async def test_json_answers_vary_on_accept_too(
    client: httpx.AsyncClient, admin: dict[str, str], sold: Event
) -> None:
    response = await client.get(f"/v1/reports/events/{sold.id}/sales", headers=admin)

    assert response.headers["content-type"] == "application/json"
    assert response.headers["vary"] == "Accept, Authorization"
    assert "content-disposition" not in response.headers


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/*", "text/csv; charset=utf-8"),
        ("application/json;q=0.5, text/csv", "text/csv; charset=utf-8"),
        ("text/csv;q=0, */*", "application/json"),
        ("text/csv, application/json", "application/json"),
        ("*/*", "application/json"),
    ],
)
async def test_accept_q_values_choose_the_format(
    client: httpx.AsyncClient, admin: dict[str, str], accept: str, media_type: str
) -> None:
    response = await client.get("/v1/reports/catalog", headers={**admin, "Accept": accept})

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type


@pytest.mark.parametrize("accept", ["application/xml", "application/json;q=0, text/csv;q=0"])
async def test_nothing_acceptable_is_406_listing_both_formats(
    client: httpx.AsyncClient, admin: dict[str, str], accept: str
) -> None:
    response = await client.get("/v1/reports/catalog", headers={**admin, "Accept": accept})

    assert response.status_code == 406
    body = problem(response)
    assert body["code"] == "not_acceptable"
    assert body["available"] == ["application/json", "text/csv"]


async def test_the_key_is_checked_before_the_format(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/reports/catalog", headers={"Accept": "application/xml"})

    assert response.status_code == 401


async def test_the_catalogue_csv_is_named_after_the_local_day(
    client: httpx.AsyncClient, admin: dict[str, str], clock: FakeClock
) -> None:
    clock.set(datetime(2025, 11, 3, 20, 0, tzinfo=UTC))  # already 4 November in Lạng Sơn
    today = "2025-11-04"

    response = await client.get("/v1/reports/catalog", headers={**admin, "Accept": "text/csv"})

    assert response.headers["content-disposition"] == (
        f'attachment; filename="OCOP catalogue {today}.csv"; '
        f"filename*=UTF-8''OCOP%20catalogue%20{today}.csv"
    )


async def test_head_of_a_csv_report_has_its_headers_and_no_body(
    client: httpx.AsyncClient, admin: dict[str, str], sold: Event
) -> None:
    url = f"/v1/reports/events/{sold.id}/sales"
    as_csv = {**admin, "Accept": "text/csv", "Accept-Encoding": "identity"}
    got = await client.get(url, headers=as_csv)

    head = await client.head(url, headers=as_csv)

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "text/csv; charset=utf-8"
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["content-disposition"] == got.headers["content-disposition"]


async def test_a_large_csv_is_gzipped_whole(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
) -> None:
    products = [await insert_product(name=f"Đặc sản số {n}", stock=None) for n in range(12)]
    event = await insert_event(products={p.id: None for p in products})
    items = [(p, 1) for p in products]
    placed = await client.post(
        "/v1/orders", json=order_body(*items, event_id=str(event.id)), headers=idem(partner)
    )
    assert placed.status_code == 201, placed.text
    url = f"/v1/reports/events/{event.id}/sales"
    plain = await client.get(
        url, headers={**admin, "Accept": "text/csv", "Accept-Encoding": "identity"}
    )

    async with client.stream(
        "GET", url, headers={**admin, "Accept": "text/csv", "Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])

    assert len(plain.content) > 1024
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == plain.content
    assert len([row for row in csv_rows(plain) if row["section"] == "product"]) == 12


async def test_openapi_declares_both_formats_and_406(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    for path in REPORTS:
        answers = document["paths"][path]["get"]["responses"]
        assert list(answers["200"]["content"]) == ["application/json", "text/csv"], path
        assert list(answers["406"]["content"]) == ["application/problem+json"], path


def test_a_file_name_keeps_no_character_a_file_system_or_header_would_choke_on() -> None:
    assert attachment('Hội chợ "Xuân"/Tết: 2026.csv') == (
        'attachment; filename="Hoi cho -Xuan-Tet- 2026.csv"; '
        "filename*=UTF-8''H%E1%BB%99i%20ch%E1%BB%A3%20-Xu%C3%A2n-T%E1%BA%BFt-%202026.csv"
    )
