"""A request body's JSON types are the document's: no value is coerced into another type.

Every input schema of the app is walked (the native API's and OCTO's):
- a field whose JSON Schema says integer or number is sent a boolean and a string, and must
  refuse them (`false` used to set a price of 0);
- a boolean field is sent 0, 1 and strings, and must refuse them (`"active": 0` used to
  switch a ticket type off);
- a field that may be left out but whose schema does not offer null is sent null, and must
  refuse it (a PATCH took `"overlap_seconds": null` as "left out").
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
from app.octo.schemas import OctoIn
from tests.helpers import InsertEvent, InsertProduct, OwnerFactory, idem, order_body, problem

pytestmark = pytest.mark.anyio

NOT_NUMBERS = [True, False, "12", "0"]


def _input_models() -> list[type[BaseModel]]:
    models: dict[str, type[BaseModel]] = {}
    for info in pkgutil.walk_packages(app.__path__, "app."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, (InputModel, OctoIn))
                and value not in (InputModel, OctoIn)
            ):
                models[f"{value.__module__}.{value.__qualname__}"] = value
    return [models[name] for name in sorted(models)]


def _is_numeric(schema: dict[str, Any]) -> bool:
    if schema.get("type") in ("integer", "number"):
        return True
    return any(_is_numeric(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def _is_boolean(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "boolean":
        return True
    return any(_is_boolean(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def _takes_null(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "null" or "null" in (schema.get("type") or []):
        return True
    return any(_takes_null(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def _fields(kind: Any) -> list[tuple[type[BaseModel], str]]:
    """(model, field's name in JSON) of every input field whose schema and field `kind` likes."""
    found = []
    for model in _input_models():
        properties = model.model_json_schema(by_alias=True)["properties"]
        for name, field in model.model_fields.items():
            alias = field.alias or name
            if kind(properties[alias], field):
                found.append((model, alias))
    return found


NUMERIC_FIELDS = _fields(lambda schema, _field: _is_numeric(schema))
BOOLEAN_FIELDS = _fields(lambda schema, _field: _is_boolean(schema))
OMITTABLE_FIELDS = _fields(lambda schema, field: field.default is None and not _takes_null(schema))


def _refused_at(model: type[BaseModel], field: str, value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate_json(json.dumps({field: value}))

    assert any(error["loc"][:1] == (field,) for error in refused.value.errors()), (
        refused.value.errors()
    )


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
    _refused_at(model, field, value)


def test_the_walk_finds_the_booleans_and_the_omittable_fields() -> None:
    booleans = {f"{model.__name__}.{field}" for model, field in BOOLEAN_FIELDS}
    omittable = {f"{model.__name__}.{field}" for model, field in OMITTABLE_FIELDS}
    assert {"TicketTypeIn.active", "CancelIn.force", "ConfirmIn.emailReceipt"} <= booleans
    assert {
        "ProductUpdate.price_vnd",
        "OwnerUpdate.name",
        "EventUpdate.starts_at",
        "WebhookUpdate.event_types",
        "SecretRotation.overlap_seconds",
    } <= omittable


@pytest.mark.parametrize("value", [0, 1, "true", "false", "yes"], ids=repr)
@pytest.mark.parametrize(
    ("model", "field"), BOOLEAN_FIELDS, ids=[f"{m.__name__}.{f}" for m, f in BOOLEAN_FIELDS]
)
def test_a_boolean_field_refuses_numbers_and_strings(
    model: type[BaseModel], field: str, value: object
) -> None:
    _refused_at(model, field, value)


@pytest.mark.parametrize(
    ("model", "field"), OMITTABLE_FIELDS, ids=[f"{m.__name__}.{f}" for m, f in OMITTABLE_FIELDS]
)
def test_a_field_that_may_be_left_out_refuses_null(model: type[BaseModel], field: str) -> None:
    _refused_at(model, field, None)


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
