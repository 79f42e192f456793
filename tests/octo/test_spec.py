"""The check itself: OCTO's definition read in its own OpenAPI dialect, and answers that break it
refused (so that the other tests' answers, all checked, prove something)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import OCTO_SPEC_PATH, OctoSpec

BOOKING_UUID = "559aed3d-6d5b-4fe0-bfca-99f5e7218a56"


def examples(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example the definition gives: each component's own,
    and each of the operations' answers."""
    for name, schema in document["components"]["schemas"].items():
        if "example" in schema:
            yield name, {"$ref": f"#/components/schemas/{name}"}, schema["example"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json", {})
                for title, example in content.get("examples", {}).items():
                    yield f"{method} {path} {status} {title}", content["schema"], example["value"]


def answer(
    method: str, path: str, status: int, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status,
        json=body,
        headers=headers,
        request=httpx.Request(method, f"http://testserver/octo{path}"),
    )


def test_the_definition_is_the_published_one_in_openapi_3_0(octo_spec: OctoSpec) -> None:
    assert OCTO_SPEC_PATH.parts[-3:] == ("var", "octo", "openapi.yaml")
    assert octo_spec.version == "3.0.0"
    assert octo_spec.document["info"]["title"] == "OCTO API Specification"


def test_every_example_of_the_definition_passes_the_check(octo_spec: OctoSpec) -> None:
    checked = 0
    for where, schema, example in examples(octo_spec.document):
        assert octo_spec.errors(schema, example) == [], where
        checked += 1

    assert checked > 50


def test_a_null_object_is_allowed_where_the_definition_writes_nullable(
    octo_spec: OctoSpec,
) -> None:
    example = octo_spec.document["components"]["schemas"]["UnitItem"]["example"]
    assert example["ticket"] is None
    strict = OctoSpec(octo_spec.document)
    strict.convert = lambda schema: schema
    strict.components = octo_spec.document["components"]

    assert strict.component_errors("UnitItem", example) != []
    assert octo_spec.component_errors("UnitItem", example) == []


def test_an_answer_without_a_required_field_is_refused(octo_spec: OctoSpec) -> None:
    supplier = {"id": "x", "name": "n", "endpoint": "https://example.vn/octo"}

    with pytest.raises(AssertionError, match="'contact' is a required property"):
        octo_spec.check(answer("GET", "/supplier", 200, supplier, {"Octo-Capabilities": ""}))


def test_an_answer_without_octo_capabilities_is_refused(octo_spec: OctoSpec) -> None:
    with pytest.raises(AssertionError, match="no Octo-Capabilities header"):
        octo_spec.check(answer("GET", "/products", 200, []))


def test_a_status_the_operation_does_not_give_is_refused(octo_spec: OctoSpec) -> None:
    with pytest.raises(AssertionError, match="not an answer the definition gives"):
        octo_spec.check(answer("POST", "/bookings", 201, {}, {"Octo-Capabilities": ""}))


def test_an_error_without_the_value_its_code_names_is_refused(octo_spec: OctoSpec) -> None:
    body = {"error": "INVALID_BOOKING_UUID", "errorMessage": "No such booking."}

    with pytest.raises(AssertionError, match="'uuid' is a required property"):
        octo_spec.check(answer("GET", f"/bookings/{BOOKING_UUID}", 400, body))


def test_an_error_code_octo_does_not_have_is_refused(octo_spec: OctoSpec) -> None:
    body = {"error": "NOT_FOUND", "errorMessage": "No such booking."}

    with pytest.raises(AssertionError, match="none of OCTO's error codes"):
        octo_spec.check(answer("GET", f"/bookings/{BOOKING_UUID}", 400, body))


def test_a_wrong_enum_value_is_refused(octo_spec: OctoSpec) -> None:
    day = {
        "localDate": "2025-11-08",
        "available": True,
        "status": "available",
        "vacancies": 1,
        "capacity": 1,
        "openingHours": [],
    }

    with pytest.raises(AssertionError, match="'available' is not one of"):
        octo_spec.check(
            answer("POST", "/availability/calendar", 200, [day], {"Octo-Capabilities": ""})
        )
