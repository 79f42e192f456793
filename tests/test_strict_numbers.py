"""A number in a request body is a JSON number: never `true`, `false` or `"12"`.

Every input schema of the app is walked: each field whose JSON Schema says integer or number
is sent a boolean and a string, and must refuse them (`false` used to set a price of 0).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

import app
from app.certificates.schemas import CertificateCreate
from app.core.schemas import InputModel
from tests.helpers import InsertEvent, InsertProduct, OwnerFactory, idem, order_body, problem

pytestmark = pytest.mark.anyio

NOT_NUMBERS = [True, False, "12", "0"]


def _input_models() -> list[type[BaseModel]]:
    models: dict[str, type[BaseModel]] = {}
    for info in pkgutil.walk_packages(app.__path__, "app."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, InputModel) and value is not InputModel:
                models[f"{value.__module__}.{value.__qualname__}"] = value
    return [models[name] for name in sorted(models)]


def _is_numeric(schema: dict[str, Any]) -> bool:
    if schema.get("type") in ("integer", "number"):
        return True
    return any(_is_numeric(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def _numeric_fields() -> list[tuple[type[BaseModel], str]]:
    found = []
    for model in _input_models():
        properties = model.model_json_schema()["properties"]
        for name, field in model.model_fields.items():
            if _is_numeric(properties[field.alias or name]):
                found.append((model, field.alias or name))
    return found


NUMERIC_FIELDS = _numeric_fields()


def test_the_walk_finds_every_kind_of_number() -> None:
    names = {f"{model.__name__}.{field}" for model, field in NUMERIC_FIELDS}
    assert {
        "ProductCreate.price_vnd",
        "ProductUpdate.price_vnd",
        "ProductCreate.latitude",
        "ProductCreate.stock",
        "FourStars.score",
        "FourStars.stars",
        "EventCreate.latitude",
        "EventProductCreate.event_price_vnd",
        "EventProductUpdate.event_price_vnd",
        "OrderItem.quantity",
        "StockAdjustment.delta",
    } <= names


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=repr)
@pytest.mark.parametrize(
    ("model", "field"), NUMERIC_FIELDS, ids=[f"{m.__name__}.{f}" for m, f in NUMERIC_FIELDS]
)
def test_a_number_field_refuses_booleans_and_strings(
    model: type[BaseModel], field: str, value: object
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate_json(json.dumps({field: value}))

    assert any(error["loc"][:1] == (field,) for error in refused.value.errors()), (
        refused.value.errors()
    )


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=repr)
@pytest.mark.parametrize("field", ["stars", "score"])
def test_a_certificate_refuses_booleans_and_strings(field: str, value: object) -> None:
    body = {"stars": 4, "score": 80, "decision_no": "1/QĐ-UBND", "issued_on": "2025-10-20"}

    with pytest.raises(ValidationError):
        TypeAdapter(CertificateCreate).validate_json(json.dumps({**body, field: value}))


@pytest.mark.parametrize("value", [12, 12.0, 0])
def test_whole_numbers_are_still_taken(value: float) -> None:
    from app.products.schemas import ProductUpdate

    assert ProductUpdate.model_validate_json(json.dumps({"price_vnd": value})).price_vnd == value


@pytest.mark.parametrize("value", [False, True, "12"], ids=repr)
async def test_a_price_of_false_is_422_and_changes_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    value: object,
) -> None:
    product = await insert_product(price_vnd=35_000)

    response = await client.patch(
        f"/v1/products/{product.id}", json={"price_vnd": value}, headers=admin
    )

    assert response.status_code == 422, response.text
    # (An update's field is "this type, or left out": the error names both branches.)
    assert {tuple(e["loc"][:2]) for e in problem(response)["errors"]} == {("body", "price_vnd")}
    assert (await client.get(f"/v1/products/{product.id}")).json()["price_vnd"] == 35_000


@pytest.mark.parametrize("value", [False, "12"], ids=repr)
async def test_a_new_product_priced_false_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory, value: object
) -> None:
    owner = await make_owner()
    body = {
        "owner_id": owner["id"],
        "name": "Quýt",
        "group": "food",
        "unit": "kg",
        "price_vnd": value,
        "commune": "Bắc Sơn",
    }

    response = await client.post("/v1/products", json=body, headers=admin)

    assert response.status_code == 422, response.text
    assert [e["loc"] for e in problem(response)["errors"]] == [["body", "price_vnd"]]


async def test_an_event_price_of_false_is_422(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    insert_event: InsertEvent,
) -> None:
    product = await insert_product()
    event = await insert_event()

    response = await client.post(
        f"/v1/events/{event.id}/products",
        json={"product_id": str(product.id), "event_price_vnd": False},
        headers=admin,
    )

    assert response.status_code == 422, response.text
    assert [e["loc"] for e in problem(response)["errors"]] == [["body", "event_price_vnd"]]


async def test_an_order_quantity_of_true_is_422(
    client: httpx.AsyncClient, partner: dict[str, str], insert_product: InsertProduct
) -> None:
    product = await insert_product(unit_step=1)

    response = await client.post(
        "/v1/orders", json=order_body((product, True)), headers=idem(partner)
    )

    assert response.status_code == 422, response.text
    assert problem(response)["errors"][0]["loc"] == ["body", "items", 0, "quantity"]
