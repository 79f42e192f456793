from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text

from app.core.db import SessionDep
from tests.helpers import InsertProduct, problem
from tests.servers import free_port

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
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"


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


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("price_vnd", "x", "value_error"),
        ("name", 5, "string_type"),
        ("commune", "", "string_too_short"),
        ("unit_step", -1, "greater_than"),
        ("latitude", 200, "less_than_equal"),
    ],
)
async def test_an_optional_field_of_a_patch_is_named_as_sent(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    field: str,
    value: object,
    kind: str,
) -> None:
    """PATCH fields are optional without offering null (`X | SkipJsonSchema[None]`), which
    pydantic validates as a union: its branch tags are not the client's to read."""
    product = await insert_product()

    response = await client.patch(f"/v1/products/{product.id}", json={field: value}, headers=admin)

    assert response.status_code == 422
    [error] = problem(response)["errors"]
    assert error["loc"] == ["body", field]
    assert error["type"] == kind


async def test_openapi_declares_problem_json_for_errors(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    create = document["paths"]["/v1/owners"]["post"]["responses"]
    assert set(create) >= {"201", "400", "401", "403", "422", "500"}
    assert list(create["422"]["content"]) == ["application/problem+json"]
    assert create["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_a_500_carries_the_request_id_and_its_traceback_is_logged_once(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Served by a real uvicorn, whose own logs are captured too: the server must have nothing
    left to log, and the answer goes through the request-id middleware like any other."""

    async def explode() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/explode", explode)
    server = uvicorn.Server(
        uvicorn.Config(app, port=free_port(), lifespan="off", log_config=None, access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
            await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{server.config.port}/v1/explode"
        with caplog.at_level(logging.INFO):
            async with httpx.AsyncClient() as client:
                response = await client.get(url, headers={"X-Request-ID": "boom-1"})
    finally:
        server.should_exit = True
        await serving

    assert response.status_code == 500
    assert problem(response)["code"] == "internal_error"
    assert response.headers["x-request-id"] == "boom-1"
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert [(r.name, r.__dict__.get("request_id")) for r in tracebacks] == [
        ("app.errors", "boom-1")
    ]
    assert "Traceback" not in "".join(r.getMessage() for r in caplog.records)
    (access,) = [r for r in caplog.records if r.name == "app.access"]
    assert access.__dict__["http"]["status"] == 500


async def test_an_unexpected_exception_does_not_escape_the_app(app: FastAPI) -> None:
    async def explode() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/explode", explode)
    transport = httpx.ASGITransport(app=app)  # raises what the app raises
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/v1/explode")

    assert response.status_code == 500
    assert response.headers["x-request-id"]


async def test_a_database_error_that_is_a_bug_is_a_logged_500(
    client: httpx.AsyncClient, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def bad_sql(session: SessionDep) -> None:
        await session.execute(text("SELECT no_such_function()"))

    app.add_api_route("/v1/bad-sql", bad_sql)
    with caplog.at_level(logging.ERROR, logger="app.errors"):
        response = await client.get("/v1/bad-sql")

    assert response.status_code == 500
    assert problem(response)["code"] == "internal_error"
    assert len([r for r in caplog.records if r.exc_info is not None]) == 1
