"""OCTO's errors: `{"error": "INVALID_PRODUCT_ID", "errorMessage": "...", "productId": "..."}`.

OCTO answers every refused request with 400 and one of its error codes (some with the
offending value beside it); `OctoError` is raised for those this surface decides itself.
`render` is the error dialect installed for `/octo` (`app.core.errors.install_error_dialect`):
every other error under `/octo` (an invalid body, a missing key, a booking rule the services
refuse, a rate limit) is written in OCTO's form too, never as problem+json:

- an invalid body or query (`validation_error`, `malformed_json`, and the service refusals in
  `_BAD_REQUEST`): 400 `BAD_REQUEST`;
- no key: 400 `UNAUTHORIZED`; an unknown or revoked key, or one that is not a partner's: 400
  `FORBIDDEN`;
- any other refusal by the services (sold out, past the cut-off, too late to cancel): 400
  `UNPROCESSABLE_ENTITY`, the service's own detail as `errorMessage`;
- what is not a refusal of an OCTO operation keeps its HTTP status, so that clients and proxies
  act on it as HTTP says: a path or method OCTO does not have (404, 405 with `Allow`), a body
  over the limit (413), the rate limit (429 with `Retry-After`): `BAD_REQUEST`; a fault of the
  server (500, 503 with `Retry-After`): `INTERNAL_SERVER_ERROR`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse, Response

from app.core.errors import DomainError

CAPABILITIES_HEADER = "Octo-Capabilities"
CAPABILITIES: tuple[str, ...] = ()
"""The OCTO capabilities this surface supports: none beyond the core."""

INVALID_PRODUCT_ID = "INVALID_PRODUCT_ID"
INVALID_OPTION_ID = "INVALID_OPTION_ID"
INVALID_UNIT_ID = "INVALID_UNIT_ID"
INVALID_AVAILABILITY_ID = "INVALID_AVAILABILITY_ID"
INVALID_BOOKING_UUID = "INVALID_BOOKING_UUID"
BAD_REQUEST = "BAD_REQUEST"
UNPROCESSABLE_ENTITY = "UNPROCESSABLE_ENTITY"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
UNAUTHORIZED = "UNAUTHORIZED"
FORBIDDEN = "FORBIDDEN"
CODES = frozenset(
    {
        INVALID_PRODUCT_ID,
        INVALID_OPTION_ID,
        INVALID_UNIT_ID,
        INVALID_AVAILABILITY_ID,
        INVALID_BOOKING_UUID,
        BAD_REQUEST,
        UNPROCESSABLE_ENTITY,
        INTERNAL_SERVER_ERROR,
        UNAUTHORIZED,
        FORBIDDEN,
    }
)

# Refusals of the services that OCTO counts as a malformed request rather than a rule.
_BAD_REQUEST = frozenset(
    {"validation_error", "malformed_json", "invalid_range", "contact_required"}
)
_NOT_A_KEY = frozenset({"invalid_credentials", "revoked_key"})
# Statuses that are not refusals of an operation: kept, with their headers.
_KEPT = frozenset({404, 405, 406, 413, 429})


class OctoError(DomainError):
    """A refusal in OCTO's own terms (`code` one of `CODES`), with the offending value under
    the name OCTO gives it (`productId=...`)."""

    status, code, title = 400, BAD_REQUEST, "Bad request"


def capabilities_value() -> str:
    """The `Octo-Capabilities` answer header: the capabilities in use, comma-separated."""
    return ", ".join(CAPABILITIES)


def _error_code(status: int, code: str) -> str:
    if code in CODES:
        return code
    if status >= 500:
        return INTERNAL_SERVER_ERROR
    if status == 401:
        # OCTO: UNAUTHORIZED when no key was sent; FORBIDDEN for one that is not (or no
        # longer) a key.
        return FORBIDDEN if code in _NOT_A_KEY else UNAUTHORIZED
    if status == 403:
        return FORBIDDEN
    if code in _BAD_REQUEST or status == 400 or status in _KEPT:
        return BAD_REQUEST
    return UNPROCESSABLE_ENTITY


def _message(detail: str, extra: Mapping[str, Any]) -> str:
    """The detail, with each field a validation error names (OCTO has no list of them)."""
    errors = extra.get("errors")
    if not isinstance(errors, list) or not errors:
        return detail
    named = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        named.append(f"{'.'.join(loc) or 'request'}: {error.get('msg', '')}")
    return f"{detail} " + "; ".join(named)


def render(
    status: int, code: str, detail: str, headers: Mapping[str, str], extra: dict[str, Any]
) -> Response:
    """Write an error of any kind as OCTO does (see the module docstring)."""
    error = _error_code(status, code)
    kept = status >= 500 or status in _KEPT
    body: dict[str, Any] = {"error": error, "errorMessage": _message(detail, extra)}
    if code in CODES:
        body.update(extra)  # the offending value: `productId`, `unitId`, `uuid`...
    answer_headers = dict(headers) if kept else {}
    answer_headers[CAPABILITIES_HEADER] = capabilities_value()
    return JSONResponse(body, status_code=status if kept else 400, headers=answer_headers)
