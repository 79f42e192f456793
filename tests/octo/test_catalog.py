"""The supplier, the products (experiences with their option and units) and the capabilities."""

from __future__ import annotations

import httpx
import pytest

from app.models import ProductGroup, ProductStatus, Unit
from tests.helpers import CreateExperienceViaApi, InsertProduct

pytestmark = pytest.mark.anyio


async def test_the_supplier_is_the_operator_at_the_octo_endpoint(octo: httpx.AsyncClient) -> None:
    answer = await octo.get("/supplier")

    assert answer.status_code == 200
    assert answer.json() == {
        "id": "ocop-lang-son",
        "name": "OCOP Lạng Sơn",
        "endpoint": "http://testserver/octo",
        "contact": {
            "website": None,
            "email": None,
            "telephone": None,
            "address": "Lạng Sơn, Việt Nam",
        },
    }
    assert answer.headers["Octo-Capabilities"] == ""


async def test_a_product_has_one_option_whose_units_are_the_ticket_types(
    octo: httpx.AsyncClient, product_id: str
) -> None:
    answer = await octo.get(f"/products/{product_id}")

    assert answer.status_code == 200
    product = answer.json()
    assert product["id"] == product_id
    assert product["internalName"] == "Di tích Đình Bắc Lệ"
    assert product["timeZone"] == "Asia/Ho_Chi_Minh"
    assert product["availabilityType"] == "START_TIME"
    assert (product["availabilityRequired"], product["allowFreesale"]) == (True, False)
    assert (product["deliveryFormats"], product["deliveryMethods"]) == (["QRCODE"], ["TICKET"])
    [option] = product["options"]
    assert (option["id"], option["default"]) == ("DEFAULT", True)
    assert option["availabilityLocalStartTimes"] == ["09:00", "14:00"]
    assert option["requiredContactFields"] == ["firstName", "emailAddress"]
    units = {unit["id"]: unit for unit in option["units"]}
    assert list(units) == ["adult", "child", "infant"]
    assert [u["type"] for u in units.values()] == ["ADULT", "CHILD", "INFANT"]
    assert [u["restrictions"]["paxCount"] for u in units.values()] == [1, 1, 0]
    assert units["adult"]["internalName"] == "Người lớn"


async def test_a_product_booked_by_date_is_open_all_day_from_its_opening(
    octo: httpx.AsyncClient, create_experience_via_api: CreateExperienceViaApi
) -> None:
    experience = await create_experience_via_api(
        booking_mode="date",
        schedules=[{"opening_from": "07:30", "opening_to": "17:00", "capacity": 200}],
    )

    answer = await octo.get(f"/products/{experience['product_id']}")

    assert answer.json()["availabilityType"] == "OPENING_HOURS"
    assert answer.json()["options"][0]["availabilityLocalStartTimes"] == ["07:30"]


async def test_products_are_the_experiences_of_active_products_by_name(
    octo: httpx.AsyncClient,
    insert_product: InsertProduct,
    create_experience_via_api: CreateExperienceViaApi,
) -> None:
    for name, status in [
        ("Xưởng chè Ngọc Quế", ProductStatus.active),
        ("Hái quýt vàng Bắc Sơn", ProductStatus.active),
        ("Đình Bắc Lệ cũ", ProductStatus.archived),
    ]:
        product = await insert_product(
            name=name, group=ProductGroup.tourism, unit=Unit.visit, unit_step=1, status=status
        )
        await create_experience_via_api(product.id)
    await insert_product(name="Không đặt chỗ", group=ProductGroup.tourism, unit=Unit.visit)

    answer = await octo.get("/products")

    assert answer.status_code == 200
    assert [p["internalName"] for p in answer.json()] == [
        "Hái quýt vàng Bắc Sơn",
        "Xưởng chè Ngọc Quế",
    ]


@pytest.mark.parametrize("product", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"])
async def test_an_unknown_product_is_invalid_product_id(
    octo: httpx.AsyncClient, product: str
) -> None:
    answer = await octo.get(f"/products/{product}")

    assert answer.status_code == 400
    assert answer.json()["error"] == "INVALID_PRODUCT_ID"
    assert answer.json()["productId"] == product


async def test_a_product_without_booking_settings_is_invalid_product_id(
    octo: httpx.AsyncClient, insert_product: InsertProduct
) -> None:
    product = await insert_product(name="Rượu Mẫu Sơn")

    answer = await octo.get(f"/products/{product.id}")

    assert answer.json()["error"] == "INVALID_PRODUCT_ID"


async def test_no_capabilities_beyond_the_core_and_no_key_needed(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/octo/capabilities", headers={"Octo-Capabilities": "octo/pricing"})

    assert answer.status_code == 200
    assert answer.json() == []
    assert answer.headers["Octo-Capabilities"] == ""
