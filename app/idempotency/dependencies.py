"""The `Idempotency-Key` request header, as routers declare it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header

_DESCRIPTION = (
    "A unique key per intended operation (a UUID is ideal); retries reuse it. Without it the "
    "request is refused (400 `idempotency_key_required`)."
)
_MIN_LENGTH, _MAX_LENGTH, _PATTERN = 1, 255, r"^[\x21-\x7e]+$"

# Optional to FastAPI, so that a request without it reaches `run_idempotent` and is answered
# 400 idempotency_key_required rather than a generic 422; the document states it as the
# operation needs it: required (IDEMPOTENCY_KEY_OPENAPI).
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=_MIN_LENGTH,
        max_length=_MAX_LENGTH,
        pattern=_PATTERN,
        include_in_schema=False,
    ),
]

IDEMPOTENCY_KEY_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": _DESCRIPTION,
            "schema": {
                "type": "string",
                "minLength": _MIN_LENGTH,
                "maxLength": _MAX_LENGTH,
                "pattern": _PATTERN,
            },
        }
    ]
}
"""`openapi_extra` for an operation that takes IdempotencyKeyHeader."""
