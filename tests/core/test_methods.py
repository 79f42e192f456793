"""HEAD wherever GET is, and OPTIONS: what a client may do at a path."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.helpers import InsertEvent, InsertProduct, OwnerFactory, idem, order_body, problem

pytestmark = pytest.mark.anyio

# Differ from one request to the next whatever the method.
VOLATILE_HEADERS = {"x-request-id", "ratelimit"}
# Bodies that change between two requests (the request counters), so their length too.
VOLATILE_BODIES = {"/metrics"}


async def _real_ids(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
    insert_event: InsertEvent,
) -> dict[str, str]:
    """An id of a real row for each path parameter (a made-up one where none is at hand)."""
    owner = await make_owner()
    product = await insert_product(owner_id=owner["id"], stock=None)
    event = await insert_event(products={product.id: None})
    order = await client.post(
        "/v1/orders", json=order_body((product, 1), event_id=str(event.id)), headers=idem(partner)
    )
    webhook = await client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["order.created"]},
        headers=admin,
    )
    keys = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    return {
        "owner_id": owner["id"],
        "product_id": str(product.id),
        "event_id": str(event.id),
        "order_id": order.json()["id"],
        "webhook_id": webhook.json()["id"],
        "key_id": keys[0]["id"],
    }


async def test_every_get_operation_answers_head_with_its_status_and_headers(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
    insert_event: InsertEvent,
) -> None:
    ids = await _real_ids(client, admin, partner, make_owner, insert_product, insert_event)
    document = (await client.get("/openapi.json")).json()
    paths = [path for path, item in document["paths"].items() if "get" in item]

    compared: list[tuple[str, int]] = []
    for template in paths:
        path = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), template)
        params = {"from": "2025-11-01", "to": "2025-11-30"} if "/reports/owners/" in path else {}
        got = await client.get(path, params=params, headers=admin)
        head = await client.head(path, params=params, headers=admin)

        volatile = VOLATILE_HEADERS | ({"content-length"} if path in VOLATILE_BODIES else set())
        assert head.status_code == got.status_code, template
        assert head.content == b"", template
        assert [(k, v) for k, v in head.headers.items() if k not in volatile] == [
            (k, v) for k, v in got.headers.items() if k not in volatile
        ], template
        compared.append((template, head.status_code))

    assert len(compared) == len(paths)
    assert ("/v1/products/{product_id}", 200) in compared
    assert ("/v1/reports/events/{event_id}/sales", 200) in compared


async def test_head_of_a_large_answer_has_the_compressed_get_headers(
    client: httpx.AsyncClient, insert_product: InsertProduct
) -> None:
    for _ in range(8):
        await insert_product(description="Quýt chín vàng trên núi đá vôi. " * 10)
    gzip = {"Accept-Encoding": "gzip"}

    got = await client.get("/v1/products", headers=gzip)
    head = await client.head("/v1/products", headers=gzip)

    assert got.headers["content-encoding"] == "gzip"
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == got.headers["content-length"]


async def test_head_honours_if_none_match(
    client: httpx.AsyncClient, insert_product: InsertProduct
) -> None:
    product = await insert_product()
    etag = (await client.get(f"/v1/products/{product.id}")).headers["etag"]

    head = await client.head(f"/v1/products/{product.id}", headers={"If-None-Match": etag})

    assert head.status_code == 304
    assert head.headers["etag"] == etag


async def test_head_is_logged_and_counted_as_head(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="app.access"):
        response = await client.head("/v1/taxonomy")

    assert response.status_code == 200
    [record] = [r for r in caplog.records if r.name == "app.access"]
    fields: dict[str, Any] = record.http  # type: ignore[attr-defined]
    assert (fields["method"], fields["route"], fields["status"]) == ("HEAD", "/v1/taxonomy", 200)


async def test_head_where_there_is_no_get_is_405(client: httpx.AsyncClient) -> None:
    response = await client.head(f"/v1/orders/{uuid.uuid4()}/cancel")

    assert response.status_code == 405
    assert response.headers["allow"] == "POST, OPTIONS"


async def test_openapi_lists_no_head_operation_and_says_head_is_answered(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()

    methods = {method for item in document["paths"].values() for method in item}
    assert methods & {"head", "options"} == set()
    assert "get" in methods
    assert "every `GET` also answers `HEAD`" in document["info"]["description"]


async def test_options_is_204_with_what_the_path_allows(client: httpx.AsyncClient) -> None:
    response = await client.options("/v1/owners")

    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert response.content == b""


async def test_options_of_a_resource_lists_every_method_of_its_routes(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options(f"/v1/events/{uuid.uuid4()}/products/{uuid.uuid4()}")

    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, PATCH, DELETE, OPTIONS"


async def test_options_of_an_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    response = await client.options("/v1/no-such-thing")

    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


async def test_wrong_method_on_the_docs_assets_names_what_they_allow(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/docs/assets/swagger-ui.css")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


async def test_every_method_a_literal_path_does_not_have_is_405(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """A path without parameters answers exactly the methods the document gives it, even where a
    path with a parameter would also match it (`/v1/webhooks/event-types` beside
    `/v1/webhooks/{webhook_id}`: a PATCH there was a 422 for an id "event-types")."""
    document = (await client.get("/openapi.json")).json()
    methods = {"get", "post", "put", "patch", "delete"}
    wrong = []
    for path, operations in document["paths"].items():
        if "{" in path:
            continue
        declared = methods & set(operations)
        allow = (
            {m.upper() for m in declared} | {"OPTIONS"} | ({"HEAD"} if "get" in declared else set())
        )
        for method in sorted(methods - declared):
            response = await client.request(method.upper(), path, headers=admin)
            said = set(response.headers.get("allow", "").replace(" ", "").split(","))
            if response.status_code != 405 or said != allow:
                wrong.append((method.upper(), path, response.status_code, said))
    assert wrong == []
