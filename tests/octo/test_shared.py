"""OCTO and `/v1` are one booking system: the same places, bookings and tickets."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.helpers import HoldViaApi, counting_statements

pytestmark = pytest.mark.anyio

NINE = "2025-11-08T09:00:00+07:00"


def reservation(product_id: str, adults: int, **fields: Any) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "productId": product_id,
        "optionId": "DEFAULT",
        "availabilityId": NINE,
        "unitItems": [{"unitId": "adult"}] * adults,
        **fields,
    }


async def v1_places_left(client: httpx.AsyncClient, product_id: str) -> int:
    answer = await client.get(
        f"/v1/experiences/{product_id}/availability", params={"date": "2025-11-08"}
    )
    left: int = answer.json()["slots"][0]["places_left"]  # 09:00
    return left


async def octo_vacancies(octo: httpx.AsyncClient, product_id: str) -> int:
    answer = await octo.post(
        "/availability",
        json={"productId": product_id, "optionId": "DEFAULT", "availabilityIds": [NINE]},
    )
    vacancies: int = answer.json()[0]["vacancies"]
    return vacancies


async def test_places_held_through_octo_are_gone_from_v1(
    octo: httpx.AsyncClient, client: httpx.AsyncClient, product_id: str
) -> None:
    held = await octo.post("/bookings", json=reservation(product_id, 3))
    assert held.status_code == 200, held.text

    assert await v1_places_left(client, product_id) == 37


async def test_places_held_through_v1_are_gone_from_octo(
    octo: httpx.AsyncClient, product_id: str, hold_via_api: HoldViaApi
) -> None:
    held = await hold_via_api(product_id, ("adult", 5))
    assert held.status_code == 201, held.text

    assert await octo_vacancies(octo, product_id) == 35


async def test_places_returned_through_octo_are_back_in_v1(
    octo: httpx.AsyncClient, client: httpx.AsyncClient, product_id: str
) -> None:
    held = (await octo.post("/bookings", json=reservation(product_id, 3))).json()

    await octo.post(f"/bookings/{held['uuid']}/cancel", json={})

    assert await v1_places_left(client, product_id) == 40


async def test_the_capacity_is_one_for_both(
    octo: httpx.AsyncClient, product_id: str, hold_via_api: HoldViaApi
) -> None:
    held = await hold_via_api(product_id, ("adult", 38))
    assert held.status_code == 201, held.text

    refused = await octo.post("/bookings", json=reservation(product_id, 3))
    fits = await octo.post("/bookings", json=reservation(product_id, 2))

    assert refused.json()["error"] == "UNPROCESSABLE_ENTITY"
    assert fits.json()["status"] == "ON_HOLD"
    assert await octo_vacancies(octo, product_id) == 0


async def test_an_octo_booking_is_a_v1_booking(
    octo: httpx.AsyncClient, client: httpx.AsyncClient, partner: dict[str, str], product_id: str
) -> None:
    held = (await octo.post("/bookings", json=reservation(product_id, 2))).json()

    native = await client.get(f"/v1/bookings/{held['id']}", headers=partner)

    assert native.status_code == 200
    assert native.json()["reference"] == held["supplierReference"]
    assert native.json()["people"] == 2


async def test_a_booking_made_through_v1_is_found_in_octo_by_its_id(
    octo: httpx.AsyncClient, product_id: str, hold_via_api: HoldViaApi
) -> None:
    held = (await hold_via_api(product_id, ("adult", 2), reseller_reference="V1-1")).json()

    listed = await octo.get("/bookings", params={"resellerReference": "V1-1"})
    read = await octo.get(f"/bookings/{held['id']}")

    assert [b["uuid"] for b in listed.json()] == [held["id"]]
    assert read.json()["supplierReference"] == held["reference"]


async def test_listing_bookings_costs_the_same_statements_for_one_or_many(
    app: FastAPI, octo: httpx.AsyncClient, product_id: str
) -> None:
    await octo.post("/bookings", json=reservation(product_id, 1, resellerReference="ONE"))
    for start in ("2025-11-08T14:00:00+07:00", "2025-11-09T09:00:00+07:00", NINE):
        body = reservation(product_id, 2, availabilityId=start, resellerReference="MANY")
        assert (await octo.post("/bookings", json=body)).status_code == 200

    with counting_statements(app) as one:
        found = await octo.get("/bookings", params={"resellerReference": "ONE"})
    assert len(found.json()) == 1
    with counting_statements(app) as many:
        found = await octo.get("/bookings", params={"resellerReference": "MANY"})
    assert len(found.json()) == 3

    assert len(many) == len(one)
