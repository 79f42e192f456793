"""OpenAPI helpers: declared error responses, all rendered as problem+json."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.core.errors import PROBLEM_MEDIA_TYPE, Problem

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

_HEADER = {"schema": {"type": "string"}}
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


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Declare the error (and 304) responses an operation can give, for its OpenAPI entry."""
    return {
        code: {"description": _DESCRIPTIONS.get(code, HTTPStatus(code).phrase)} for code in codes
    }


def install_openapi(app: FastAPI) -> None:
    """Make the document say what the app does: every error is problem+json (never FastAPI's
    default `HTTPValidationError`), and every operation lists the errors it can answer."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in problem_schema.pop("$defs", {}).items():
            components[name] = definition
        components["Problem"] = problem_schema
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                operation_responses = operation.setdefault("responses", {})
                for code in ALWAYS:
                    operation_responses.setdefault(str(code), {"description": _DESCRIPTIONS[code]})
                retry_after = {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before trying again.",
                }
                operation_responses["429"]["headers"] = {
                    "Retry-After": retry_after,
                    **RATE_LIMIT_HEADERS,
                }
                operation_responses["503"]["headers"] = {"Retry-After": retry_after}
                for code, response in operation_responses.items():
                    if code.isdigit() and int(code) >= 400:
                        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
                    elif code == "304":
                        response.pop("content", None)
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
