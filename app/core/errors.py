"""Typed domain errors and their rendering as RFC 9457 problem details.

Services raise `DomainError` subclasses; one set of handlers, installed by `install_handlers`,
turns them (and FastAPI's own validation and routing errors) into `application/problem+json`.

Under a path prefix that speaks another protocol (OCTO under `/octo`), the same errors are
written in that protocol's own form instead: its package installs an `ErrorDialect` for the
prefix (`install_error_dialect`), and every error answer, the middleware's included, goes
through `error_response`, which picks the form by the request's path.

Database errors are sorted here too (`database_fault`): a database that cannot be reached, does
not answer in time, or lacks the schema is a fault of the environment, answered 503 with
`Retry-After`; any other database error is a bug, answered 500 and logged with its traceback,
like every unexpected exception (`internal_error`, once per request).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Mount
from starlette.types import Scope

logger = logging.getLogger("app.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://ocop-api.dev/problems/"


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where the problem is: body, query, path, header.")
    msg: str = Field(description="What is wrong, for a person.")
    type: str = Field(description="A machine-readable kind of error.")


class Problem(BaseModel):
    """An RFC 9457 problem detail, the body of every error response."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong this time.")
    code: str = Field(description="Machine-readable code, e.g. not_found, validation_error.")
    errors: list[FieldError] | None = Field(
        default=None, description="Validation errors, one per offending field."
    )


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    return ProblemResponse(body, status_code=status, headers=headers)


class ErrorDialect(Protocol):
    """Writes an error answer in another protocol's form, from what the problem would say:
    its status, code, detail, headers and extra members (`errors` for a validation error)."""

    def __call__(
        self, status: int, code: str, detail: str, headers: Mapping[str, str], extra: dict[str, Any]
    ) -> Response: ...


def install_error_dialect(app: FastAPI, prefix: str, dialect: ErrorDialect) -> None:
    """Answer every error under `prefix` (a path such as `/octo`, and all below it) with
    `dialect` instead of problem+json."""
    dialects: dict[str, ErrorDialect] = getattr(app.state, "error_dialects", {})
    app.state.error_dialects = {**dialects, prefix.rstrip("/"): dialect}


def _dialect(scope: Scope) -> ErrorDialect | None:
    state = getattr(scope.get("app"), "state", None)
    dialects: dict[str, ErrorDialect] = getattr(state, "error_dialects", None) or {}
    path: str = scope.get("path", "")
    for prefix, dialect in dialects.items():
        if path == prefix or path.startswith(prefix + "/"):
            return dialect
    return None


def error_response(
    scope: Scope,
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The error answer to this request: problem+json, or the form of the dialect installed
    for its path's prefix."""
    dialect = _dialect(scope)
    if dialect is not None:
        present = {key: value for key, value in extra.items() if value is not None}
        return dialect(status, code, detail, headers or {}, present)
    return problem_response(status, code, detail, title=title, headers=headers, **extra)


class DomainError(Exception):
    """Base of the errors services raise; each subclass fixes a status and a code."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.instance_code = code or self.code
        self.extra = extra

    def headers(self) -> dict[str, str] | None:
        return None


class BadRequest(DomainError):
    status, code, title = 400, "bad_request", "Bad request"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class NotAcceptable(DomainError):
    """Nothing the operation answers with is acceptable to the client (`Accept`)."""

    status, code, title = 406, "not_acceptable", "Not acceptable"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class PreconditionFailed(DomainError):
    status, code, title = 412, "precondition_failed", "Precondition failed"


class Unprocessable(DomainError):
    """Well-formed input that breaks a business rule (validated beyond the schema)."""

    status, code, title = 422, "validation_error", "Invalid input"


class ServiceUnavailable(DomainError):
    """The service cannot answer now, through no fault of the request: retry shortly."""

    status, code, title = 503, "service_unavailable", "Service unavailable"
    retry_after_s: ClassVar[int] = 2

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached, dropped the connection, or has no connection free."""

    code, title = "database_unavailable", "Database unavailable"


class DatabaseTimeout(ServiceUnavailable):
    """A statement ran past `OCOP_DATABASE_STATEMENT_TIMEOUT_MS` and the server cancelled it."""

    code, title = "database_timeout", "Database timeout"


class SchemaNotCurrent(ServiceUnavailable):
    """The database's schema is not the one this release was built for (`ocop migrate`)."""

    code, title = "schema_not_current", "Database schema not current"
    retry_after_s = 10


# PostgreSQL SQLSTATEs (Appendix A of its manual) that are faults of the database, not bugs.
# Connection exception; invalid authorization (an unknown role, a wrong password): the server
# turned the connection away, as it does for a database that does not exist (3D000 below).
_PG_UNAVAILABLE_CLASSES = ("08", "28")
_PG_UNAVAILABLE = frozenset(
    {
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now (starting up, recovering)
        "57P05",  # idle_session_timeout
        "53300",  # too_many_connections
        "3D000",  # invalid_catalog_name: the configured database does not exist
        "25P03",  # idle_in_transaction_session_timeout
    }
)
_PG_TIMEOUT = frozenset({"57014"})  # query_canceled: statement_timeout
_PG_SCHEMA = frozenset({"42P01", "42703", "3F000"})  # undefined table, column; no such schema
# SQLite says it in words.
_SQLITE_BUSY = ("database is locked", "database table is locked")
_SQLITE_UNAVAILABLE = ("unable to open database file", "disk i/o error")
_SQLITE_SCHEMA = ("no such table", "no such column")


def database_fault(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 a database error stands for, or None when it is a bug (or no database error).

    `app.core.db` makes every lost connection arrive here as a `DBAPIError` with
    `connection_invalidated` (a command timeout or a reset included) and every failed connect
    as an `OperationalError`; a full pool raises SQLAlchemy's own `TimeoutError`.
    """
    if isinstance(exc, sa_exc.TimeoutError):
        return DatabaseUnavailable("No database connection became free in time; retry shortly.")
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    unavailable = DatabaseUnavailable("The database cannot be reached; retry shortly.")
    if exc.connection_invalidated:
        return unavailable
    original = exc.orig
    if isinstance(original, sqlite3.Error):
        message = str(original).lower()
        if message.startswith(_SQLITE_BUSY):
            return DatabaseUnavailable("The database is busy; retry shortly.")
        if message.startswith(_SQLITE_UNAVAILABLE):
            return unavailable
        if message.startswith(_SQLITE_SCHEMA):
            return SchemaNotCurrent("The database schema is not current; run `ocop migrate`.")
        return None
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate in _PG_UNAVAILABLE or sqlstate.startswith(_PG_UNAVAILABLE_CLASSES):
            return unavailable
        if sqlstate in _PG_TIMEOUT:
            return DatabaseTimeout("The database took too long to answer; retry shortly.")
        if sqlstate in _PG_SCHEMA:
            return SchemaNotCurrent("The database schema is not current; run `ocop migrate`.")
        return None
    # An OperationalError without a SQLSTATE is one app.core.db made of a failed connect.
    return unavailable if isinstance(exc, sa_exc.OperationalError) else None


def _request_id(scope: Scope) -> str | None:
    request_id = (scope.get("state") or {}).get("request_id")
    return request_id if isinstance(request_id, str) else None


def internal_error(scope: Scope, exc: BaseException) -> Response:
    """Log an unexpected exception once, with its traceback and the request id, and answer a
    500 that carries no internals."""
    logger.error(
        "unhandled error on %s %s",
        scope.get("method"),
        scope.get("path"),
        exc_info=exc,
        extra={"request_id": _request_id(scope)},
    )
    return error_response(
        scope, 500, "internal_error", "An unexpected error occurred; it has been logged."
    )


def _loc(loc: tuple[Any, ...] | list[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def _without_null_branch(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The errors of a field written `X | SkipJsonSchema[None]` (optional in a PATCH, null not
    offered) as the client sees the field: pydantic validates it as a union and reports each
    branch under a tag of its own (`.../price_vnd/function-before[number_only(), ...]` and
    `.../price_vnd/none`). The null branch's error goes, and the other branch's tag leaves the
    location, so the error names the field."""
    unions = {
        tuple(error["loc"][:-1])
        for error in errors
        if error.get("type") == "none_required" and error.get("loc", ())[-1:] == ("none",)
    }
    if not unions:
        return errors
    kept = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        union = next((u for u in unions if loc[: len(u)] == u and len(loc) > len(u)), None)
        if union is None:
            kept.append(error)
        elif error.get("type") != "none_required" or loc[len(union)] != "none":
            kept.append({**error, "loc": (*union, *loc[len(union) + 1 :])})
    return kept


def problem_for(scope: Scope, exc: DomainError) -> Response:
    """The answer to `exc`, in the error form of the request's path (problem+json, or a
    dialect such as OCTO's). Routes raise domain errors; one that answers a refusal it must also
    keep (the request's transaction then commits) returns this instead."""
    return error_response(
        scope,
        exc.status,
        exc.instance_code,
        exc.detail,
        title=exc.title,
        headers=exc.headers(),
        **exc.extra,
    )


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return problem_for(request.scope, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _without_null_branch(list(exc.errors()))
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(
            request.scope,
            400,
            "malformed_json",
            "The request body is not valid JSON.",
            title="Malformed JSON",
        )
    return error_response(
        request.scope,
        422,
        "validation_error",
        f"{len(errors)} field(s) failed validation.",
        title="Invalid input",
        errors=[
            {
                "loc": _loc(error.get("loc", ())),
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
            for error in errors
        ],
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request, said: str | None) -> str:
    """Every method some route serves at this path (Starlette names only the first route's);
    `HEAD` wherever `GET` is (app.core.middleware.HeadMiddleware), and `OPTIONS` everywhere.
    A mount (the docs' assets) serves any path below it and says itself what it allows
    (`said`)."""
    served = {method.strip().upper() for method in (said or "").split(",") if method.strip()}
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(
            not isinstance(route, Mount) and route.matches(scope)[0] is Match.FULL
            for route in request.app.router.routes
        ):
            served.add(method)
    if "GET" in served:
        served.add("HEAD")
    served.add("OPTIONS")
    return ", ".join(method for method in _METHODS if method in served)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request, headers.get("Allow"))
        if request.method == "OPTIONS":
            # No CORS preflight (CORSMiddleware answers those): what may be done here.
            return Response(status_code=204, headers=headers)
    code = _HTTP_CODES.get(
        exc.status_code, HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    )
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No such resource or route."
    return error_response(request.scope, exc.status_code, code, detail, headers=headers)


def unexpected_error(scope: Scope, exc: BaseException) -> Response:
    """The answer to an exception no `DomainError` handler took: 503 for a database fault
    (logged as a one-line warning), else a 500 (`internal_error`)."""
    fault = database_fault(exc)
    if fault is None:
        return internal_error(scope, exc)
    logger.warning(
        "%s on %s %s: %r",
        fault.instance_code,
        scope.get("method"),
        scope.get("path"),
        # The driver's message alone: SQLAlchemy's text adds the statement and parameters.
        getattr(exc, "orig", None) or exc,
        extra={"request_id": _request_id(scope)},
    )
    return problem_for(scope, fault)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    return unexpected_error(request.scope, exc)


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa_exc.SQLAlchemyError, _unexpected_error)
    # Reached only by what escapes RequestContextMiddleware, which answers every other
    # exception (from a middleware, say) itself with `unexpected_error` (app.core.middleware).
    app.add_exception_handler(Exception, _unexpected_error)
