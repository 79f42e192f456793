"""Query strings hold what the operation declares, each scalar once (app.core.query)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.dependencies import utils as dependency_utils
from pydantic import BaseModel

from app.core.errors import install_handlers
from app.core.query import refuse_undeclared_query, remember_sequence_checks
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


async def test_a_list_parameter_may_repeat() -> None:
    # No operation of the API takes a list yet: a small app of its own, with the same rule.
    app = FastAPI(dependencies=[Depends(refuse_undeclared_query)])
    install_handlers(app)

    @app.get("/things")
    async def things(
        filters: Annotated[_Filters, Query()], tag: Annotated[list[str] | None, Query()] = None
    ) -> dict[str, list[str]]:
        return {"color": filters.color, "tag": tag or []}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        lists = await client.get("/things?color=red&color=blue&tag=a&tag=b")
        scalar = await client.get("/things?size=1&size=2")

    assert lists.status_code == 200
    assert lists.json() == {"color": ["red", "blue"], "tag": ["a", "b"]}
    assert scalar.status_code == 422
    assert [e["loc"] for e in problem(scalar)["errors"]] == [["query", "size"]]


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    "annotation",
    [
        str,
        int | None,
        list[str],
        list[str] | None,
        tuple[int, ...],
        set[str] | None,
        dict[str, int],
        Annotated[list[int], "meta"],
        Annotated[str | None, "meta"],
        Annotated[list[int], _Unhashable()],
    ],
)
def test_the_remembered_sequence_check_answers_as_fastapis(annotation: object) -> None:
    from fastapi._compat import shared

    remember_sequence_checks()
    remember_sequence_checks()  # idempotent: not wrapped twice
    check: Any = vars(dependency_utils)["field_annotation_is_sequence"]

    assert check.__wrapped__ is shared.field_annotation_is_sequence
    assert check(annotation) is shared.field_annotation_is_sequence(annotation)
    assert check(annotation) is shared.field_annotation_is_sequence(annotation)  # remembered


async def test_fastapi_reads_parameters_through_the_remembered_check() -> None:
    # If a FastAPI release stops calling the function by this name, the speed-up is gone
    # silently: this fails instead, and the release's own cost can be looked at again.
    remember_sequence_checks()
    check: Any = vars(dependency_utils)["field_annotation_is_sequence"]
    app = FastAPI()

    @app.get("/things")
    async def things(filters: Annotated[_Filters, Query()]) -> dict[str, list[str]]:
        return {"color": filters.color}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        before = check.cache_info().hits
        answer = await client.get("/things?color=red&color=blue&size=2")

    assert answer.json() == {"color": ["red", "blue"]}
    assert check.cache_info().hits > before
