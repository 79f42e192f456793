"""Conditional requests: strong ETags over the JSON representation, and the version behind it.

A resource may be read in several representations (its texts in the reader's language, the zone
it names for local times). Its ETag is `"<version>-<representation>"`:

- `version` is a digest of the resource's *version* representation: the one that does not depend
  on who reads it (Vietnamese, the default zone), which the domain gives as `version=` (by
  default the representation itself, for resources read one way only). Any change of the
  resource, a translation included, changes it.
- `representation` is a digest of the very bytes this reader was sent.

`If-None-Match` (a read, 304) compares whole tags: a cached English body is not a Vietnamese
one. `If-Match` (a write, 412) compares versions only: a tag read in any language or zone names
the version the client read, and a write needs the resource to be at that version still.
"""

from __future__ import annotations

import hashlib

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from app.core.errors import PreconditionFailed

VERSION_DIGITS = 32
REPRESENTATION_DIGITS = 16


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _body(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def version_of(model: BaseModel) -> str:
    """The version part of the ETag of a resource whose version representation is `model`."""
    return _digest(_body(model))[:VERSION_DIGITS]


def etag_version(tag: str) -> str:
    """The version an ETag names (its part before the dash), quotes and `W/` aside."""
    return tag.strip().removeprefix("W/").strip('"').partition("-")[0]


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def representation(model: BaseModel, version: BaseModel | None = None) -> tuple[bytes, str]:
    """The body of `model` and its ETag (`version`: the resource's version representation, if
    `model` is one of several)."""
    body = _body(model)
    digest = _digest(body)
    # Read one way only, the resource's version representation is these very bytes.
    version_digest = digest if version is None else _digest(_body(version))
    return body, f'"{version_digest[:VERSION_DIGITS]}-{digest[:REPRESENTATION_DIGITS]}"'


def conditional_json(
    request: Request,
    model: BaseModel,
    *,
    version: BaseModel | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The model as JSON with its ETag, or 304 when `If-None-Match` names that very tag.

    `version`: the resource as read in its version representation, when `model` is one of
    several (another language, another zone); omitted, `model` is it."""
    body, etag = representation(model, version)
    all_headers = {"ETag": etag, **(headers or {})}
    if_none_match = request.headers.get("if-none-match")
    if request.method in ("GET", "HEAD") and if_none_match is not None:
        tags = _tags(if_none_match)
        if "*" in tags or etag in tags:
            return Response(status_code=304, headers=all_headers)
    return Response(
        body, status_code=status_code, media_type="application/json", headers=all_headers
    )


def check_if_match(request: Request, version: BaseModel) -> None:
    """Refuse a write whose `If-Match` names another version than the current one, `version`
    being the resource in its version representation (as passed to `conditional_json`), in
    whatever language or zone the tag was read."""
    if_match = request.headers.get("if-match")
    if if_match is None:
        return
    tags = _tags(if_match)
    if "*" in tags:
        return
    if version_of(version) not in {etag_version(tag) for tag in tags}:
        raise PreconditionFailed(
            "The resource changed since you read it (ETag mismatch); fetch it again.",
            code="etag_mismatch",
        )
