"""Pure ASGI middleware: request ids and the access log, the request body limit, and HEAD.

Pure ASGI (not `BaseHTTPMiddleware`) so that a streamed body is never buffered, responses are
not wrapped in a task group, and the cost per request is a few function calls.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.errors import error_response, unexpected_error
from app.core.security import split_token

access_logger = logging.getLogger("app.access")

REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID_LENGTH = 200
UNMATCHED_ROUTE = "<unmatched>"


def valid_request_id(value: str | None) -> bool:
    """A caller's id is kept if it is 1..200 printable ASCII characters."""
    return (
        value is not None
        and 0 < len(value) <= MAX_REQUEST_ID_LENGTH
        and all(" " <= char <= "~" for char in value)
    )


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v1/owners/{owner_id}`), set by the router."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def _key_prefix(scope: Scope) -> str | None:
    """The key prefix of an authenticated request (the security dependency stores the
    principal in the request state only once the key checked out)."""
    state = scope.get("state") or {}
    if state.get("principal") is None:
        return None
    authorization = Headers(scope=scope).get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    parts = split_token(token.strip()) if scheme.lower() == "bearer" else None
    return parts[0] if parts is not None else None


class RequestContextMiddleware:
    """Gives each request an id (echoed as `X-Request-ID`), writes one access-log line and
    records the request metrics.

    It is also where an exception no handler took ends (one from a middleware inside, or a
    bug): answered here by `unexpected_error` (503 for a database fault, else a 500 logged once
    with its traceback), so that the answer passes through `send_with_id` and carries the id
    like any other, and the server has nothing left to log a second time. (Starlette's own
    last-resort handler sits outside every middleware and re-raises to the server after
    answering.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = given if given is not None and valid_request_id(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if response_started:
                raise  # too late to answer; the server logs it and drops the connection
            await unexpected_error(scope, exc)(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = route_template(scope)
            metrics.observe_request(scope["method"], route, status, duration)
            client = scope.get("client")
            fields: dict[str, Any] = {
                "request_id": request_id,
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round(duration * 1000, 2),
                "client": client[0] if client else None,
                "key_prefix": _key_prefix(scope),
            }
            access_logger.info("%s %s %d", scope["method"], route, status, extra={"http": fields})


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit; the error handlers turn
    it into a 413 problem."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413: at once when `Content-Length` says so,
    otherwise as soon as the streamed bytes pass the limit. The rest is never read into memory
    (the server discards what the client still sends).

    The limit is `max_bytes`, or the one `route_limits` gives an exact (method, path), for the
    few endpoints that take larger bodies (file uploads)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        route_limits: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.route_limits = dict(route_limits or {})

    def _limit(self, scope: Scope) -> int:
        return self.route_limits.get((scope["method"], scope["path"]), self.max_bytes)

    @staticmethod
    def _refusal(scope: Scope, limit: int) -> Response:
        return error_response(
            scope,
            413,
            "payload_too_large",
            f"The request body is larger than the limit of {limit} bytes.",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refusal(scope, limit)(scope, receive, send)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Read outside the exception handlers' reach (e.g. by another middleware).
            if response_started:
                raise
            await self._refusal(scope, limit)(scope, receive, send)


class HeadMiddleware:
    """Answers `HEAD` wherever `GET` is: the `GET` runs, and its status and headers are sent
    without its body (RFC 9110 section 9.3.2), so the two can never disagree and the OpenAPI
    document lists each operation once.

    Inside, the request is a `GET` in a copy of the scope: the server's own scope must keep
    saying `HEAD`, since the server reads it to know that no body follows the headers. What the
    routing learns in the copy (the route, for the access log and metrics) is copied back.
    Outside this middleware (rate limits, caching rules, the access log) the method is `HEAD`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        as_get = {**scope, "method": "GET"}

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.pathsend":
                await send({"type": "http.response.body", "body": b""})
            elif message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b""})

        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            scope.update((key, value) for key, value in as_get.items() if key != "method")
