"""Query strings hold what the operation declares, each scalar once (app.core.query)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field

from app.core.errors import install_handlers
from app.core.query import (
    document_query_models,
    query_model,
    refuse_undeclared_query,
)
from tests.helpers import InsertProduct, problem

pytestmark = pytest.mark.anyio


async def test_an_unknown_parameter_is_422_naming_it_and_what_is_taken(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    declared = document["paths"]["/v1/products"]["get"]["parameters"]
    takes = sorted(p["name"] for p in declared if p["in"] == "query")

    response = await client.get("/v1/products", params={"page": 2})

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "validation_error"
    assert body["errors"] == [
        {
            "loc": ["query", "page"],
            "msg": f"Unknown query parameter; this operation takes: {', '.join(takes)}.",
            "type": "unknown_parameter",
        }
    ]


async def test_each_unknown_parameter_is_named(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/taxonomy?page=2&sort=name&limit=5")

    assert response.status_code == 422
    assert [(e["loc"], e["msg"]) for e in problem(response)["errors"]] == [
        (["query", "page"], "Unknown query parameter; this operation takes: none."),
        (["query", "sort"], "Unknown query parameter; this operation takes: none."),
        (["query", "limit"], "Unknown query parameter; this operation takes: none."),
    ]


async def test_a_scalar_given_twice_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/owners?limit=1&limit=2")

    assert response.status_code == 422
    assert problem(response)["errors"] == [
        {
            "loc": ["query", "limit"],
            "msg": "Given 2 times; give it once.",
            "type": "repeated_parameter",
        }
    ]


async def test_a_parameter_of_a_dependency_is_declared(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events", params={"tz": "Asia/Bangkok"})

    assert response.status_code == 200


async def test_an_aliased_parameter_is_declared_under_its_alias(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    url = f"/v1/reports/owners/{uuid.uuid4()}/sales"
    params = {"from": "2025-11-01", "to": "2025-11-30"}

    by_alias = await client.get(url, params=params, headers=admin)
    by_name = await client.get(url, params={**params, "first": "2025-11-01"}, headers=admin)

    assert by_alias.status_code == 404  # past the query checks: no such owner
    assert by_name.status_code == 422
    assert [e["loc"] for e in problem(by_name)["errors"]] == [["query", "first"]]


async def test_declared_parameters_still_filter(
    client: httpx.AsyncClient, insert_product: InsertProduct
) -> None:
    await insert_product(name="Quýt vàng")
    await insert_product(name="Hồi Văn Quan")

    response = await client.get("/v1/products", params={"q": "hoi", "limit": 5})

    assert response.status_code == 200
    assert [p["name"] for p in response.json()["items"]] == ["Hồi Văn Quan"]


async def test_every_operation_refuses_an_unknown_parameter(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    document = (await client.get("/openapi.json")).json()
    operations = [(method, path) for path, item in document["paths"].items() for method in item]

    refused = []
    for method, template in operations:
        path = re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), template)
        response = await client.request(
            method, path, params={"zzz_unknown": "1"}, headers=admin, json={}
        )
        if response.status_code == 422 and [e["loc"] for e in problem(response)["errors"]] == [
            ["query", "zzz_unknown"]
        ]:
            refused.append((method, template))

    assert refused == operations


class _Filters(BaseModel):
    color: list[str] = []
    size: int | None = None


@pytest.mark.parametrize("read", ["fastapi", "query_model"])
async def test_a_list_parameter_may_repeat(read: str) -> None:
    # No operation of the API takes a list yet: a small app of its own, with the same rule.
    app = FastAPI(dependencies=[Depends(refuse_undeclared_query)])
    install_handlers(app)

    async def things(
        filters: _Filters, tag: Annotated[list[str] | None, Query()] = None
    ) -> dict[str, list[str]]:
        return {"color": filters.color, "tag": tag or []}

    app.get("/things")(_reading(things, filters=_Filters, by=read))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        lists = await client.get("/things?color=red&color=blue&tag=a&tag=b")
        scalar = await client.get("/things?size=1&size=2")

    assert lists.status_code == 200
    assert lists.json() == {"color": ["red", "blue"], "tag": ["a", "b"]}
    assert scalar.status_code == 422
    assert [e["loc"] for e in problem(scalar)["errors"]] == [["query", "size"]]


def _reading(endpoint: Any, *, by: str, **models: type[BaseModel]) -> Any:
    """`endpoint` with each named parameter read from the query string as its model: by
    FastAPI (`Query()`) or by `query_model`."""
    for name, model in models.items():
        how = Query() if by == "fastapi" else query_model(model)
        endpoint.__annotations__[name] = Annotated[model, how]
    return endpoint


# `query_model` reads and documents a query model as FastAPI's `Query()` does.


class _Kind(StrEnum):
    tea = "tea"
    fruit = "fruit"


class _Search(BaseModel):
    """Every kind of field the API's query models have."""

    q: str | None = Field(default=None, min_length=2, description="Words.")
    kind: _Kind | None = None
    stars: int | None = Field(default=None, ge=1, le=5)
    certified: bool | None = None
    first: date | None = Field(default=None, alias="from", description="From this day.")
    color: list[str] = []
    limit: int = Field(default=20, ge=1, le=100)


class _Strict(BaseModel):
    model_config = {"extra": "forbid"}

    limit: int = 20


def _twin_apps() -> tuple[FastAPI, FastAPI]:
    """The same operations, their query models read by FastAPI and by `query_model`."""
    apps = []
    for read in ("fastapi", "query_model"):
        app = FastAPI()
        install_handlers(app)

        async def things(owner_id: uuid.UUID, query: _Search) -> dict[str, Any]:
            return {"owner_id": owner_id, **query.model_dump(mode="json")}

        async def strict_things(query: _Strict) -> dict[str, Any]:
            return query.model_dump()

        app.get("/owners/{owner_id}/things")(_reading(things, query=_Search, by=read))
        app.get("/strict")(_reading(strict_things, query=_Strict, by=read))
        apps.append(app)
    return apps[0], apps[1]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=tr%C3%A0&kind=tea&stars=4&certified=true&from=2025-11-01&limit=5",
        "color=red&color=blue",
        "stars=4&stars=5",  # a scalar given twice: its last value
        "q=&kind=",  # empty values are values
        "stars=9&limit=0&kind=rice&certified=perhaps&from=yesterday&q=a",
        "first=2025-11-01",  # the field's name, not its alias: undeclared, ignored
        "unknown=1",
    ],
)
@pytest.mark.parametrize("path", ["/owners/7b1c0a0e-0000-4000-8000-000000000001/things", "/strict"])
async def test_a_query_model_is_read_as_fastapi_reads_it(path: str, query: str) -> None:
    answers = []
    for app in _twin_apps():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            response = await client.get(f"{path}?{query}")
        answers.append((response.status_code, response.json()))

    assert answers[0] == answers[1]


def test_a_query_model_is_documented_as_fastapi_documents_it() -> None:
    documents = []
    for app in _twin_apps():
        document = get_openapi(title="twins", version="1", routes=app.routes)
        document_query_models(app, document)
        documents.append(document)

    fastapis, ours = documents
    assert fastapis == ours
    parameters = fastapis["paths"]["/owners/{owner_id}/things"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == [
        "owner_id", "q", "kind", "stars", "certified", "from", "color", "limit"
    ]  # fmt: skip


def test_every_query_model_of_the_api_is_read_by_query_model() -> None:
    # FastAPI's own reading (`Annotated[XQuery, Query()]`) would work, at ten times the cost.
    from app.main import create_app

    read_by_fastapi = []
    for context in iter_route_contexts(create_app().routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        pending = [route.dependant]
        while pending:
            dependant = pending.pop()
            pending.extend(dependant.dependencies)
            read_by_fastapi += [
                (route.path, field.name)
                for field in dependant.query_params
                if isinstance(field.field_info.annotation, type)
                and issubclass(field.field_info.annotation, BaseModel)
            ]

    assert read_by_fastapi == []
