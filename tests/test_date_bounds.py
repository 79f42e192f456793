"""Dates and times from clients lie between 1970 and 2199, everywhere: beyond, converting them
between zones overflows Python's datetime (year 1, year 9999), so they are refused with 422
naming the parameter, never a 500."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from tests.helpers import InsertProduct, OwnerFactory, problem

pytestmark = pytest.mark.anyio

OUT_OF_RANGE = ["0001-01-01", "1969-12-31", "2200-01-01", "9999-12-31"]


def test_the_shared_day_type_holds_1970_to_2199() -> None:
    from app.core.schemas import Day

    day = TypeAdapter(Day)

    assert day.validate_python("1970-01-01") == date(1970, 1, 1)
    assert day.validate_python("2199-12-31") == date(2199, 12, 31)
    for text in OUT_OF_RANGE:
        with pytest.raises(ValidationError, match="from 1970-01-01 to 2199-12-31"):
            day.validate_python(text)
    schema = day.json_schema()
    assert (schema["type"], schema["format"]) == ("string", "date")


def locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [e["loc"] for e in problem(response)["errors"]]


@pytest.mark.parametrize(
    ("first", "last", "bad"),
    [
        ("0001-01-01", "0001-01-02", [["query", "from"], ["query", "to"]]),
        ("9999-12-30", "9999-12-31", [["query", "from"], ["query", "to"]]),
        ("2025-01-01", "9999-12-31", [["query", "to"]]),
        ("0001-01-01", "2025-01-01", [["query", "from"]]),
    ],
)
async def test_owner_sales_dates_out_of_range_are_422(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_owner: OwnerFactory,
    first: str,
    last: str,
    bad: list[list[str]],
) -> None:
    owner = await make_owner()

    response = await client.get(
        f"/v1/reports/owners/{owner['id']}/sales",
        params={"from": first, "to": last},
        headers=admin,
    )

    assert locs(response) == bad


async def test_owner_sales_on_the_last_day_of_the_range_answers(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner()

    response = await client.get(
        f"/v1/reports/owners/{owner['id']}/sales",
        params={"from": "2199-12-01", "to": "2199-12-31"},
        headers=admin,
    )

    assert response.status_code == 200, response.text
    assert response.json()["orders"] == 0


@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize(
    "value",
    [
        *OUT_OF_RANGE,
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59+14:00",
        "9999-12-31T23:59:59-12:00",
    ],
)
@pytest.mark.parametrize("tz", ["Asia/Ho_Chi_Minh", "Pacific/Kiritimati", "Etc/GMT+12"])
async def test_event_windows_out_of_range_are_422(
    client: httpx.AsyncClient, param: str, value: str, tz: str
) -> None:
    response = await client.get("/v1/events", params={param: value, "tz": tz})

    assert locs(response) == [["query", param]]


@pytest.mark.parametrize("tz", ["Pacific/Kiritimati", "Etc/GMT+12"])
async def test_event_windows_at_the_edges_answer(client: httpx.AsyncClient, tz: str) -> None:
    response = await client.get(
        "/v1/events", params={"from": "1970-01-01", "to": "2199-12-31", "tz": tz}
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"issued_on": "9999-12-31"}, ["body", "issued_on"]),
        ({"issued_on": "0001-01-01"}, ["body", "issued_on"]),
        ({"issued_on": "2025-01-01", "valid_until": "9999-12-31"}, ["body", "valid_until"]),
        ({"issued_on": "2025-01-01", "valid_until": "2200-01-01"}, ["body", "valid_until"]),
    ],
)
async def test_certificate_dates_out_of_range_are_422(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    fields: dict[str, str],
    bad: list[str],
) -> None:
    product = await insert_product()
    body = {"stars": 4, "score": 80, "decision_no": f"{uuid.uuid4()}/QĐ-UBND", **fields}

    response = await client.post(
        f"/v1/products/{product.id}/certificates", json=body, headers=admin
    )

    assert [loc[-1] for loc in locs(response)] == [bad[-1]]
    assert all(loc[0] == "body" for loc in locs(response))


async def test_a_certificate_issued_on_the_last_day_lasts_its_36_months(
    client: httpx.AsyncClient, admin: dict[str, str], insert_product: InsertProduct
) -> None:
    product = await insert_product()
    body = {"stars": 4, "score": 80, "decision_no": "1/QĐ-UBND", "issued_on": "2199-12-31"}

    response = await client.post(
        f"/v1/products/{product.id}/certificates", json=body, headers=admin
    )

    assert response.status_code == 201, response.text
    assert response.json()["valid_until"] == "2202-12-31"


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00"])
async def test_event_times_out_of_range_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], field: str, value: str
) -> None:
    body = {
        "name": "Lễ hội",
        "kind": "festival",
        "starts_at": "2025-11-03T08:00:00+07:00",
        "ends_at": "2025-11-09T22:00:00+07:00",
        "commune": "Bắc Sơn",
        field: value,
    }

    response = await client.post("/v1/events", json=body, headers=admin)

    assert locs(response) == [["body", field]]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("to", "1970-01-01T00:00"),  # RFC 3339 has seconds
        ("from", "2025-11-03T10:00Z"),
        ("from", "2025-11-03 10:00:00Z"),
        ("from", "20251103"),
        ("to", "2025-W45"),
    ],
)
async def test_event_windows_are_written_as_the_schema_says(
    client: httpx.AsyncClient, param: str, value: str
) -> None:
    response = await client.get("/v1/events", params={param: value})

    assert locs(response) == [["query", param]]


async def test_event_times_are_written_as_the_schema_says(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {
        "name": "Lễ hội",
        "kind": "festival",
        "starts_at": "1970-01-01T00:00Z",
        "ends_at": "2025-11-09T22:00:00+07:00",
        "commune": "Bắc Sơn",
    }

    response = await client.post("/v1/events", json=body, headers=admin)

    assert locs(response) == [["body", "starts_at"]]


@pytest.mark.parametrize("value", ["2025-1-5", "2025-01-05T00:00:00Z", 1700000000, "+2025-01-05"])
def test_a_day_is_written_as_the_schema_says(value: object) -> None:
    from app.core.schemas import Day

    with pytest.raises(ValidationError):
        TypeAdapter(Day).validate_python(value)
