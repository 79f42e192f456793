"""The OpenAPI document is the machine contract: valid OpenAPI 3.1, one name per schema,
readable operation ids, the conditional headers declared, and an example for every request
body that its schema and its endpoint both accept."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.bookings.schemas import EXAMPLE_EXPERIENCE_ID
from app.models import ProductGroup, Unit
from tests.helpers import InsertProduct

pytestmark = pytest.mark.anyio

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation of the paths."""
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


DOCUMENT_URI = "urn:ocop-api:openapi"


def validator(doc: dict[str, Any], *path: str | int) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for the schema at `path` in `doc` (its `$ref`s resolved
    in `doc`), formats checked."""
    pointer = "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in path)
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].removeprefix("#/components/schemas/")]
    return schema


def body_examples(doc: dict[str, Any], media_type: dict[str, Any]) -> list[Any] | None:
    """The examples of a request body: the media type's own, else its schema's; for a `oneOf`,
    every branch's (None when a branch has none)."""
    own = ([media_type["example"]] if "example" in media_type else []) + [
        example["value"] for example in media_type.get("examples", {}).values()
    ]
    if own:
        return own
    schema = resolve(doc, media_type["schema"])
    if "oneOf" in schema:
        branches = [resolve(doc, branch).get("examples") for branch in schema["oneOf"]]
        if not all(branches):
            return None
        return [example for branch in branches if branch for example in branch]
    examples: list[Any] | None = schema.get("examples")
    return examples


def schema_examples(node: Any, *path: str | int) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """(path, schema) for every schema object under `node` (at `path`) that has `examples`."""
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list):
            yield path, node
        for key, value in node.items():
            yield from schema_examples(value, *path, key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schema_examples(value, *path, index)


async def test_the_document_is_valid_openapi_3_1(client: httpx.AsyncClient) -> None:
    doc = await document(client)

    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in OpenAPIV31SpecValidator(doc).iter_errors()
    ]

    assert doc["openapi"] == "3.1.0"
    assert errors == []


async def test_every_schema_is_named_as_its_title(client: httpx.AsyncClient) -> None:
    # Two schemas titled `OwnerRef` made openapi-python-client drop every product model; a
    # generic `Page_ProductRead_` became a class named after its title instead.
    schemas = (await document(client))["components"]["schemas"]

    assert {name: s.get("title") for name, s in schemas.items() if s.get("title") != name} == {}
    assert schemas["ProductPage"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/ProductRead"
    }


async def test_operation_ids_are_the_endpoints_names(client: httpx.AsyncClient) -> None:
    ids = {
        (method, path): op["operationId"] for method, path, op in operations(await document(client))
    }

    assert len(set(ids.values())) == len(ids)
    assert [i for i in ids.values() if not re.fullmatch(r"[a-z]+(_[a-z]+)*", i)] == []
    assert ids["GET", "/v1/products"] == "list_products"
    assert ids["GET", "/v1/products/{product_id}"] == "get_product"
    assert ids["POST", "/v1/orders"] == "place_order"
    assert ids["POST", "/v1/orders/{order_id}/cancel"] == "cancel_order"


async def test_every_patch_declares_if_match_and_its_412(client: httpx.AsyncClient) -> None:
    patches = [
        (path, op) for method, path, op in operations(await document(client)) if method == "PATCH"
    ]

    undeclared = [
        path
        for path, op in patches
        if "412" not in op["responses"]
        or [p for p in op["parameters"] if p["name"] == "If-Match"]
        != [
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "description": "The `ETag` you read (in any language or zone): 412 if the "
                "resource changed since; without it the write is unconditional.",
                "schema": {"type": "string"},
            }
        ]
    ]

    assert len(patches) == 5
    assert undeclared == []


async def test_if_none_match_and_the_etag_go_with_each_304(client: httpx.AsyncClient) -> None:
    doc = await document(client)
    conditional = [(path, op) for _m, path, op in operations(doc) if "304" in op["responses"]]

    declared = [
        path
        for path, op in conditional
        if [p["name"] for p in op["parameters"] if p["in"] == "header"].count("If-None-Match") == 1
        and "ETag" in op["responses"]["200"]["headers"]
    ]

    assert declared == [path for path, _op in conditional]
    assert "/v1/products/{product_id}" in declared


async def test_every_request_body_has_an_example(client: httpx.AsyncClient) -> None:
    doc = await document(client)

    missing = [
        f"{method} {path} {media}"
        for method, path, op in operations(doc)
        for media, media_type in op.get("requestBody", {}).get("content", {}).items()
        if not body_examples(doc, media_type)
    ]

    assert missing == []


async def test_every_example_fits_its_schema(client: httpx.AsyncClient) -> None:
    doc = await document(client)
    checked = 0
    errors = []
    components = doc["components"]["schemas"]
    for where, schema in schema_examples(components, "components", "schemas"):
        for example in schema["examples"]:
            checked += 1
            found = validator(doc, *where).iter_errors(example)
            errors += [f"{'/'.join(map(str, where))}: {e.message}" for e in found]
    for method, path, op in operations(doc):
        for media, media_type in op.get("requestBody", {}).get("content", {}).items():
            body = ("paths", path, method.lower(), "requestBody", "content", media, "schema")
            for example in body_examples(doc, media_type) or []:
                checked += 1
                found = validator(doc, *body).iter_errors(example)
                errors += [f"{method} {path}: {e.message}" for e in found]

    assert errors == []
    assert checked >= 20  # the bodies' and their schemas' (one per star class, per key role...)


async def test_every_request_body_example_is_accepted(
    client: httpx.AsyncClient, admin: dict[str, str], insert_product: InsertProduct
) -> None:
    """Sent as admin to its endpoint (unknown ids in the path): never refused as malformed or
    invalid (400, 422); at worst 404 for the ids. The products the order example names exist."""
    doc = await document(client)
    order = body_examples(
        doc, doc["paths"]["/v1/orders"]["post"]["requestBody"]["content"]["application/json"]
    )
    assert order is not None
    (mandarins, tea) = (item["product_id"] for item in order[0]["items"])
    await insert_product(id=uuid.UUID(mandarins), stock=Decimal(100))
    await insert_product(id=uuid.UUID(tea), unit=Unit.box, unit_step=Decimal(1), stock=Decimal(50))
    # The booking example names an experience: the settings example's, on a tourism product.
    settings = body_examples(
        doc,
        doc["paths"]["/v1/products/{product_id}/experience"]["put"]["requestBody"]["content"][
            "application/json"
        ],
    )
    assert settings is not None
    temple = await insert_product(
        id=uuid.UUID(EXAMPLE_EXPERIENCE_ID), group=ProductGroup.tourism, unit=Unit.visit
    )
    put = await client.put(f"/v1/products/{temple.id}/experience", json=settings[0], headers=admin)
    assert put.status_code == 201, put.text

    refused = {}
    answered = 0
    for method, path, op in operations(doc):
        for media, media_type in op.get("requestBody", {}).get("content", {}).items():
            for example in body_examples(doc, media_type) or []:
                url = re.sub(r"\{[a-z_]+\}", lambda _: str(uuid.uuid4()), path)
                content = example if isinstance(example, str) else json.dumps(example)
                headers = {**admin, "Content-Type": media, "Idempotency-Key": str(uuid.uuid4())}
                response = await client.request(method, url, content=content, headers=headers)
                answered += 1
                if response.status_code in (400, 422):
                    refused[f"{method} {path} {content[:60]}"] = response.json()

    assert refused == {}
    assert answered >= 16


async def test_every_error_answer_is_a_problem(client: httpx.AsyncClient) -> None:
    doc = await document(client)

    bodies = {
        json.dumps(response.get("content"))
        for _method, _path, op in operations(doc)
        for code, response in op["responses"].items()
        if code >= "400"
    }

    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert bodies == {json.dumps(problem)}
