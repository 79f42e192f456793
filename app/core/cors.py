"""CORS for the browser apps of the origins `OCOP_CORS_ORIGINS` names (none by default).

Starlette's `CORSMiddleware` does the work. Keys travel in `Authorization`, never in cookies, so
credentials mode stays off (and `*` is safe to allow: no ambient credential is exposed). A
preflight it refuses is answered as every other error is, as problem+json.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from app.core.errors import problem_response

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Request-ID",
)
"""Request headers a browser app may send, besides those always allowed (`Accept`,
`Accept-Language`, `Content-Language`, `Content-Type`)."""
EXPOSED_HEADERS = (
    "ETag",
    "Location",
    "X-Request-ID",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "Idempotent-Replayed",
    "Content-Disposition",
)
"""Answer headers a browser app may read, besides the CORS-safelisted ones."""
PREFLIGHT_MAX_AGE_S = 600


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, answering a refused preflight with problem+json (400)."""

    def __init__(self, app: ASGIApp, origins: Collection[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE_S,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-length", "content-type")
        }
        return problem_response(
            400,
            "cors_refused",
            f"This cross-origin request is not allowed (its {refused}); see OCOP_CORS_ORIGINS.",
            headers=headers,
        )
