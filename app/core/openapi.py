"""The OpenAPI document as the machine contract: declared error responses, all rendered as
problem+json; the conditional-request headers; readable operation ids."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.core.errors import PROBLEM_MEDIA_TYPE, Problem
from app.core.query import document_query_models

_DESCRIPTIONS = {
    304: "Not modified: the `If-None-Match` tag is current.",
    400: "Malformed JSON, or a bad cursor or header.",
    401: "Missing, unknown or revoked API key.",
    403: "The key's role may not do this.",
    404: "No such resource (or not visible to this key).",
    406: "Nothing this operation answers with is acceptable (`Accept`); `available` lists "
    "the media types it offers.",
    409: "Conflicts with the current state.",
    412: "`If-Match` does not match the current `ETag`.",
    413: "The request body is larger than `OCOP_MAX_BODY_BYTES` (1 MiB by default).",
    422: "The input failed validation; `errors` lists each field.",
    429: "Rate limit exceeded; wait `Retry-After` seconds.",
    500: "Unexpected error; the body carries no internals.",
    503: "The database cannot be reached, took too long, or lacks this release's schema "
    "(`database_unavailable`, `database_timeout`, `schema_not_current`); retry after "
    "`Retry-After` seconds.",
}

DOCS_ASSETS_PATH = "/docs/assets"
"""Where the docs pages' scripts and styles are served from (fastapi-offline's files)."""

# Every operation can answer these, whatever it does.
ALWAYS = (400, 413, 422, 429, 500, 503)

_REF = "#/components/schemas/"
_HEADER = {"schema": {"type": "string"}}
_RETRY_AFTER = {
    "schema": {"type": "integer"},
    "description": "Seconds to wait before trying again.",
}
# Sent on every rate-limited answer (draft-ietf-httpapi-ratelimit-headers), and on the 429.
RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        **_HEADER,
        "description": 'The quota: `"<policy>";q=<requests>;w=<window seconds>`.',
    },
    "RateLimit": {
        **_HEADER,
        "description": 'What is left: `"<policy>";r=<remaining>;t=<seconds to reset>`.',
    },
}


# The request headers of conditional requests (RFC 9110 13.1), declared on the operations whose
# answers they change: a read that can answer 304 takes `If-None-Match`, a write that can answer
# 412 takes `If-Match`. Both are optional: without them the request is unconditional.
_CONDITIONAL_HEADERS: dict[str, dict[str, Any]] = {
    "304": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "The `ETag` of the copy you hold: 304 without a body if it is current.",
        "schema": {"type": "string"},
    },
    "412": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "The `ETag` you read (in any language or zone): 412 if the resource "
        "changed since; without it the write is unconditional.",
        "schema": {"type": "string"},
    },
}
_ETAG = {
    "ETag": {
        "schema": {"type": "string"},
        "description": "The version of this representation, for `If-None-Match` and `If-Match`.",
    }
}


def operation_id(route: APIRoute) -> str:
    """The operation id a generated client names its function after: the endpoint's own name
    (`list_products`, `get_product`), which is unique across the app."""
    return route.name


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Declare the error (and 304) responses an operation can give, for its OpenAPI entry."""
    return {
        code: {"description": _DESCRIPTIONS.get(code, HTTPStatus(code).phrase)} for code in codes
    }


def install_openapi(app: FastAPI) -> None:
    """Make the document say what the app does: every error is problem+json (never FastAPI's
    default `HTTPValidationError`), every operation lists the errors it can answer and the
    headers it reads, and every schema is named as its title says."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            webhooks=app.webhooks.routes,
            tags=app.openapi_tags,
        )
        document_query_models(app, schema)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = Problem.model_json_schema(ref_template=_REF + "{model}")
        for name, definition in problem_schema.pop("$defs", {}).items():
            components[name] = definition
        components["Problem"] = problem_schema
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                _declare_errors(operation)
                _declare_conditional_headers(operation)
        for path_item in schema.get("webhooks", {}).values():
            for operation in path_item.values():
                # FastAPI's own 422 for the receiver's parameters: what a receiver answers is
                # its own business; the webhook's operation says what the sender makes of it.
                operation["responses"].pop("422", None)
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        _restore_example_nulls(components)
        _name_schemas_by_title(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_errors(operation: dict[str, Any]) -> None:
    """The errors every operation can answer, and each error's body: problem+json."""
    operation_responses = operation.setdefault("responses", {})
    for code in ALWAYS:
        operation_responses.setdefault(str(code), {"description": _DESCRIPTIONS[code]})
    operation_responses["429"]["headers"] = {"Retry-After": _RETRY_AFTER, **RATE_LIMIT_HEADERS}
    operation_responses["503"]["headers"] = {"Retry-After": _RETRY_AFTER}
    for code, response in operation_responses.items():
        if code.isdigit() and int(code) >= 400:
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF + "Problem"}}}
        elif code == "304":
            response.pop("content", None)


def _restore_example_nulls(schemas: dict[str, Any]) -> None:
    """Put back the nulls of the component schemas' examples. FastAPI writes the document
    without a single null (`exclude_none`), examples included, so an example's null for a
    property that is required and nullable (an answer's `reason: null`) vanished, and the
    example no longer fit its schema. Such a property missing from an example can only have
    been a null."""

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].removeprefix(_REF)]
        return schema

    def branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
        return [*schema.get("anyOf", ()), *schema.get("oneOf", ())]

    def nullable(schema: dict[str, Any]) -> bool:
        schema = resolve(schema)
        return schema.get("type") == "null" or any(nullable(b) for b in branches(schema))

    def fill(schema: dict[str, Any], value: Any) -> None:
        schema = resolve(schema)
        for branch in branches(schema):
            fill(branch, value)
        properties: dict[str, Any] = schema.get("properties", {})
        if isinstance(value, dict) and properties:
            for name in schema.get("required", ()):
                if name not in value and name in properties and nullable(properties[name]):
                    value[name] = None
            for name, item in value.items():
                if name in properties:
                    fill(properties[name], item)
        elif isinstance(value, list) and "items" in schema:
            for item in value:
                fill(schema["items"], item)

    for definition in schemas.values():
        for example in definition.get("examples", ()):
            fill(definition, example)


def _name_schemas_by_title(document: dict[str, Any]) -> None:
    """Name each component schema as its title: `ProductPage`, not `Page_ProductRead_` (a
    generic model's name as FastAPI writes it). Generated clients name their classes after
    one or the other; the two agree, and a title used twice is the test suite's to refuse."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    titles = [definition.get("title") for definition in schemas.values()]
    renames = {
        name: title
        for name, definition in schemas.items()
        if (title := definition.get("title")) is not None
        and title != name
        and titles.count(title) == 1
        and title not in schemas
    }
    if not renames:
        return
    document["components"]["schemas"] = {
        renames.get(name, name): definition for name, definition in schemas.items()
    }
    refs = {_REF + old: _REF + new for old, new in renames.items()}

    def rewrite(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref in refs:
                node["$ref"] = refs[ref]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(document)


def _declare_conditional_headers(operation: dict[str, Any]) -> None:
    """`If-None-Match` where 304 is declared, `If-Match` where 412 is; the `ETag` they compare
    on the operation's success answers."""
    operation_responses = operation["responses"]
    conditional = [code for code in _CONDITIONAL_HEADERS if code in operation_responses]
    if not conditional:
        return
    parameters = operation.setdefault("parameters", [])
    declared = {(p["in"], p["name"].lower()) for p in parameters}
    for code in conditional:
        header = _CONDITIONAL_HEADERS[code]
        if ("header", header["name"].lower()) not in declared:  # an endpoint's own comes first
            parameters.append(header)
    for code, response in operation_responses.items():
        if code.startswith("2") and "content" in response:
            response.setdefault("headers", {}).update(_ETAG)
