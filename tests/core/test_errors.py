from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from tests.helpers import problem

pytestmark = pytest.mark.anyio


async def test_unexpected_exception_is_500_without_internals_and_logged(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    app.add_api_route("/v1/explode", explode)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        with caplog.at_level(logging.ERROR, logger="app.errors"):
            response = await client.get("/v1/explode")

    assert response.status_code == 500
    body = problem(response)
    assert body["code"] == "internal_error"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    records = [r for r in caplog.records if r.name == "app.errors"]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert "hunter2" in str(records[0].exc_info[1])


async def test_unknown_route_is_problem_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/no-such-thing")

    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


async def test_wrong_method_is_405_with_every_allowed_method(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/owners")

    assert response.status_code == 405
    assert problem(response)["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET, POST"


async def test_wrong_type_in_query_is_422_with_location(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/owners", params={"limit": "many"})

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "validation_error"
    assert body["errors"] == [
        {
            "loc": ["query", "limit"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
        }
    ]


async def test_openapi_declares_problem_json_for_errors(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    create = document["paths"]["/v1/owners"]["post"]["responses"]
    assert set(create) >= {"201", "400", "401", "403", "422", "500"}
    assert list(create["422"]["content"]) == ["application/problem+json"]
    assert create["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert "HTTPValidationError" not in document["components"]["schemas"]
