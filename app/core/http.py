"""Conditional requests: strong ETags over the JSON representation."""

from __future__ import annotations

import hashlib

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from app.core.errors import PreconditionFailed


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def representation(model: BaseModel) -> tuple[bytes, str]:
    body = model.model_dump_json().encode()
    return body, etag_of(body)


def conditional_json(
    request: Request,
    model: BaseModel,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The model as JSON with its ETag, or 304 when `If-None-Match` names that tag."""
    body, etag = representation(model)
    all_headers = {"ETag": etag, **(headers or {})}
    if_none_match = request.headers.get("if-none-match")
    if request.method in ("GET", "HEAD") and if_none_match is not None:
        tags = _tags(if_none_match)
        if "*" in tags or etag in tags:
            return Response(status_code=304, headers=all_headers)
    return Response(
        body, status_code=status_code, media_type="application/json", headers=all_headers
    )


def check_if_match(request: Request, current: BaseModel) -> None:
    """Refuse a write whose `If-Match` names another version than the current one."""
    if_match = request.headers.get("if-match")
    if if_match is None:
        return
    tags = _tags(if_match)
    if "*" in tags:
        return
    if representation(current)[1] not in tags:
        raise PreconditionFailed(
            "The resource changed since you read it (ETag mismatch); fetch it again.",
            code="etag_mismatch",
        )
